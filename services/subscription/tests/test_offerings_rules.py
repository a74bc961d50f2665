"""The rules of an offering: phase and days left, when it takes subscriptions, when it
closes and how it ends, who withdraws it (pure)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from kumiai.contracts.onboarding import FundOpenedV1
from kumiai.contracts.subscription import FundOutcome
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from kumiai_tools.testing import sample_fund_opened
from subscription.db.models import metadata
from subscription.offerings.rules import (
    CancelRefusedClosed,
    IllegalTransition,
    OfferingPhase,
    OfferingStatus,
    check_may_withdraw,
    check_withdrawable,
    closing,
    days_left,
    may_close,
    may_read,
    next_status,
    no_offering,
    offering_phase,
    outcome,
    price_per_unit_with_fee,
    sold_out,
    takes_subscriptions,
    terms_of,
    withdrawal,
)

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("now", "sold", "phase"),
    [
        (START - timedelta(seconds=1), 0, OfferingPhase.SCHEDULED),
        (START, 0, OfferingPhase.OPEN),
        (START + timedelta(days=1), 99, OfferingPhase.OPEN),
        (START + timedelta(days=1), 100, OfferingPhase.SOLD_OUT),
        (END, 10, OfferingPhase.ENDED),
        (END, 100, OfferingPhase.ENDED),
    ],
)
def test_phase(now: datetime, sold: int, phase: OfferingPhase) -> None:
    assert (
        offering_phase(now=now, start=START, end=END, units_sold=sold, units_offered=100) == phase
    )


def test_days_left_round_up_and_stop_at_zero() -> None:
    assert days_left(now=START, end=END) == 10
    assert days_left(now=END - timedelta(hours=1), end=END) == 1
    assert days_left(now=END, end=END) == 0
    assert days_left(now=END + timedelta(days=3), end=END) == 0


def _principal(role: Role, tenant: str = "platform") -> Principal:
    return Principal(subject="someone", role=role, tenant=tenant)


def test_the_statuses_are_the_ones_the_database_accepts() -> None:
    [check] = [
        c
        for c in metadata.tables["offerings"].constraints
        if isinstance(c, CheckConstraint) and c.name == "ck_offerings_status_known"
    ]
    assert set(re.findall(r"'([a-z_]+)'", str(check.sqltext))) == set(OfferingStatus)


@pytest.mark.parametrize(
    ("status", "now", "takes"),
    [
        (OfferingStatus.OPEN, START - timedelta(microseconds=1), False),
        (OfferingStatus.OPEN, START, True),
        (OfferingStatus.OPEN, END - timedelta(microseconds=1), True),
        (OfferingStatus.OPEN, END, False),
        (OfferingStatus.CLOSED_SUCCEEDED, START + timedelta(days=1), False),
        (OfferingStatus.CLOSED_FAILED, START + timedelta(days=1), False),
        (OfferingStatus.CANCELLED, START + timedelta(days=1), False),
    ],
)
def test_an_offering_takes_subscriptions_while_open_within_its_window(
    status: OfferingStatus, now: datetime, takes: bool
) -> None:
    assert takes_subscriptions(status=status, start=START, end=END, now=now) is takes


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_sold_out_once_every_unit_is_taken(units_sold: int, units_offered: int) -> None:
    assert sold_out(units_sold=units_sold, units_offered=units_offered) == (
        units_sold >= units_offered
    )


@given(
    st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)),
    st.booleans(),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=5),
)
def test_an_offering_closes_only_when_nothing_is_unpaid_or_cancellable(
    offset: timedelta, is_sold_out: bool, unpaid: int, cooling: int
) -> None:
    now = END + offset
    closes = may_close(
        now=now,
        offering_end=END,
        sold_out=is_sold_out,
        unpaid=unpaid,
        cooling_off_pending=cooling,
    )
    if unpaid or cooling:
        assert not closes
    else:
        assert closes == (now >= END or is_sold_out)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=10**5),
)
def test_closing_forms_the_fund_at_the_threshold_and_counts_the_money(
    units: int, threshold: int, price: int, fee: int
) -> None:
    ending = closing(
        units_confirmed=units,
        formation_threshold_units=threshold,
        unit_price=price,
        handling_fee_per_unit=fee,
    )
    formed = units >= threshold
    assert ending.outcome == outcome(units, threshold)
    assert ending.outcome is (FundOutcome.SUCCEEDED if formed else FundOutcome.FAILED)
    assert ending.status is (
        OfferingStatus.CLOSED_SUCCEEDED if formed else OfferingStatus.CLOSED_FAILED
    )
    assert ending.freezes_register is formed
    assert ending.units_confirmed == units
    assert ending.amount_raised == units * price
    assert ending.amount_raised + ending.handling_fees_collected == units * (price + fee)


def test_the_threshold_is_inclusive() -> None:
    assert outcome(300, 300) is FundOutcome.SUCCEEDED
    assert outcome(299, 300) is FundOutcome.FAILED


def test_a_withdrawn_offering_fails_having_raised_nothing() -> None:
    ending = withdrawal()
    assert (ending.outcome, ending.status) == (FundOutcome.FAILED, OfferingStatus.CANCELLED)
    assert (ending.units_confirmed, ending.amount_raised, ending.handling_fees_collected) == (
        0,
        0,
        0,
    )
    assert not ending.freezes_register


@pytest.mark.parametrize("role", list(Role))
def test_only_staff_withdraw_an_offering(role: Role) -> None:
    if role is Role.STAFF:
        check_may_withdraw(_principal(role))
    else:
        with pytest.raises(Forbidden):
            check_may_withdraw(_principal(role))


@pytest.mark.parametrize("status", list(OfferingStatus))
def test_only_an_open_offering_is_withdrawn(status: OfferingStatus) -> None:
    if status is OfferingStatus.OPEN:
        check_withdrawable(status)
    else:
        with pytest.raises(CancelRefusedClosed, match=f"the offering is {status.value}$"):
            check_withdrawable(status)


@pytest.mark.parametrize("role", [None, *Role])
def test_offerings_are_public(role: Role | None) -> None:
    assert may_read(None if role is None else _principal(role))


def test_not_found_names_no_id() -> None:
    answer = no_offering()
    assert (answer.status, answer.problem, answer.detail) == (
        404,
        "offering-not-found",
        "no such offering",
    )


def test_the_price_with_fee_adds_the_handling_fee() -> None:
    assert price_per_unit_with_fee(unit_price=10_000, handling_fee_per_unit=500) == 10_500


def test_terms_come_from_either_version_of_the_opening_event() -> None:
    current = sample_fund_opened(donation_per_unit=1_000)
    old = FundOpenedV1(
        fund_id=uuid.uuid4(),
        msme_id=uuid.uuid4(),
        name="An older fund",
        unit_price=10_000,
        handling_fee_per_unit=500,
        units_offered=100,
        formation_threshold_units=30,
        max_units_per_investor=10,
        offering_start=START,
        offering_end=END,
    )
    terms = terms_of(current)
    assert (terms.fund_id, terms.donation_per_unit, terms.terms_digest) == (
        current.fund_id,
        1_000,
        current.terms_digest,
    )
    assert (terms.unit_price, terms.units_offered) == (current.unit_price, current.units_offered)
    legacy = terms_of(old)
    assert (legacy.donation_per_unit, legacy.terms_digest) == (0, None)
    assert (legacy.offering_start, legacy.offering_end, legacy.currency) == (START, END, "JPY")


@given(st.sampled_from(OfferingStatus), st.sampled_from(OfferingStatus))
def test_an_offering_ends_once(current: OfferingStatus, to: OfferingStatus) -> None:
    if current is OfferingStatus.OPEN and to is not OfferingStatus.OPEN:
        assert next_status(current, to) is to
    else:
        with pytest.raises(IllegalTransition):
            next_status(current, to)
    assert next_status(OfferingStatus.OPEN, withdrawal().status) is OfferingStatus.CANCELLED
