"""Annual reports: which fiscal year, who writes, when it is published (pure)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import CheckConstraint, UniqueConstraint

from disclosure.annual.rules import (
    AnnualReportRefused,
    AnnualStatus,
    UnknownFiscalYear,
    check_editable,
    check_publishable,
    check_writer,
    fiscal_year,
    in_year,
)
from disclosure.db.models import metadata
from disclosure.funds.rules import Span, fiscal_years, settlement_periods
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden

YEARS = fiscal_years(formed_on=date(2026, 12, 10), term_months=24, fiscal_year_end_month=3)
YEAR = Span(2028, date(2027, 4, 1), date(2028, 3, 31))
DAY = timedelta(days=1)


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "kumiai")
BUSINESS = _principal(Role.MSME, "6f1c1a52-0000-4000-8000-00000000000a")


def test_the_statuses_and_one_report_a_year_are_held_by_the_database() -> None:
    table = metadata.tables["annual_reports"]
    check = next(
        c
        for c in table.constraints
        if isinstance(c, CheckConstraint) and str(c.name).endswith("status_known")
    )
    assert set(re.findall(r"'(\w+)'", str(check.sqltext))) == {s.value for s in AnnualStatus}
    unique = next(c for c in table.constraints if c.name == "uq_annual_reports_year")
    assert isinstance(unique, UniqueConstraint)
    assert [c.name for c in unique.columns] == ["fund_id", "fiscal_year"]


def test_a_fiscal_year_is_found_by_the_year_it_ends_in_or_not_found_with_the_years() -> None:
    assert [y.number for y in YEARS] == [2027, 2028, 2029]
    assert fiscal_year(YEARS, 2028) == YEAR
    assert fiscal_year(YEARS, 2029) == Span(2029, date(2028, 4, 1), date(2028, 12, 9))
    for number in (2026, 2030, 0):
        with pytest.raises(UnknownFiscalYear) as caught:
            fiscal_year(YEARS, number)
        assert caught.value.status == 404
        assert caught.value.problem == "unknown-fiscal-year"
        assert caught.value.extra["fiscal_years"] == [2027, 2028, 2029]
    with pytest.raises(UnknownFiscalYear) as none:
        fiscal_year((), 2027)
    assert none.value.extra["fiscal_years"] == []


def test_the_business_and_staff_write_the_annual_report() -> None:
    check_writer(STAFF, business=False)
    check_writer(BUSINESS, business=True)
    for role in (Role.MSME, Role.INVESTOR, Role.BANK, Role.MUNICIPALITY, Role.SERVICE):
        with pytest.raises(Forbidden):
            check_writer(_principal(role, "someone-else"), business=False)


def test_a_published_annual_report_is_final() -> None:
    check_editable(AnnualStatus.DRAFT)
    with pytest.raises(AnnualReportRefused) as caught:
        check_editable(AnnualStatus.PUBLISHED)
    assert caught.value.status == 409
    assert caught.value.problem == "annual-report-state"


def test_an_annual_report_is_published_after_its_year_with_the_books_confirmed_once() -> None:
    after = YEAR.ends_on + DAY
    check_publishable(YEAR, after, status=AnnualStatus.DRAFT, confirmed=True)
    check_publishable(YEAR, after + timedelta(days=400), status=AnnualStatus.DRAFT, confirmed=True)
    for today in (YEAR.starts_on, YEAR.ends_on - DAY, YEAR.ends_on):
        with pytest.raises(AnnualReportRefused) as early:
            check_publishable(YEAR, today, status=AnnualStatus.DRAFT, confirmed=True)
        assert "2028-03-31" in str(early.value.detail)
    with pytest.raises(AnnualReportRefused) as unconfirmed:
        check_publishable(YEAR, after, status=AnnualStatus.DRAFT, confirmed=False)
    assert "confirmation" in str(unconfirmed.value.detail)
    for confirmed in (True, False):
        with pytest.raises(AnnualReportRefused) as twice:
            check_publishable(YEAR, after, status=AnnualStatus.PUBLISHED, confirmed=confirmed)
        assert twice.value.status == 409
        assert "already published" in str(twice.value.detail)


def test_a_periods_sales_count_in_the_fiscal_year_its_last_day_falls_in() -> None:
    assert in_year(YEAR, YEAR.starts_on)
    assert in_year(YEAR, YEAR.ends_on)
    assert in_year(YEAR, date(2027, 9, 30))
    assert not in_year(YEAR, YEAR.starts_on - DAY)
    assert not in_year(YEAR, YEAR.ends_on + DAY)
    # Each settlement period of a half-yearly fund falls in exactly one fiscal year.
    periods = settlement_periods(
        formed_on=date(2026, 12, 10), term_months=24, fiscal_year_end_month=3, periods_per_year=2
    )
    owners = [[y.number for y in YEARS if in_year(y, p.ends_on)] for p in periods]
    assert owners == [[2027], [2028], [2028], [2029], [2029]]
