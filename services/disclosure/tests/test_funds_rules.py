"""A fund's calendar of reports (settlement periods, fiscal years) and who acts for it (pure)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from disclosure.db.models import metadata
from disclosure.funds.rules import (
    FundOutcome,
    Span,
    add_months,
    fiscal_years,
    is_business_of,
    month_end,
    period_end_months,
    settlement_periods,
    term_end,
)
from kumiai.principal import Principal, Role

MSME_ID = uuid.UUID("6f1c1a52-0000-4000-8000-00000000000a")

formation_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
terms = st.integers(min_value=1, max_value=600)
end_months = st.integers(min_value=1, max_value=12)
periods_per_year = st.integers(min_value=1, max_value=2)


def _is_month_end(day: date) -> bool:
    return day == month_end(day.year, day.month)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _check_calendar(spans: tuple[Span, ...], formed_on: date, term_months: int) -> None:
    """What settlement periods and fiscal years share: from formation to the term's end,
    without gap or overlap."""
    assert spans, "a fund lives in at least one span"
    assert spans[0].starts_on == formed_on
    assert spans[-1].ends_on == term_end(formed_on, term_months)
    for span in spans:
        assert span.starts_on <= span.ends_on
    for before, after in pairwise(spans):
        assert after.starts_on == before.ends_on + timedelta(days=1)


# -- add_months and the term ---------------------------------------------------------------


def test_a_day_the_month_lacks_becomes_its_last() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 31), 1) == date(2027, 4, 30)
    assert add_months(date(2027, 1, 15), 1) == date(2027, 2, 15)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2027, 12, 10), 0) == date(2027, 12, 10)


@given(formation_dates, st.integers(min_value=-1200, max_value=1200))
def test_add_months_moves_whole_calendar_months(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert _month_index(moved) == _month_index(day) + months
    assert moved.day == min(day.day, month_end(moved.year, moved.month).day)


def test_the_term_ends_the_day_before_its_months_are_over() -> None:
    assert term_end(date(2026, 12, 10), 24) == date(2028, 12, 9)
    assert term_end(date(2026, 4, 1), 12) == date(2027, 3, 31)
    assert term_end(date(2027, 3, 31), 12) == date(2028, 3, 30)


def test_a_term_whose_last_month_lacks_the_day_ends_on_that_months_last_day() -> None:
    # Civil Code art. 143: no corresponding day, so the term ends with the month.
    assert term_end(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert term_end(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert term_end(date(2027, 1, 30), 1) == date(2027, 2, 28)
    assert term_end(date(2027, 1, 28), 1) == date(2027, 2, 27)


# -- settlement periods --------------------------------------------------------------------


def test_a_fund_formed_in_december_reports_five_half_years_over_two_years() -> None:
    periods = settlement_periods(
        formed_on=date(2026, 12, 10), term_months=24, fiscal_year_end_month=3, periods_per_year=2
    )
    assert periods == (
        Span(1, date(2026, 12, 10), date(2027, 3, 31)),
        Span(2, date(2027, 4, 1), date(2027, 9, 30)),
        Span(3, date(2027, 10, 1), date(2028, 3, 31)),
        Span(4, date(2028, 4, 1), date(2028, 9, 30)),
        Span(5, date(2028, 10, 1), date(2028, 12, 9)),
    )


def test_a_fund_formed_on_a_period_end_does_not_report_a_one_day_period() -> None:
    periods = settlement_periods(
        formed_on=date(2027, 3, 31), term_months=36, fiscal_year_end_month=3, periods_per_year=1
    )
    assert periods[0] == Span(1, date(2027, 3, 31), date(2028, 3, 31))
    assert periods[1] == Span(2, date(2028, 4, 1), date(2029, 3, 31))
    assert periods[2:] == (Span(3, date(2029, 4, 1), date(2030, 3, 30)),)
    half_yearly = settlement_periods(
        formed_on=date(2027, 9, 30), term_months=12, fiscal_year_end_month=3, periods_per_year=2
    )
    assert half_yearly[0] == Span(1, date(2027, 9, 30), date(2028, 3, 31))


def test_half_yearly_periods_end_six_months_apart() -> None:
    assert period_end_months(3, 1) == (3,)
    assert period_end_months(3, 2) == (3, 9)
    assert period_end_months(12, 2) == (6, 12)
    assert period_end_months(6, 2) == (6, 12)
    assert period_end_months(7, 2) == (1, 7)
    for month in range(1, 13):
        first, second = period_end_months(month, 2)
        assert second - first == 6
        assert month in (first, second)


@given(formation_dates, terms, end_months, periods_per_year)
@example(date(2027, 2, 28), 24, 8, 2)
@example(date(2027, 2, 28), 24, 2, 1)
@example(date(2027, 3, 31), 1, 3, 1)
@example(date(2027, 1, 31), 1, 2, 1)
def test_settlement_periods_cover_the_term_in_numbered_contiguous_periods(
    formed_on: date, term_months: int, fiscal_year_end_month: int, per_year: int
) -> None:
    periods = settlement_periods(
        formed_on=formed_on,
        term_months=term_months,
        fiscal_year_end_month=fiscal_year_end_month,
        periods_per_year=per_year,
    )
    _check_calendar(periods, formed_on, term_months)
    assert [p.number for p in periods] == list(range(1, len(periods) + 1))
    ends = period_end_months(fiscal_year_end_month, per_year)
    for period in periods[:-1]:
        assert _is_month_end(period.ends_on)
        assert period.ends_on.month in ends
    step = 12 // per_year
    for period in periods:
        # The stated bound: no period runs longer than a regular one and a month.
        assert period.ends_on < add_months(period.starts_on, step + 1)
        # The actual bound: a period ends at the latest in the month a regular period
        # after the month it starts in; only a first period that starts on a period end
        # reaches that month (it runs a regular period and a day, or up to three days more
        # from the end of a February).
        months = _month_index(period.ends_on) - _month_index(period.starts_on)
        assert months <= step
        if months == step:
            assert period.number == 1
            assert _is_month_end(formed_on)
            assert formed_on.month in ends
    for period in periods[1:]:
        # Every later period starts on the first of a month and, but for the last, runs
        # exactly a regular period.
        assert period.starts_on.day == 1
        if period is not periods[-1]:
            assert period.ends_on == add_months(period.starts_on, step) - timedelta(days=1)
    assert periods[0].ends_on > periods[0].starts_on, "never a one-day first period"


# -- fiscal years --------------------------------------------------------------------------


def test_fiscal_years_are_called_by_the_calendar_year_they_end_in() -> None:
    years = fiscal_years(formed_on=date(2026, 12, 10), term_months=24, fiscal_year_end_month=3)
    assert years == (
        Span(2027, date(2026, 12, 10), date(2027, 3, 31)),
        Span(2028, date(2027, 4, 1), date(2028, 3, 31)),
        Span(2029, date(2028, 4, 1), date(2028, 12, 9)),
    )
    december = fiscal_years(formed_on=date(2027, 12, 31), term_months=12, fiscal_year_end_month=12)
    assert december == (Span(2028, date(2027, 12, 31), date(2028, 12, 30)),)


@given(formation_dates, terms, end_months, periods_per_year)
@example(date(2027, 3, 31), 12, 3, 1)
@example(date(2027, 12, 31), 1, 12, 2)
def test_fiscal_years_cover_the_term_numbered_by_the_year_they_end_in(
    formed_on: date, term_months: int, fiscal_year_end_month: int, per_year: int
) -> None:
    years = fiscal_years(
        formed_on=formed_on, term_months=term_months, fiscal_year_end_month=fiscal_year_end_month
    )
    _check_calendar(years, formed_on, term_months)
    numbers = [y.number for y in years]
    assert numbers == sorted(set(numbers)), "strictly increasing"
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    for year in years[:-1]:
        assert year.ends_on == month_end(year.number, fiscal_year_end_month)
    # The last may end early with the term, in the fiscal year that ends after it.
    last = years[-1]
    assert month_end(last.number - 1, fiscal_year_end_month) < last.ends_on
    assert last.ends_on <= month_end(last.number, fiscal_year_end_month)
    for year in years:
        assert year.ends_on < add_months(year.starts_on, 13)
    # Each fiscal year is made of whole settlement periods.
    periods = settlement_periods(
        formed_on=formed_on,
        term_months=term_months,
        fiscal_year_end_month=fiscal_year_end_month,
        periods_per_year=per_year,
    )
    assert {y.ends_on for y in years} <= {p.ends_on for p in periods}
    assert {y.starts_on for y in years} <= {p.starts_on for p in periods}


# -- the fund's outcome and its business ---------------------------------------------------


def test_the_outcomes_are_the_ones_the_database_accepts() -> None:
    constraint = next(
        c
        for c in metadata.tables["funds"].constraints
        if isinstance(c, CheckConstraint) and str(c.name).endswith("outcome_known")
    )
    assert set(re.findall(r"'(\w+)'", str(constraint.sqltext))) == {o.value for o in FundOutcome}


def test_only_the_funds_own_business_acts_for_it() -> None:
    tenant = str(MSME_ID)
    assert is_business_of(Principal(subject="m", role=Role.MSME, tenant=tenant), MSME_ID)
    other = str(uuid.uuid4())
    assert not is_business_of(Principal(subject="m", role=Role.MSME, tenant=other), MSME_ID)
    assert not is_business_of(Principal(subject="m", role=Role.MSME, tenant=tenant), None)
    assert not is_business_of(Principal(subject="m", role=Role.MSME, tenant="None"), None)
    for role in set(Role) - {Role.MSME}:
        assert not is_business_of(Principal(subject="x", role=role, tenant=tenant), MSME_ID)
