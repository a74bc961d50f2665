"""Business time in Japan: the past year of the limits, the end of the Nth day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.periods import JAPAN, end_of_nth_day, in_past_year, japan_date, one_year_before


def test_the_past_year_is_the_twelve_months_before() -> None:
    at = datetime(2027, 1, 1, 9, 0, tzinfo=JAPAN)
    assert in_past_year(datetime(2026, 12, 31, 9, 0, tzinfo=JAPAN), at=at)
    assert in_past_year(datetime(2026, 1, 1, 9, 0, 1, tzinfo=JAPAN), at=at)
    assert not in_past_year(datetime(2026, 1, 1, 9, 0, tzinfo=JAPAN), at=at)
    assert not in_past_year(at + timedelta(seconds=1), at=at)


def test_a_leap_day_goes_back_to_the_28th() -> None:
    assert one_year_before(datetime(2028, 2, 29, 12, tzinfo=JAPAN)) == datetime(
        2027, 2, 28, 12, tzinfo=JAPAN
    )


def test_cooling_off_ends_at_the_end_of_the_eighth_day_in_japan() -> None:
    # 1 December 23:30 in Japan is still 1 December: the 8th day is 8 December.
    signed = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert end_of_nth_day(signed, 8) == datetime(2026, 12, 9, 0, 0, tzinfo=JAPAN)
    # 15:30 UTC is already 2 December in Japan.
    assert end_of_nth_day(signed + timedelta(hours=1), 8) == datetime(2026, 12, 10, tzinfo=JAPAN)
    with pytest.raises(ValueError, match="at least the day"):
        end_of_nth_day(signed, 0)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    ),
    st.integers(min_value=1, max_value=60),
)
def test_the_nth_day_ends_at_japan_midnight_within_n_days(naive: datetime, days: int) -> None:
    start = naive.replace(tzinfo=UTC)
    end = end_of_nth_day(start, days)
    local = end.astimezone(JAPAN)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert timedelta(days=days - 1) < end - start <= timedelta(days=days)
    assert japan_date(end - timedelta(microseconds=1)) == japan_date(start) + timedelta(days - 1)
