"""The rules of annual reports (pure; DOMAIN.md, rule 3).

After each fiscal year the business writes how it went and how the raised money was
spent; the report adds what the platform knows (the year's approved sales, the
distributions paid) and the accountant's or tax accountant's confirmation of the
books. Staff publish it to the fund's investors once the year is over; a published
report is final (a correction is a notice). The database holds
``uq_annual_reports_year`` (one per fund and fiscal year) and
``ck_annual_reports_status_known``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from disclosure.funds.rules import Span
from kumiai.principal import Principal
from kumiai.problems import Conflict, Forbidden, NotFound


class AnnualStatus(StrEnum):
    """Where an annual report stands; ``ck_annual_reports_status_known`` lists the same."""

    DRAFT = "draft"
    PUBLISHED = "published"


class UnknownFiscalYear(NotFound):
    problem = "unknown-fiscal-year"
    title = "The fund has no such fiscal year"


class AnnualReportRefused(Conflict):
    problem = "annual-report-state"
    title = "The annual report cannot be changed that way"


def fiscal_year(years: tuple[Span, ...], number: int) -> Span:
    """The fund's fiscal year ``number`` (the calendar year it ends in); 404 otherwise."""
    for span in years:
        if span.number == number:
            return span
    raise UnknownFiscalYear(
        f"the fund has no fiscal year {number}", fiscal_years=[s.number for s in years]
    )


def check_writer(principal: Principal, *, business: bool) -> None:
    """The business writes its sections; staff may too."""
    if not (principal.is_staff() or business):
        raise Forbidden("only staff and the fund's business write its annual report")


def check_editable(status: AnnualStatus) -> None:
    """A published report is final."""
    if status is AnnualStatus.PUBLISHED:
        raise AnnualReportRefused("the annual report is published; publish a notice instead")


def check_publishable(span: Span, today: date, *, status: AnnualStatus, confirmed: bool) -> None:
    """Published once the fiscal year is over, with the books confirmed, and only once."""
    if status is AnnualStatus.PUBLISHED:
        raise AnnualReportRefused("the annual report is already published")
    if span.ends_on >= today:
        raise AnnualReportRefused(f"the fiscal year ends on {span.ends_on.isoformat()}")
    if not confirmed:
        raise AnnualReportRefused("the books' confirmation by an accountant is missing")


def in_year(span: Span, period_end: date) -> bool:
    """A settlement period's sales count in the fiscal year its last day falls in."""
    return span.starts_on <= period_end <= span.ends_on
