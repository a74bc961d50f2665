"""Deciding an order on what was read before any lock: the checks and their order, when a
refusal may be answered before the Idempotency-Key is looked up, and the subscription an
order places (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subscription.investors.rules import Standing, VerificationStatus
from subscription.offerings.rules import OfferingNotFound, OfferingStatus
from subscription.subscriptions.rules import (
    Deadlines,
    NotEligible,
    Offer,
    OfferingNotOpen,
    Order,
    OrderFacts,
    SoldOut,
    SubscriptionStatus,
    check_order,
    new_subscription,
    refused_before_key,
    share_out,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
READY = Standing(verification=VerificationStatus.VERIFIED, risk_notice_version="2026-11")
OFFER = Offer(
    status=OfferingStatus.OPEN,
    start=NOW - timedelta(days=1),
    end=NOW + timedelta(days=1),
    terms_digest="d" * 64,
    units_sold=8,
    units_offered=10,
    unit_price=10_000,
    handling_fee_per_unit=500,
    currency="JPY",
    msme_id=uuid.uuid4(),
    max_units_per_investor=3,
)


def _check(facts: OrderFacts, units: int = 2, digest: str | None = "d" * 64) -> Offer:
    return check_order(
        facts, units=units, terms_digest=digest, current_risk_notice="2026-11", now=NOW
    )


def test_an_order_within_every_check_answers_its_offering() -> None:
    assert _check(OrderFacts(standing=READY, offer=OFFER, held=None)) is OFFER


@pytest.mark.parametrize(
    ("facts", "units", "digest", "refused"),
    [
        # The investor comes first: an unregistered one is told so even for no offering.
        (OrderFacts(standing=None, offer=None, held=None), 1, "d" * 64, NotEligible),
        (
            OrderFacts(
                standing=Standing(VerificationStatus.PENDING, "2026-11"), offer=OFFER, held=None
            ),
            1,
            "d" * 64,
            NotEligible,
        ),
        (OrderFacts(standing=READY, offer=None, held=None), 1, "d" * 64, OfferingNotFound),
        (
            OrderFacts(
                standing=READY,
                offer=Offer(**{**OFFER.__dict__, "status": OfferingStatus.CANCELLED}),
                held=None,
            ),
            1,
            "d" * 64,
            OfferingNotOpen,
        ),
        (
            OrderFacts(standing=READY, offer=Offer(**{**OFFER.__dict__, "end": NOW}), held=None),
            1,
            "d" * 64,
            OfferingNotOpen,
        ),
        (OrderFacts(standing=READY, offer=OFFER, held=None), 1, "e" * 64, NotEligible),
        # Terms before units: an order on stale terms is told about the terms.
        (OrderFacts(standing=READY, offer=OFFER, held=None), 3, "e" * 64, NotEligible),
        (OrderFacts(standing=READY, offer=OFFER, held=None), 3, "d" * 64, SoldOut),
    ],
)
def test_an_order_is_refused_by_the_first_check_it_fails(
    facts: OrderFacts, units: int, digest: str, refused: type[Exception]
) -> None:
    with pytest.raises(refused):
        _check(facts, units, digest)


@pytest.mark.parametrize(("held", "early"), [(None, True), (0, False), (2, False)])
def test_only_an_investor_who_never_ordered_in_the_fund_is_refused_before_the_key(
    held: int | None, early: bool
) -> None:
    # A position, even at 0 units after a cancellation, may stand for a stored answer.
    assert refused_before_key(OrderFacts(standing=READY, offer=OFFER, held=held)) is early


def test_a_new_subscription_is_priced_and_termed_as_the_offering_reads() -> None:
    due = Deadlines(payment=NOW + timedelta(days=7), cooling_off_until=NOW + timedelta(days=8))
    investor, fund, ident = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sub = new_subscription(
        id=ident,
        investor_id=investor,
        fund_id=fund,
        offer=OFFER,
        order=Order(2, OFFER.unit_price, OFFER.handling_fee_per_unit),
        payment_reference="KM7Q2XH9A4B61",
        due=due,
        placed_at=NOW,
    )
    assert (sub.id, sub.fund_id, sub.investor_id, sub.msme_id) == (
        ident,
        fund,
        investor,
        OFFER.msme_id,
    )
    assert (sub.units, sub.amount_due, sub.currency) == (2, 2 * 10_500, "JPY")
    assert (sub.payment_deadline, sub.cooling_off_until) == (due.payment, due.cooling_off_until)
    assert (sub.status, sub.terms_digest, sub.placed_at) == (
        SubscriptionStatus.PLACED,
        OFFER.terms_digest,
        NOW,
    )


@given(
    st.integers(min_value=0, max_value=20),
    st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=5)), max_size=12),
)
def test_a_group_shares_out_what_is_left_in_arrival_order(
    left: int, wanted: list[int | None]
) -> None:
    takes = share_out(left, wanted)
    taken = sum(units for units, take in zip(wanted, takes, strict=True) if take and units)
    assert len(takes) == len(wanted)
    assert taken <= left
    # Each order gets its units exactly when the offering still takes it and that many
    # are left after the orders before it, as if each had come alone in that order.
    remaining = left
    for units, take in zip(wanted, takes, strict=True):
        assert take == (units is not None and units <= remaining)
        if take and units is not None:
            remaining -= units


def test_a_large_order_leaves_what_is_left_to_smaller_ones_after_it() -> None:
    assert share_out(3, [2, 2, None, 1, 1]) == [True, False, False, True, False]
