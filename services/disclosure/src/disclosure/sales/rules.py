"""The rules of sales reports (pure): what a business reports per settlement period, how
staff review it, and who sees it.

Once a settlement period of its fund is over (in Japan), the business (or staff for it)
reports the period's sales excluding consumption tax, in yen, with an optional breakdown
that adds up to them and an optional signed adjustment of earlier periods' sales (with a
reason). A certified public accountant or a certified tax accountant confirms the
figures, on a day after the period ended and not in the future; the confirmation gets
an id of its own. Supporting files and the signed confirmation are added while the
report is submitted. Staff approve a report that carries a confirmation file, or return
it with a reason; a returned report may be followed by a new one for the same period.
An approved report is final: it is announced once (``SalesReported``), meets its
deadline and is published to the fund's investors. The fund's cumulative sales (every
approved period's sales plus adjustment) never go below zero.

Refusals, each a problem type declared here: a fund that did not form (422
``fund-not-formed``) and a period number the fund does not have (422 ``unknown-period``)
are faults of what was sent, so both are 422 rather than 404, which is kept for a fund
or report the caller may not see. A period still running is 409 ``period-not-ended`` (the
same request succeeds once it is over); a second live report is 409 ``report-exists``.

The database holds some of these too (``disclosure.db.models.SalesReport``):
``ck_sales_reports_status_known``, ``ck_sales_reports_sales_not_negative``,
``ck_sales_reports_period_positive``, ``ck_sales_reports_adjustment_reasoned`` and
``uq_sales_reports_live_period``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from disclosure.documents.layout import yen
from disclosure.funds.rules import FundOutcome, Span, has_ended, is_business_of
from kumiai.files import CSV, JPEG, PDF, PNG, XLSX, accept
from kumiai.inputs import MAX_AMOUNT
from kumiai.principal import Principal
from kumiai.problems import Conflict, Forbidden, NotFound, UnprocessableContent


class ReportStatus(StrEnum):
    """Where a sales report stands; ``ck_sales_reports_status_known`` lists the same."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


LIVE = frozenset({ReportStatus.SUBMITTED, ReportStatus.APPROVED})
"""Statuses that hold their period: ``uq_sales_reports_live_period`` covers the same rows."""


class ConfirmerKind(StrEnum):
    """Who confirmed the figures."""

    ACCOUNTANT = "accountant"
    TAX_ACCOUNTANT = "tax_accountant"


CONFIRMER_NAMES: dict[ConfirmerKind, tuple[str, str]] = {
    ConfirmerKind.ACCOUNTANT: ("公認会計士", "Certified public accountant"),
    ConfirmerKind.TAX_ACCOUNTANT: ("税理士", "Certified tax accountant"),
}
"""Each kind of confirmer in Japanese and English."""

REGISTRATION_NUMBER = r"^[0-9]{1,10}$"
"""A confirmer's registration number as the register writes it, digits only (1 to 10,
leading zeros kept; "第" and "号" left out): CPA and tax accountant numbers are at most
six digits today, the margin allows for growth."""

_REGISTRATION = re.compile(REGISTRATION_NUMBER)


class FilePurpose(StrEnum):
    """What a file of a report is; ``ck_sales_report_files_purpose_known`` lists the same."""

    SUPPORTING = "supporting"
    CONFIRMATION = "confirmation"
    """The accountant's signed confirmation of the figures."""


FILE_TYPES: frozenset[str] = accept(PDF, JPEG, PNG, CSV, XLSX)
"""What a report's files may be: PDFs, scans and spreadsheets, checked on their content."""

MIN_REASON = 3


# -- problems ----------------------------------------------------------------------------


class UnknownReport(NotFound):
    """The report does not exist, or the caller may not see it (``may_read``)."""

    problem = "unknown-sales-report"
    title = "No such sales report"


class FundNotFormed(UnprocessableContent):
    problem = "fund-not-formed"
    title = "The fund has not formed, so it has no settlement periods"


class UnknownPeriod(UnprocessableContent):
    problem = "unknown-period"
    title = "The fund has no such settlement period"


class PeriodNotEnded(Conflict):
    problem = "period-not-ended"
    title = "The settlement period has not ended yet"


class ReportExists(Conflict):
    problem = "report-exists"
    title = "The period already has a submitted or approved report"


class ReportRefused(Conflict):
    problem = "sales-report-state"
    title = "The sales report is not in a state that allows this"


class ConfirmationMissing(ReportRefused):
    problem = "confirmation-file-missing"
    title = "The report has no confirmation file"


class CumulativeSalesNegative(UnprocessableContent):
    problem = "cumulative-sales-negative"
    title = "The adjustment would make the fund's cumulative sales negative"


