"""The rules of subscribing: eligibility and every limit, the cooling-off and payment
deadlines, the past-year window of the per-issuer limit, cancelling, paying, expiring and
refunding a failed fund, and who reads a subscription (pure)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from kumiai.contracts.ledger import RefundReason
from kumiai.contracts.subscription import CancellationReason
from kumiai.periods import JAPAN, in_past_year, japan_date, one_year_before
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from subscription.db.models import metadata
from subscription.investors.rules import InvestorNotFound, Standing, VerificationStatus
from subscription.offerings.rules import OfferingStatus
from subscription.subscriptions.rules import (
    LIVE_STATUSES,
    CancelNotAllowed,
    IllegalTransition,
    NotEligible,
    OfferingNotOpen,
    Order,
    OverLimit,
    SoldOut,
    SubscriptionNotFound,
    SubscriptionStatus,
    cancellation_reason,
    check_eligible,
    check_investor_cancel,
    check_investor_limit,
    check_issuer_limit,
    check_my_page,
    check_offering_open,
    check_payment,
    check_terms,
    check_units_left,
    cooling_off_until,
    counts_towards_issuer_limit,
    deadlines,
    failed_fund_refund,
    is_held,
    is_overdue,
    issuer_limit_applies,
    issuer_limit_window_start,
    joins_fund,
    may_read,
    next_status,
    no_subscription,
    payment_applies,
    refuse_lost_race,
    release,
    subscriber_id,
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
    with pytest.raises(CancelNotAllowed, match=f"already {status.value}"):
        check_investor_cancel(status, now + timedelta(days=1), now)


def test_an_investor_cancels_until_the_end_of_the_cooling_off_period() -> None:
    until = datetime(2026, 12, 9, tzinfo=JAPAN)
    check_investor_cancel(SubscriptionStatus.CONFIRMED, until, until - timedelta(microseconds=1))
    with pytest.raises(CancelNotAllowed, match="cooling-off period ended"):
        check_investor_cancel(SubscriptionStatus.CONFIRMED, until, until)


INVESTOR = uuid.UUID(int=1)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=JAPAN)
START = NOW - timedelta(days=1)
END = NOW + timedelta(days=10)


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject="someone", role=role, tenant=tenant)


ME = _principal(Role.INVESTOR, str(INVESTOR))
STAFF = _principal(Role.STAFF, "platform")
OTHERS = [
    _principal(Role.INVESTOR, str(uuid.UUID(int=2))),
    _principal(Role.BANK, "hokkaido-bank"),
    _principal(Role.MSME, str(INVESTOR)),
    _principal(Role.MUNICIPALITY, "012025"),
    _principal(Role.SERVICE, "ledger"),
]


def _check_values(table: str, name: str) -> set[str]:
    [check] = [
        c
        for c in metadata.tables[table].constraints
        if isinstance(c, CheckConstraint) and c.name == name
    ]
    return set(re.findall(r"'([a-z_]+)'", str(check.sqltext)))


def test_the_statuses_are_the_ones_the_database_accepts() -> None:
    statuses = _check_values("subscriptions", "ck_subscriptions_status_known")
    reasons = _check_values("subscriptions", "ck_subscriptions_refund_reason_known")
    assert statuses == set(SubscriptionStatus)
    assert failed_fund_refund(NOW).reason in reasons


@given(st.sampled_from(SubscriptionStatus), st.sampled_from(SubscriptionStatus))
def test_the_state_machine(current: SubscriptionStatus, to: SubscriptionStatus) -> None:
    allowed = {
        (SubscriptionStatus.PLACED, SubscriptionStatus.CONFIRMED),
        (SubscriptionStatus.PLACED, SubscriptionStatus.CANCELLED),
        (SubscriptionStatus.CONFIRMED, SubscriptionStatus.CANCELLED),
        (SubscriptionStatus.CONFIRMED, SubscriptionStatus.REFUNDED),
    }
    if (current, to) in allowed:
        assert next_status(current, to) is to
        # Only live subscriptions change; cancelled and refunded are final.
        assert current in LIVE_STATUSES
    else:
        with pytest.raises(IllegalTransition):
            next_status(current, to)


def test_the_investor_and_staff_read_subscriptions_and_my_page() -> None:
    assert may_read(ME, investor_id=INVESTOR)
    assert may_read(STAFF, investor_id=INVESTOR)
    check_my_page(ME, investor_id=INVESTOR)
    for other in OTHERS:
        assert not may_read(other, investor_id=INVESTOR)
        with pytest.raises(InvestorNotFound, match=r"^no such investor$"):
            check_my_page(other, investor_id=INVESTOR)
    answer = no_subscription()
    assert isinstance(answer, SubscriptionNotFound)
    assert (answer.status, answer.detail) == (404, "no such subscription")


def test_investors_subscribe_for_themselves() -> None:
    assert subscriber_id(ME) == INVESTOR
    for caller in (STAFF, *OTHERS[1:]):
        with pytest.raises(Forbidden):
            subscriber_id(caller)


def test_an_investor_subscribes_once_registered_verified_and_informed() -> None:
    ready = Standing(VerificationStatus.VERIFIED, "2026-11")
    check_eligible(ready, current_risk_notice="2026-11")
    with pytest.raises(NotEligible, match="register as an investor first"):
        check_eligible(None, current_risk_notice="2026-11")
    for status in VerificationStatus:
        if status is not VerificationStatus.VERIFIED:
            with pytest.raises(NotEligible, match=f"identity verification is {status.value}$"):
                check_eligible(Standing(status, "2026-11"), current_risk_notice="2026-11")
    for version in (None, "2025-01"):
        with pytest.raises(NotEligible, match="risk notice") as refused:
            check_eligible(
                Standing(VerificationStatus.VERIFIED, version), current_risk_notice="2026-11"
            )
        assert refused.value.extra == {"current": "2026-11"}


@pytest.mark.parametrize("status", list(OfferingStatus))
def test_only_an_open_offering_in_its_window_takes_orders(status: OfferingStatus) -> None:
    for now in (START - timedelta(seconds=1), START, NOW, END):
        takes = status is OfferingStatus.OPEN and START <= now < END
        if takes:
            check_offering_open(status=status, start=START, end=END, now=now)
        else:
            with pytest.raises(OfferingNotOpen):
                check_offering_open(status=status, start=START, end=END, now=now)


def test_the_investor_acknowledges_the_current_terms() -> None:
    digest = "a" * 64
    check_terms(digest, current=digest)
    check_terms(None, current=None)
    check_terms("b" * 64, current=None)
    for acknowledged in (None, "b" * 64):
        with pytest.raises(NotEligible, match="terms_digest") as refused:
            check_terms(acknowledged, current=digest)
        assert refused.value.extra == {"terms_digest": digest}


@given(
    st.integers(min_value=1, max_value=1_000),
    st.integers(min_value=0, max_value=1_000),
    st.integers(min_value=1, max_value=1_000),
)
def test_no_more_units_are_sold_than_offered(units: int, sold: int, offered: int) -> None:
    if sold + units <= offered:
        check_units_left(units=units, units_sold=sold, units_offered=offered)
    else:
        with pytest.raises(SoldOut) as refused:
            check_units_left(units=units, units_sold=sold, units_offered=offered)
        assert refused.value.extra == {"units_left": offered - sold}


@given(st.one_of(st.none(), st.integers(min_value=1, max_value=100)), st.integers(1, 50))
def test_an_investor_holds_at_most_the_maximum_per_investor(held: int | None, most: int) -> None:
    if held is not None and held <= most:
        assert check_investor_limit(held, most=most) == held
    else:
        with pytest.raises(OverLimit, match=f"at most {most} unit"):
            check_investor_limit(held, most=most)


def test_an_investor_joins_a_fund_with_its_only_live_order() -> None:
    assert joins_fund(3, units=3)
    assert not joins_fund(5, units=3)


@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=10**6),
)
def test_what_an_order_owes_and_commits(units: int, price: int, fee: int) -> None:
    order = Order(units, price, fee)
    assert order.amount_due == units * (price + fee)
    assert order.commitment == units * price
    assert order.amount_due - order.commitment == units * fee


def test_the_issuer_limit_refusal_says_what_is_committed() -> None:
    assert issuer_limit_applies(500_000)
    assert not issuer_limit_applies(0)
    check_issuer_limit(committed=400_000, commitment=100_000, limit=500_000)
    check_issuer_limit(committed=10**9, commitment=10**9, limit=0)
    with pytest.raises(OverLimit) as refused:
        check_issuer_limit(committed=400_000, commitment=200_000, limit=500_000)
    assert "500000 per issuer" in str(refused.value.detail)
    assert "12 months before this subscription" in str(refused.value.detail)
    assert refused.value.extra == {"limit": 500_000, "committed": 400_000}


@pytest.mark.parametrize("status", list(OfferingStatus))
def test_a_lost_race_is_explained(status: OfferingStatus) -> None:
    for now, ended in ((NOW, False), (END, True)):
        expected = SoldOut if status is OfferingStatus.OPEN and not ended else OfferingNotOpen
        with pytest.raises(expected):
            refuse_lost_race(status=status, offering_end=END, now=now)


def test_only_a_placed_subscription_is_paid_and_by_exactly_its_amount() -> None:
    assert [s for s in SubscriptionStatus if payment_applies(s)] == [SubscriptionStatus.PLACED]
    check_payment(INVESTOR, amount=10_500, amount_due=10_500)
    with pytest.raises(ValueError, match=r"payment of 10000 .* that owes 10500"):
        check_payment(INVESTOR, amount=10_000, amount_due=10_500)


@given(st.sampled_from(SubscriptionStatus), st.timedeltas(timedelta(-1), timedelta(1)))
def test_a_placed_subscription_expires_at_its_deadline(
    status: SubscriptionStatus, offset: timedelta
) -> None:
    assert is_overdue(status, payment_deadline=NOW + offset, now=NOW) == (
        status is SubscriptionStatus.PLACED and offset <= timedelta(0)
    )


@pytest.mark.parametrize("fund", list(OfferingStatus))
@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_who_cancels_and_why(fund: OfferingStatus, status: SubscriptionStatus) -> None:
    until = NOW + timedelta(days=1)

    def reason(caller: Principal, now: datetime = NOW) -> CancellationReason:
        return cancellation_reason(
            caller, status=status, cooling_off_until=until, fund_status=fund, now=now
        )

    if fund is not OfferingStatus.OPEN:
        for caller in (ME, STAFF):
            with pytest.raises(CancelNotAllowed, match=f"the fund is {fund.value}$"):
                reason(caller)
    elif status in LIVE_STATUSES:
        assert reason(ME) is CancellationReason.COOLING_OFF
        assert reason(STAFF) is CancellationReason.STAFF
        with pytest.raises(CancelNotAllowed, match="cooling-off period ended"):
            reason(ME, now=until)
        assert reason(STAFF, now=until) is CancellationReason.STAFF
    else:
        for caller in (ME, STAFF):
            with pytest.raises(CancelNotAllowed, match=f"already {status.value}$"):
                reason(caller)
    if fund is OfferingStatus.OPEN:
        with pytest.raises(Forbidden):
            reason(OTHERS[1])


@given(
    st.sampled_from(sorted(LIVE_STATUSES)),
    st.integers(min_value=1, max_value=100),
    st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
)
def test_a_cancellation_gives_back_what_it_took(
    status: SubscriptionStatus, units: int, still_held: int | None
) -> None:
    given_back = release(status, units=units, still_held=still_held)
    assert given_back.units == units
    assert given_back.units_confirmed == (units if status is SubscriptionStatus.CONFIRMED else 0)
    assert given_back.investors == (1 if still_held == 0 else 0)


def test_a_failed_fund_refunds_what_was_paid() -> None:
    refund = failed_fund_refund(NOW)
    assert (refund.paid, refund.status) == (
        SubscriptionStatus.CONFIRMED,
        SubscriptionStatus.REFUNDED,
    )
    assert (refund.reason, refund.at) == (RefundReason.FUND_FAILED, NOW)
    assert next_status(refund.paid, refund.status) is refund.status
    # What is refunded leaves the holdings and the yearly limit.
    assert is_held(refund.paid)
    assert not is_held(refund.status)
    assert refund.status not in LIVE_STATUSES
    assert [s for s in SubscriptionStatus if is_held(s)] == [SubscriptionStatus.CONFIRMED]
