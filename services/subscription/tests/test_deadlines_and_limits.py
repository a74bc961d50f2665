"""Cooling-off deadlines and the past-year window of the per-issuer limit (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.periods import JAPAN, in_past_year, japan_date, one_year_before
from subscription.domain.subscriptions import (
    LIVE_STATUSES,
    CancelRefused,
    SubscriptionStatus,
    check_investor_cancel,
    cooling_off_until,
    counts_towards_issuer_limit,
    deadlines,
    issuer_limit_window_start,
    within_issuer_limit,
)

# Hypothesis takes naive bounds and attaches the time zone itself.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instants)
def test_cooling_off_ends_at_japan_midnight_after_the_eighth_day(placed_at: datetime) -> None:
    until = cooling_off_until(placed_at, days=8)
    local = until.astimezone(JAPAN)
    assert local.time() == time(0, 0)
    assert timedelta(days=7) < until - placed_at <= timedelta(days=8)
    # The day of the contract is the first of the eight: the last moment is on its 8th day.
    last_day = japan_date(until - timedelta(microseconds=1))
    assert last_day == japan_date(placed_at) + timedelta(days=7)


def test_cooling_off_examples() -> None:
    # Signed at 23:59 on 1 December in Japan: cancellable until the end of 8 December.
    late = datetime(2026, 12, 1, 23, 59, tzinfo=JAPAN)
    assert cooling_off_until(late, days=8) == datetime(2026, 12, 9, tzinfo=JAPAN)
    # 15:30 UTC on 30 November is 00:30 on 1 December in Japan: the same period.
    utc = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert cooling_off_until(utc, days=8) == datetime(2026, 12, 9, tzinfo=JAPAN)
    # Across the year's end.
    eve = datetime(2026, 12, 31, 12, 0, tzinfo=JAPAN)
    assert cooling_off_until(eve, days=8) == datetime(2027, 1, 8, tzinfo=JAPAN)


@given(instants, st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=1)))
def test_a_test_period_replaces_the_calendar_rule(placed_at: datetime, period: timedelta) -> None:
    assert cooling_off_until(placed_at, days=8, test_period=period) == placed_at + period
    due = deadlines(
        placed_at,
        payment=timedelta(days=7),
        cooling_off_days=8,
        cooling_off_test_period=period,
    )
    assert due.payment == placed_at + timedelta(days=7)
    assert due.cooling_off_until == placed_at + period


def test_deadlines_use_the_calendar_rule_by_default() -> None:
    placed = datetime(2026, 12, 1, 10, 0, tzinfo=JAPAN)
    due = deadlines(placed, payment=timedelta(days=7), cooling_off_days=8)
    assert due.payment == placed + timedelta(days=7)
    assert due.cooling_off_until == datetime(2026, 12, 9, tzinfo=JAPAN)


@given(instants, instants)
def test_the_limit_window_is_the_shared_past_year(placed_at: datetime, at: datetime) -> None:
    counted = counts_towards_issuer_limit(SubscriptionStatus.CONFIRMED, placed_at, at=at)
    # The database counts every live subscription after the window's start.
    assert counted == (placed_at > issuer_limit_window_start(at))
    if placed_at <= at:
        assert counted == in_past_year(placed_at, at=at)


def test_the_calendar_year_no_longer_resets_the_limit() -> None:
    new_year = datetime(2027, 1, 1, 9, 0, tzinfo=JAPAN)
    new_years_eve = datetime(2026, 12, 31, 9, 0, tzinfo=JAPAN)
    a_year_ago = one_year_before(new_year)
    live = SubscriptionStatus.PLACED
    assert counts_towards_issuer_limit(live, new_years_eve, at=new_year)
    assert counts_towards_issuer_limit(live, a_year_ago + timedelta(seconds=1), at=new_year)
    assert not counts_towards_issuer_limit(live, a_year_ago, at=new_year)
    # A concurrent subscription stamped a moment later still counts.
    assert counts_towards_issuer_limit(live, new_year + timedelta(seconds=1), at=new_year)


@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_only_live_subscriptions_count(status: SubscriptionStatus) -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    assert counts_towards_issuer_limit(status, at - timedelta(days=1), at=at) == (
        status in LIVE_STATUSES
    )
    assert SubscriptionStatus.REFUNDED not in LIVE_STATUSES


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
)
def test_within_the_issuer_limit(committed: int, commitment: int, limit: int) -> None:
    assert within_issuer_limit(committed, commitment, limit) == (committed + commitment <= limit)
    assert within_issuer_limit(committed, commitment, 0)


def test_the_limit_is_inclusive() -> None:
    assert within_issuer_limit(400_000, 100_000, 500_000)
    assert not within_issuer_limit(400_001, 100_000, 500_000)


@pytest.mark.parametrize("status", [SubscriptionStatus.CANCELLED, SubscriptionStatus.REFUNDED])
def test_an_investor_cannot_cancel_what_is_no_longer_live(status: SubscriptionStatus) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(CancelRefused, match=f"already {status.value}"):
        check_investor_cancel(status, now + timedelta(days=1), now)


def test_an_investor_cancels_until_the_end_of_the_cooling_off_period() -> None:
    until = datetime(2026, 12, 9, tzinfo=JAPAN)
    check_investor_cancel(SubscriptionStatus.CONFIRMED, until, until - timedelta(microseconds=1))
    with pytest.raises(CancelRefused, match="cooling-off period ended"):
        check_investor_cancel(SubscriptionStatus.CONFIRMED, until, until)
