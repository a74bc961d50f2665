"""When a report is due and when it is overdue (pure)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from disclosure.db.models import metadata
from disclosure.deadlines.rules import DeadlineStatus, DueMonths, due_at, due_on, is_overdue
from disclosure.funds.rules import add_months, month_end
from kumiai.periods import JAPAN

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2150, 12, 31))
months = st.integers(min_value=0, max_value=24)


def test_a_period_ending_on_a_month_end_is_due_on_a_month_end() -> None:
    assert due_on(date(2025, 3, 31), 2) == date(2025, 5, 31)
    assert due_on(date(2025, 9, 30), 2) == date(2025, 11, 30)
    assert due_on(date(2024, 12, 31), 2) == date(2025, 2, 28)
    assert due_on(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert due_on(date(2025, 2, 28), 3) == date(2025, 5, 31)
    assert due_on(date(2025, 3, 31), 3) == date(2025, 6, 30)


def test_a_period_ending_with_the_term_mid_month_is_due_on_the_same_day_later() -> None:
    assert due_on(date(2028, 12, 9), 2) == date(2029, 2, 9)
    assert due_on(date(2025, 12, 30), 2) == date(2026, 2, 28)
    assert due_on(date(2024, 2, 28), 3) == date(2024, 5, 28), "not a month end in a leap year"


@given(days, months)
def test_a_report_is_due_the_given_months_after_its_period(covers_to: date, later: int) -> None:
    due = due_on(covers_to, later)
    assert (due.year * 12 + due.month) - (covers_to.year * 12 + covers_to.month) == later
    if covers_to == month_end(covers_to.year, covers_to.month):
        assert due == month_end(due.year, due.month)
    else:
        assert due == add_months(covers_to, later)
    assert due >= covers_to


def test_the_default_due_months_are_two_for_sales_and_three_for_annual_reports() -> None:
    assert DueMonths() == DueMonths(sales_report=2, annual_report=3)


def test_a_report_is_due_until_midnight_in_japan() -> None:
    at = due_at(date(2025, 5, 31))
    assert at == datetime(2025, 6, 1, 0, 0, tzinfo=JAPAN)
    assert at == datetime(2025, 5, 31, 15, 0, tzinfo=UTC)
    assert at.utcoffset() == timedelta(hours=9)


@given(days)
def test_the_due_instant_is_the_start_of_the_next_day_in_japan(day: date) -> None:
    at = due_at(day)
    assert at.astimezone(JAPAN).date() == day + timedelta(days=1)
    assert at.astimezone(JAPAN).time() == datetime.min.time()
    assert at.astimezone(UTC) == datetime.combine(day, datetime.min.time(), UTC) + timedelta(
        hours=15
    )


def test_only_an_open_deadline_is_overdue_once_its_instant_has_come() -> None:
    deadline = due_at(date(2025, 5, 31))
    second = timedelta(seconds=1)
    assert not is_overdue(DeadlineStatus.OPEN, deadline, deadline - second)
    assert is_overdue(DeadlineStatus.OPEN, deadline, deadline)
    assert is_overdue(DeadlineStatus.OPEN, deadline, deadline + second)
    last_minute = datetime(2025, 5, 31, 23, 59, tzinfo=JAPAN)
    assert not is_overdue(DeadlineStatus.OPEN, deadline, last_minute)
    for status in (DeadlineStatus.MET, DeadlineStatus.OVERDUE):
        for now in (deadline - second, deadline, deadline + timedelta(days=365)):
            assert not is_overdue(status, deadline, now)


@given(
    st.sampled_from(DeadlineStatus),
    days,
    st.integers(min_value=-3 * 86_400, max_value=3 * 86_400),
)
def test_a_deadline_is_overdue_exactly_when_open_and_due(
    status: DeadlineStatus, day: date, offset: int
) -> None:
    deadline = due_at(day)
    now = deadline + timedelta(seconds=offset)
    assert is_overdue(status, deadline, now) == (status is DeadlineStatus.OPEN and offset >= 0)


def test_the_statuses_are_the_ones_the_database_accepts() -> None:
    constraint = next(
        c
        for c in metadata.tables["deadlines"].constraints
        if isinstance(c, CheckConstraint) and str(c.name).endswith("status_known")
    )
    text = str(constraint.sqltext)
    assert set(re.findall(r"'(\w+)'", text)) == {s.value for s in DeadlineStatus}