def _invalid(name: str, reason: str) -> list[dict[str, str]]:
    return [{"name": name, "reason": reason}]


# -- the period --------------------------------------------------------------------------


def check_formed(outcome: FundOutcome | None) -> None:
    """Only a fund that formed has settlement periods to report on."""
    if outcome is not FundOutcome.FORMED:
        state = "still offering" if outcome is None else outcome.value
        raise FundNotFormed(f"the fund is {state}")


def period_of(periods: Sequence[Span], number: int) -> Span:
    """The settlement period numbered ``number``; 422 naming how many the fund has."""
    for span in periods:
        if span.number == number:
            return span
    raise UnknownPeriod(
        f"the fund has {len(periods)} settlement periods; there is no period {number}",
        periods=len(periods),
        invalid_params=_invalid("body.period_number", f"1 to {len(periods)}"),
    )


def check_period_ended(period: Span, today: date) -> None:
    """A period is reported once its last day is over in Japan (``funds.rules.has_ended``)."""
    if not has_ended(period, today):
        raise PeriodNotEnded(
            f"period {period.number} ends on {period.ends_on.isoformat()}; "
            "report it from the next day",
            ends_on=period.ends_on.isoformat(),
        )


# -- the figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a breakdown of a period's sales."""

    label: str
    amount: int


def check_breakdown(sales: int, breakdown: Sequence[Line] | None) -> None:
    """A breakdown, if given, adds up to the period's sales exactly."""
    if breakdown is None:
        return
    total = sum(line.amount for line in breakdown)
    if total != sales:
        raise UnprocessableContent(
            f"the breakdown adds up to {total}, not to the sales of {sales}",
            invalid_params=_invalid("body.breakdown", "the amounts must add up to sales"),
        )


def check_adjustment(period_number: int, adjustment: int, reason: str | None) -> str | None:
    """An adjustment corrects earlier periods' sales: at most 10^12 either way, none in the
    first period (there is nothing earlier), and it says why (3 characters or more);
    ``ck_sales_reports_adjustment_reasoned`` holds the last. Returns the reason kept (none
    without an adjustment)."""
    if adjustment == 0:
        return None
    if abs(adjustment) > MAX_AMOUNT:
        raise UnprocessableContent(
            "the adjustment is out of range",
            invalid_params=_invalid("body.adjustment", f"at most {MAX_AMOUNT} either way"),
        )
    if period_number == 1:
        raise UnprocessableContent(
            "the first period has no earlier periods to adjust",
            invalid_params=_invalid("body.adjustment", "0 in the first period"),
        )
    if reason is None or len(reason.strip()) < MIN_REASON:
        raise UnprocessableContent(
            "an adjustment of earlier periods says why",
            invalid_params=_invalid(
                "body.adjustment_reason", f"required ({MIN_REASON} characters or more)"
            ),
        )
    return reason.strip()


def cumulative_sales(figures: Iterable[tuple[int, int]]) -> int:
    """The fund's cumulative sales: the sum of every period's ``sales + adjustment``."""
    return sum(sales + adjustment for sales, adjustment in figures)


def check_cumulative(approved: Iterable[tuple[int, int]], sales: int, adjustment: int) -> int:
    """The cumulative sales with this report counted never go below zero; returns them.

    ``approved`` are the (sales, adjustment) of the fund's approved reports. Checked when a
    report is submitted and again when it is approved (others may have been approved in
    between).
    """
    total = cumulative_sales([*approved, (sales, adjustment)])
    if total < 0:
        raise CumulativeSalesNegative(
            f"the fund's cumulative sales would be {total}",
            invalid_params=_invalid("body.adjustment", "cumulative sales must stay 0 or more"),
        )
    return total


def check_confirmation(
    confirmed_on: date, registration_number: str, *, period: Span, today: date
) -> None:
    """The figures are confirmed after the period ended (the day after its last day at the
    earliest), not in the future, by a registration number of digits (``REGISTRATION_NUMBER``)."""
    if not _REGISTRATION.fullmatch(registration_number):
        raise UnprocessableContent(
            "the registration number is digits only",
            invalid_params=_invalid("body.registration_number", "1 to 10 digits"),
        )
    if confirmed_on > today:
        raise UnprocessableContent(
            "the confirmation is dated in the future",
            invalid_params=_invalid("body.confirmed_on", f"on or before {today.isoformat()}"),
        )
    if confirmed_on <= period.ends_on:
        raise UnprocessableContent(
            "the figures were confirmed before the period ended",
            invalid_params=_invalid(
                "body.confirmed_on", f"after {period.ends_on.isoformat()}, the period's last day"
            ),
        )


