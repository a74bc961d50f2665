"""The rules of deposits (pure): the report, matching, suspense, who reads what."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.principal import Principal, Role
from ledger.books.rules import (
    SUSPENSE,
    Direction,
    FundFacts,
    FundStatus,
    Leg,
    PaymentFacts,
    PaymentStatus,
    Purpose,
    SegregationRefused,
    check_segregation,
    clearing_account,
    escrow_account,
    validate_legs,
)
from ledger.deposits.rules import (
    VALUE_DATE_DAYS_AHEAD,
    DepositKeyReused,
    DepositStatus,
    NotInSuspense,
    PaymentNotExpected,
    ValueDateRefused,
    after_return,
    can_be_paid,
    check_in_suspense,
    check_same_report,
    check_staff_match,
    check_value_date,
    deposit_key,
    match_key,
    may_read,
    payment_entry,
    payment_facts,
    suspense_entry,
    value_date_window,
    why_suspense,
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
    with pytest.raises(ValueDateRefused, match=message):
        check_value_date(value_date, now=LATE_EVENING)


def test_leap_day_a_year_later() -> None:
    now = datetime(2029, 2, 28, 12, tzinfo=UTC)
    assert value_date_window(now)[0] == date(2028, 2, 28)


# The generator takes naive bounds and attaches the time zone itself.
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
        with pytest.raises(ValueDateRefused):
            check_value_date(day, now=now)


# -- when a deposit pays a subscription ----------------------------------------------------

F1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c01"
S1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c02"
I1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c03"
M1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c04"
DEPOSIT = UUID("5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c05")
AWAITED = PaymentFacts(
    subscription_id=S1,
    fund_id=F1,
    investor_id=I1,
    amount=31_500,
    currency="JPY",
    status=PaymentStatus.EXPECTED,
)
OPEN = FundFacts(fund_id=F1, msme_id=M1, status=FundStatus.OPEN)


@dataclass
class Row:
    """An ``expected_payments`` row as the store loads it."""

    subscription_id: UUID
    fund_id: UUID
    investor_id: UUID
    amount: int
    currency: str
    status: str


def test_payment_facts_are_read_from_the_stored_payment() -> None:
    row = Row(UUID(S1), UUID(F1), UUID(I1), 31_500, "JPY", "expected")
    assert payment_facts(row) == AWAITED


@pytest.mark.parametrize(
    ("payment", "fund", "amount", "why"),
    [
        (AWAITED, OPEN, 31_500, None),
        (None, OPEN, 31_500, "unknown payment reference"),
        (replace(AWAITED, status=PaymentStatus.PAID), OPEN, 31_500, "subscription is paid"),
        (
            replace(AWAITED, status=PaymentStatus.CANCELLED),
            OPEN,
            31_500,
            "subscription is cancelled",
        ),
        (AWAITED, OPEN, 31_000, "amount 31000 JPY differs from 31500 JPY due"),
        (AWAITED, None, 31_500, "the fund is not open for payments"),
        (
            AWAITED,
            replace(OPEN, status=FundStatus.RELEASE_HELD),
            31_500,
            "the fund is not open for payments",
        ),
    ],
)
def test_a_deposit_pays_an_awaited_payment_exactly_or_waits_in_suspense(
    payment: PaymentFacts | None, fund: FundFacts | None, amount: int, why: str | None
) -> None:
    assert why_suspense(payment, fund, amount=amount, currency="JPY") == why


@given(
    status=st.sampled_from(list(PaymentStatus)),
    fund_status=st.none() | st.sampled_from(list(FundStatus)),
    amount=st.integers(1, 10**6),
    currency=st.sampled_from(["JPY", "USD"]),
)
def test_a_deposit_goes_to_escrow_exactly_when_segregation_allows_it(
    status: PaymentStatus, fund_status: FundStatus | None, amount: int, currency: str
) -> None:
    payment = replace(AWAITED, status=status, amount=1_000)
    fund = None if fund_status is None else replace(OPEN, status=fund_status)
    deposited = replace(payment, amount=amount, currency=currency)
    pays = why_suspense(payment, fund, amount=amount, currency=currency) is None
    legs = [
        Leg(clearing_account("b-1"), Direction.DEBIT, amount, currency),
        Leg(escrow_account(F1), Direction.CREDIT, amount, currency),
    ]
    try:
        check_segregation(Purpose.DEPOSIT, legs, reference_id=S1, payment=payment, fund=fund)
        allowed = True
    except SegregationRefused:
        allowed = False
    assert pays == allowed, deposited
    assert can_be_paid(payment, fund) == (
        status is PaymentStatus.EXPECTED and fund_status is FundStatus.OPEN
    )


def test_a_payment_entry_moves_the_amount_due_into_the_funds_escrow() -> None:
    draft = payment_entry(
        AWAITED,
        OPEN,
        source=clearing_account("b-1"),
        description="d",
        idempotency_key=deposit_key("b-1", "T-1"),
        request_hash="h",
        created_by="b",
        effective_date=date(2026, 11, 30),
    )
    legs = [s.leg for s in draft.legs]
    validate_legs(legs)
    assert legs[1] == Leg(escrow_account(F1), Direction.CREDIT, 31_500, "JPY")
    assert (draft.purpose, draft.reference_type, draft.reference_id) == (
        Purpose.DEPOSIT,
        "subscription",
        S1,
    )
    with pytest.raises(SegregationRefused, match="not open"):
        payment_entry(
            AWAITED,
            replace(OPEN, status=FundStatus.RELEASED),
            source=SUSPENSE,
            description="d",
            idempotency_key=match_key(DEPOSIT),
            request_hash="h",
            created_by="s",
            effective_date=date(2026, 11, 30),
        )


def test_a_suspense_entry_names_the_deposit_and_stays_away_from_funds() -> None:
    draft = suspense_entry(
        bank_id="b-1",
        deposit_id=DEPOSIT,
        amount=700,
        currency="JPY",
        description="d",
        idempotency_key=deposit_key("b-1", "T-2"),
        request_hash="h",
        created_by="b",
        effective_date=date(2026, 11, 30),
    )
    assert [(s.leg.account, s.leg.direction) for s in draft.legs] == [
        (clearing_account("b-1"), Direction.DEBIT),
        (SUSPENSE, Direction.CREDIT),
    ]
    assert (draft.reference_type, draft.reference_id) == ("deposit", str(DEPOSIT))


def test_staff_match_a_deposit_to_a_subscription_awaiting_exactly_its_amount() -> None:
    sub = UUID(S1)
    check_staff_match(sub, AWAITED, OPEN, amount=31_500, currency="JPY")
    with pytest.raises(PaymentNotExpected, match="does not await 31000"):
        check_staff_match(sub, AWAITED, OPEN, amount=31_000, currency="JPY")
    with pytest.raises(PaymentNotExpected, match="does not await"):
        check_staff_match(sub, None, OPEN, amount=31_500, currency="JPY")
    with pytest.raises(PaymentNotExpected, match="is not open"):
        check_staff_match(sub, AWAITED, None, amount=31_500, currency="JPY")


@pytest.mark.parametrize("status", list(DepositStatus))
def test_only_a_suspense_deposit_is_matched_or_returned(status: DepositStatus) -> None:
    if status is DepositStatus.SUSPENSE:
        check_in_suspense(status)
    else:
        with pytest.raises(NotInSuspense, match=f"is {status.value}"):
            check_in_suspense(status)


def test_a_returned_deposit_is_gone_or_back_in_suspense() -> None:
    assert after_return(confirmed=True) is DepositStatus.RETURNED
    assert after_return(confirmed=False) is DepositStatus.SUSPENSE


def test_a_transaction_reported_again_is_the_same_report() -> None:
    check_same_report("h", "h", transaction_id="T-1")
    with pytest.raises(DepositKeyReused, match="transaction T-1 differs"):
        check_same_report("h", "other", transaction_id="T-1")


@given(bank=st.text(min_size=1, max_size=20), transaction=st.text(min_size=1, max_size=20))
def test_the_ledgers_own_keys_never_meet_a_callers(bank: str, transaction: str) -> None:
    for key in (deposit_key(bank, transaction), match_key(DEPOSIT)):
        assert not key.startswith("client/")


@given(
    role=st.sampled_from(list(Role)),
    tenant=st.sampled_from(["b-1", "b-2"]),
    bank=st.none() | st.sampled_from(["b-1", "b-2"]),
)
def test_staff_read_every_deposit_and_a_bank_its_own(
    role: Role, tenant: str, bank: str | None
) -> None:
    caller = Principal(subject="x", role=role, tenant=tenant)
    expected = role is Role.STAFF or (role is Role.BANK and bank == tenant)
    assert may_read(caller, bank_id=bank) == expected
