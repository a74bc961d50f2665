"""What a deposit report must look like (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.deposits import (
    VALUE_DATE_DAYS_AHEAD,
    ImplausibleValueDate,
    check_value_date,
    value_date_window,
)

# 23:30 on 30 November in Japan: already 1 December there is half an hour away.
LATE_EVENING = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


def test_the_window_runs_from_a_year_ago_to_tomorrow_in_japan() -> None:
    assert VALUE_DATE_DAYS_AHEAD == 1
    assert value_date_window(LATE_EVENING) == (date(2025, 11, 30), date(2026, 12, 1))
    # Fifteen minutes later it is 1 December in Japan, though still 30 November in UTC.
    assert value_date_window(LATE_EVENING + timedelta(minutes=45))[1] == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("value_date", "message"),
    [(date(2026, 12, 2), "not received yet"), (date(2025, 11, 29), "more than a year ago")],
)
def test_implausible_value_dates_are_refused(value_date: date, message: str) -> None:
    with pytest.raises(ImplausibleValueDate, match=message):
        check_value_date(value_date, now=LATE_EVENING)


def test_leap_day_a_year_later() -> None:
    now = datetime(2029, 2, 28, 12, tzinfo=UTC)
    assert value_date_window(now)[0] == date(2028, 2, 28)


# Hypothesis takes naive bounds and attaches the time zone itself.
FIRST, LAST = datetime(2000, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001


@given(
    now=st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC)),
    offset=st.integers(-800, 800),
)
def test_a_value_date_is_accepted_exactly_inside_its_window(now: datetime, offset: int) -> None:
    earliest, latest = value_date_window(now)
    day = earliest + timedelta(days=offset)
    if earliest <= day <= latest:
        check_value_date(day, now=now)
    else:
        with pytest.raises(ImplausibleValueDate):
            check_value_date(day, now=now)
