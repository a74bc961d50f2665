"""Business time in Japan: the past year of the limits, the end of the Nth day, the
government fiscal year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.periods import (
    JAPAN,
    end_of_nth_day,
    government_fiscal_year,
    government_fiscal_year_bounds,
    in_past_year,
    japan_date,
    one_year_before,
)


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


def test_the_fiscal_year_turns_at_midnight_on_1_april_in_japan() -> None:
    last_half_hour = datetime(2016, 3, 31, 23, 30, tzinfo=JAPAN)
    first_half_hour = datetime(2016, 4, 1, 0, 30, tzinfo=JAPAN)
    assert government_fiscal_year(last_half_hour) == 2015
    assert government_fiscal_year(first_half_hour) == 2016
    # The same instants in UTC are both on 31 March (14:30 and 15:30): the year follows Japan.
    assert government_fiscal_year(datetime(2016, 3, 31, 14, 30, tzinfo=UTC)) == 2015
    assert government_fiscal_year(datetime(2016, 3, 31, 15, 30, tzinfo=UTC)) == 2016
    assert datetime(2016, 3, 31, 15, 30, tzinfo=UTC) == first_half_hour
    # As a caller writes them.
    assert government_fiscal_year(datetime.fromisoformat("2016-03-31T23:30+09:00")) == 2015
    assert government_fiscal_year(datetime.fromisoformat("2016-04-01T00:30+09:00")) == 2016
    assert government_fiscal_year(datetime.fromisoformat("2016-03-31T14:30Z")) == 2015
    assert government_fiscal_year(datetime.fromisoformat("2016-03-31T15:30Z")) == 2016
    # The very edges.
    assert government_fiscal_year(datetime(2016, 4, 1, tzinfo=JAPAN)) == 2016
    assert (
        government_fiscal_year(datetime(2016, 4, 1, tzinfo=JAPAN) - timedelta(microseconds=1))
        == 2015
    )
    # January to March belong to the year that began the April before.
    assert government_fiscal_year(datetime(2016, 1, 1, tzinfo=JAPAN)) == 2015
    assert government_fiscal_year(datetime(2015, 12, 31, 15, 0, tzinfo=UTC)) == 2015


def test_the_fiscal_year_of_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        government_fiscal_year(datetime(2016, 3, 31, 23, 30))  # noqa: DTZ001 - the point


def test_fiscal_year_2015_runs_from_1_april_2015_to_1_april_2016_in_japan() -> None:
    start, end = government_fiscal_year_bounds(2015)
    assert start == datetime(2015, 3, 31, 15, 0, tzinfo=UTC)
    assert end == datetime(2016, 3, 31, 15, 0, tzinfo=UTC)
    assert (start.tzinfo, end.tzinfo) == (JAPAN, JAPAN)
    assert government_fiscal_year_bounds(2016)[0] == end


ZONES = [UTC, JAPAN, ZoneInfo("America/New_York"), timezone(timedelta(hours=-12))]


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from(ZONES),
    )
)
def test_every_instant_falls_in_exactly_the_fiscal_year_whose_bounds_hold_it(
    at: datetime,
) -> None:
    year = government_fiscal_year(at)
    containing = [
        y
        for y in (year - 1, year, year + 1)
        if government_fiscal_year_bounds(y)[0] <= at < government_fiscal_year_bounds(y)[1]
    ]
    assert containing == [year]
    assert government_fiscal_year(at.astimezone(UTC)) == year