def check_no_other_report(live: ReportStatus | None, period_number: int) -> None:
    """One live (submitted or approved) report per fund and period; after a return the
    business may report again. ``uq_sales_reports_live_period`` holds it against a race."""
    if live is not None:
        raise ReportExists(f"period {period_number} already has a {live.value} report")


# -- review ------------------------------------------------------------------------------


def check_reviewer(principal: Principal) -> None:
    """Only staff approve or return a report."""
    if not principal.is_staff():
        raise Forbidden("only staff review sales reports")


def check_files_open(status: ReportStatus) -> None:
    """Files are added only while the report is submitted: an approved one never changes."""
    if status is not ReportStatus.SUBMITTED:
        raise ReportRefused(f"the report is {status.value}; files are added while submitted")


def check_approval(status: ReportStatus, *, has_confirmation: bool) -> bool:
    """Whether approving changes anything: a submitted report with a confirmation file is
    approved (True); an approved one again is a retry and changes nothing (False)."""
    if status is ReportStatus.APPROVED:
        return False
    if status is not ReportStatus.SUBMITTED:
        raise ReportRefused(f"a {status.value} report cannot be approved")
    if not has_confirmation:
        raise ConfirmationMissing("add the accountant's signed confirmation before approval")
    return True


def check_return(status: ReportStatus, reason: str | None) -> str | None:
    """A submitted report goes back to the business with a reason (3 characters or more);
    a returned one again is a retry. Returns the reason to keep, or None for a retry."""
    if status is ReportStatus.RETURNED:
        return None
    if status is not ReportStatus.SUBMITTED:
        raise ReportRefused(f"a {status.value} report cannot be returned")
    if reason is None or len(reason.strip()) < MIN_REASON:
        raise UnprocessableContent(
            "to return a report, say why",
            invalid_params=_invalid("body.reason", f"required ({MIN_REASON} characters or more)"),
        )
    return reason.strip()


def has_confirmation(purposes: Iterable[FilePurpose]) -> bool:
    return FilePurpose.CONFIRMATION in set(purposes)


# -- who sees what -----------------------------------------------------------------------


def may_read(principal: Principal, msme_id: UUID | None) -> bool:
    """Sales reports, their files and the confirmer's name belong to the fund's business and
    staff; anyone else is told they do not exist."""
    return principal.is_staff() or is_business_of(principal, msme_id)


# -- what investors are told -------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What an approved report says, as published to the fund's investors (no person named)."""

    report_id: UUID
    period: Span
    sales: int
    breakdown: tuple[Line, ...]
    adjustment: int
    adjustment_reason: str | None
    cumulative: int
    confirmer_kind: ConfirmerKind
    confirmed_on: date
    confirmation_id: UUID


def document_title(period_number: int) -> str:
    return f"売上報告 第{period_number}期 / Sales report, period {period_number}"


def document_body(figures: Figures) -> str:
    """A short bilingual summary of the approved figures, in plain text."""
    period = figures.period
    kind_ja, kind_en = CONFIRMER_NAMES[figures.confirmer_kind]
    lines = [
        document_title(period.number),
        f"対象期間 / Period: {period.starts_on.isoformat()} 〜 {period.ends_on.isoformat()}",
        f"売上高 (税抜) / Sales (excluding consumption tax): {yen(figures.sales)}",
    ]
    if figures.breakdown:
        lines.append("内訳 / Breakdown:")
        lines += [f"  {line.label}: {yen(line.amount)}" for line in figures.breakdown]
    if figures.adjustment:
        lines.append(f"過年度修正 / Adjustment of earlier periods: {yen(figures.adjustment)}")
        lines.append(f"  理由 / Reason: {figures.adjustment_reason or ''}")
    lines += [
        f"累計売上高 / Cumulative sales: {yen(figures.cumulative)}",
        f"確認 / Confirmed by: {kind_ja} / {kind_en}, {figures.confirmed_on.isoformat()}",
    ]
    return "\n".join(lines) + "\n"


def document_data(figures: Figures) -> dict[str, Any]:
    """The figures as JSON, kept with the published document."""
    return {
        "report_id": str(figures.report_id),
        "period_number": figures.period.number,
        "period_start": figures.period.starts_on.isoformat(),
        "period_end": figures.period.ends_on.isoformat(),
        "currency": "JPY",
        "sales": figures.sales,
        "breakdown": [{"label": line.label, "amount": line.amount} for line in figures.breakdown],
        "adjustment": figures.adjustment,
        "adjustment_reason": figures.adjustment_reason,
        "cumulative_sales": figures.cumulative,
        "confirmer_kind": figures.confirmer_kind.value,
        "confirmed_on": figures.confirmed_on.isoformat(),
        "confirmation_id": str(figures.confirmation_id),
    }
