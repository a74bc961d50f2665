"""How a distribution is paid in and out of the fund's distribution account (pure)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.subscription import FeeDue, FeeKind
from ledger.books.rules import (
    Direction,
    DistributionStatus,
    EntryType,
    Leg,
    PostingStatus,
    Purpose,
    SegregationRefused,
    check_segregation,
    distribution_account,
    net_by_currency,
    receivable_account,
    wallet_account,
)
from ledger.distributions.rules import (
    Declared,
    Line,
    batch_entry,
    batch_legs,
    fee_entry,
    payment_entry,
    payout_batch_entry,
    payout_id,
    payout_orders,
    why_suspense,
)
from ledger.payouts.rules import batch_settlement

FUND = uuid.UUID("11111111-1111-4111-8111-111111111111")
MSME = uuid.UUID("22222222-2222-4222-8222-222222222222")
A = uuid.UUID("33333333-3333-4333-8333-333333333333")
B = uuid.UUID("44444444-4444-4444-8444-444444444444")
DAY = date(2027, 6, 1)


def _declared(status: DistributionStatus = DistributionStatus.DECLARED) -> Declared:
    # gross 66,660 (A 19,998, B 46,662), success fee 53,333, fees 160,000:
    # the business owes 160,000 + 66,660 + 53,333 = 279,993
    return Declared(
        fund_id=FUND,
        period_number=3,
        msme_id=MSME,
        currency="JPY",
        business_owes=279_993,
        fees_total=160_000,
        success_fee=53_333,
        status=status,
        bank_id="bank-a",
    )


LINES = [Line(A, 19_998, 1_326, 18_672), Line(B, 46_662, 3_096, 43_566)]


def test_the_first_batch_pays_nets_tax_success_fee_and_settles_the_fees() -> None:
    legs = batch_legs(_declared(DistributionStatus.FUNDED), LINES, first=True)
    # out: 66,660 gross + 53,333 success fee + 160,000 fees = 279,993, all that was paid in
    assert legs[0] == Leg(distribution_account(FUND), Direction.DEBIT, 279_993, "JPY")
    assert {(leg.account, leg.amount) for leg in legs[1:]} == {
        (wallet_account(A), 18_672),
        (wallet_account(B), 43_566),
        ("tax/withholding", 1_326 + 3_096),
        ("platform/fees", 53_333),
        (receivable_account(MSME), 160_000),
    }
    assert net_by_currency(legs) == {"JPY": 0}


def test_later_batches_pay_only_their_lines_and_a_batch_of_zeros_moves_nothing() -> None:
    funded = _declared(DistributionStatus.FUNDED)
    legs = batch_legs(funded, LINES, first=False)
    assert legs[0].amount == 66_660
    assert len(legs) == 4
    assert batch_legs(funded, [Line(A, 0, 0, 0)], first=False) == []
    assert batch_entry(funded, 2, [Line(A, 0, 0, 0)], effective_date=DAY) is None


def test_a_batch_is_booked_only_while_the_distribution_is_funded() -> None:
    with pytest.raises(SegregationRefused, match="not funded"):
        batch_entry(_declared(), 1, LINES, effective_date=DAY)
    entry = batch_entry(_declared(DistributionStatus.FUNDED), 1, LINES, effective_date=DAY)
    assert entry is not None
    assert entry.purpose is Purpose.DISTRIBUTION
    assert (entry.reference_type, entry.reference_id) == ("distribution", f"{FUND}/3")
    assert entry.idempotency_key == f"distribution/{FUND}/3/1"


def test_a_batch_pays_no_stranger_and_no_other_amount() -> None:
    funded = _declared(DistributionStatus.FUNDED)
    legs = batch_legs(funded, LINES, first=False)
    stranger = [
        legs[0],
        Leg(wallet_account(uuid.uuid4()), Direction.CREDIT, 18_672, "JPY"),
        *legs[2:],
    ]
    for bad in (
        stranger,
        [legs[0], Leg(wallet_account(A), Direction.CREDIT, 18_673, "JPY"), *legs[2:]],
        [
            legs[0],
            Leg(receivable_account(uuid.uuid4()), Direction.CREDIT, 18_672, "JPY"),
            *legs[2:],
        ],
    ):
        with pytest.raises(SegregationRefused, match="does not pay"):
            check_segregation(
                Purpose.DISTRIBUTION,
                bad,
                reference_id=funded.reference,
                distribution=funded.facts(LINES),
            )


def test_the_business_pays_exactly_what_it_owes_once() -> None:
    entry = payment_entry(
        _declared(),
        source="bank/bank-a/clearing",
        description="pays",
        idempotency_key="deposit/bank-a/tx",
        request_hash="h",
        created_by="bank-a",
        effective_date=DAY,
    )
    assert [(s.leg.account, s.leg.direction, s.leg.amount) for s in entry.legs] == [
        ("bank/bank-a/clearing", Direction.DEBIT, 279_993),
        (distribution_account(FUND), Direction.CREDIT, 279_993),
    ]
    assert why_suspense(_declared(), amount=279_993, currency="JPY") is None
    assert "differs" in (why_suspense(_declared(), amount=279_992, currency="JPY") or "")
    funded = _declared(DistributionStatus.FUNDED)
    assert "funded, not awaited" in (why_suspense(funded, amount=279_993, currency="JPY") or "")
    with pytest.raises(SegregationRefused, match="awaits no payment"):
        payment_entry(
            funded,
            source="bank/bank-a/clearing",
            description="pays again",
            idempotency_key="deposit/bank-a/tx2",
            request_hash="h",
            created_by="bank-a",
            effective_date=DAY,
        )


def test_money_of_the_distribution_account_never_moves_as_anything_else() -> None:
    legs = [
        Leg(distribution_account(FUND), Direction.DEBIT, 100, "JPY"),
        Leg(wallet_account(A), Direction.CREDIT, 100, "JPY"),
    ]
    for purpose in (Purpose.REFUND, Purpose.RELEASE, Purpose.PAYOUT, Purpose.ADJUSTMENT):
        with pytest.raises(SegregationRefused):
            check_segregation(
                purpose, legs, reference_id=f"{FUND}/3", distribution=_declared().facts()
            )


def test_fees_are_booked_as_receivable_once_per_kind_and_year() -> None:
    fee = FeeDue(
        kind=FeeKind.AUDIT,
        fiscal_year=2028,
        fiscal_year_start=date(2027, 4, 1),
        fiscal_year_end=date(2028, 3, 31),
        amount=100_000,
    )
    entry = fee_entry(_declared(), fee, effective_date=DAY)
    assert entry.idempotency_key == f"fee/{FUND}/audit/2028"
    assert [(s.leg.account, s.leg.direction) for s in entry.legs] == [
        (receivable_account(MSME), Direction.DEBIT),
        ("platform/fees", Direction.CREDIT),
    ]


def test_payouts_are_the_nets_through_the_paying_bank_with_ids_anyone_can_derive() -> None:
    orders = payout_orders(_declared(), [*LINES, Line(uuid.UUID(int=5), 0, 0, 0)], bank_id="b")
    assert [(o.beneficiary_id, o.amount, o.bank_id) for o in orders] == [
        (str(A), 18_672, "b"),
        (str(B), 43_566, "b"),
    ]
    assert orders[0].id == payout_id(FUND, 3, A) != payout_id(FUND, 2, A)


@given(
    st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 10**8)).map(
            lambda gt: (gt[0], min(gt[1], gt[0]))
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 10**8),
    st.integers(0, 10**8),
    st.booleans(),
)
def test_every_batch_balances(
    lines: list[tuple[int, int]], success: int, fees: int, first: bool
) -> None:
    declared = Declared(
        fund_id=FUND,
        period_number=1,
        msme_id=MSME,
        currency="JPY",
        business_owes=sum(g for g, _ in lines) + success + fees,
        fees_total=fees,
        success_fee=success,
        status=DistributionStatus.FUNDED,
    )
    batch = [Line(uuid.uuid4(), g, t, g - t) for g, t in lines]
    legs = batch_legs(declared, batch, first=first)
    if legs:
        assert net_by_currency(legs) == {"JPY": 0}
        assert legs[0].amount == sum(g for g, _ in lines) + (success + fees if first else 0)
        assert all(leg.amount > 0 for leg in legs)


def test_a_batch_of_payouts_is_held_in_one_pending_entry() -> None:
    orders = payout_orders(_declared(), LINES, bank_id="bank-a")
    entry = payout_batch_entry(_declared(), 2, orders, effective_date=DAY)
    assert entry.entry_type is EntryType.PENDING
    assert entry.idempotency_key == f"payout/distribution/{FUND}/3/2"
    assert {(s.leg.account, s.leg.direction, s.leg.amount, s.status) for s in entry.legs} == {
        (wallet_account(A), Direction.DEBIT, 18_672, PostingStatus.PENDING),
        (wallet_account(B), Direction.DEBIT, 43_566, PostingStatus.PENDING),
        ("bank/bank-a/clearing", Direction.CREDIT, 18_672 + 43_566, PostingStatus.PENDING),
    }


def test_what_a_bank_failed_comes_back_to_where_it_left_once_the_batch_is_answered() -> None:
    entry_id = uuid.uuid4()
    assert (
        batch_settlement(
            [], bank_id="bank-a", currency="JPY", pending_entry_id=entry_id, effective_date=DAY
        )
        is None
    )
    back = batch_settlement(
        [(wallet_account(A), 18_672)],
        bank_id="bank-a",
        currency="JPY",
        pending_entry_id=entry_id,
        effective_date=DAY,
    )
    assert back is not None
    assert [(s.leg.account, s.leg.direction, s.leg.amount) for s in back.legs] == [
        ("bank/bank-a/clearing", Direction.DEBIT, 18_672),
        (wallet_account(A), Direction.CREDIT, 18_672),
    ]
    assert back.idempotency_key == f"payout/returned/{entry_id}"
