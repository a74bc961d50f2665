"""The rules of closing (pure): refunds, the release less the fees due, the escrow report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.ledger import PayoutBeneficiary, RefundReason
from kumiai.principal import Principal, Role
from ledger.books.rules import (
    PLATFORM_FEES,
    Direction,
    FundFacts,
    FundStatus,
    PaymentFacts,
    PaymentStatus,
    Purpose,
    SegregationRefused,
    check_segregation,
    escrow_account,
    municipality_receivable_account,
    net_by_currency,
    payable_account,
    wallet_account,
)
from ledger.closing.rules import (
    Cancellation,
    Grant,
    PaidIn,
    Release,
    ReleaseHeld,
    closes,
    escrow_figures,
    may_read,
    on_cancellation,
    refund_entry,
    refund_key,
    refund_payout,
    release_entry,
    release_or_hold,
)

F1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c01"
S1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c02"
I1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c03"
M1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c04"
PAID = PaymentFacts(
    subscription_id=S1,
    fund_id=F1,
    investor_id=I1,
    amount=31_500,
    currency="JPY",
    status=PaymentStatus.PAID,
)
FORMED = FundFacts(fund_id=F1, msme_id=M1, status=FundStatus.FORMED)
DAY = date(2026, 11, 30)


@pytest.mark.parametrize("status", list(FundStatus))
def test_a_fund_closes_once(status: FundStatus) -> None:
    assert closes(status) == (status is FundStatus.OPEN)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (PaymentStatus.EXPECTED, Cancellation.STOP_AWAITING),
        (PaymentStatus.PAID, Cancellation.REFUND),
        (PaymentStatus.CANCELLED, Cancellation.NOTHING),
        (PaymentStatus.REFUNDED, Cancellation.NOTHING),
        (PaymentStatus.RELEASED, Cancellation.NOTHING),
        (None, Cancellation.NOTHING),
    ],
)
def test_a_cancellation_stops_awaiting_or_refunds_what_was_paid(
    status: PaymentStatus | None, outcome: Cancellation
) -> None:
    assert on_cancellation(status) is outcome


def test_a_refund_pays_back_what_was_paid_to_the_payers_wallet() -> None:
    draft = refund_entry(
        PAID, reason=RefundReason.FUND_FAILED, effective_date=DAY, request_hash="h"
    )
    assert [(s.leg.account, s.leg.direction, s.leg.amount) for s in draft.legs] == [
        (escrow_account(F1), Direction.DEBIT, 31_500),
        (wallet_account(I1), Direction.CREDIT, 31_500),
    ]
    assert draft.idempotency_key == refund_key(S1) == f"refund/{S1}"
    assert (draft.purpose, draft.reference_type, draft.reference_id) == (
        Purpose.REFUND,
        "subscription",
        S1,
    )
    with pytest.raises(SegregationRefused, match="nothing paid"):
        refund_entry(
            replace(PAID, status=PaymentStatus.EXPECTED),
            reason=RefundReason.SUBSCRIPTION_CANCELLED,
            effective_date=DAY,
            request_hash="h",
        )


def test_a_refund_is_paid_out_to_the_investor_through_the_receiving_bank() -> None:
    payout = UUID("5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c06")
    order = refund_payout(PAID, bank_id="b-1", payout_id=payout)
    assert (order.account, order.amount, order.bank_id) == (wallet_account(I1), 31_500, "b-1")
    assert (order.beneficiary, order.beneficiary_id) == (PayoutBeneficiary.INVESTOR, I1)
    assert (order.key, order.fund_id, order.id) == (refund_key(S1), UUID(F1), payout)


paid_ins = st.lists(
    st.integers(1, 10**9).flatmap(lambda a: st.builds(PaidIn, st.just(a), st.integers(0, a))),
    max_size=12,
)


@given(
    paid=paid_ins,
    arrangement_fee=st.integers(0, 10**6),
    held_delta=st.sampled_from([0, 0, 0, 1, -1]),
    announced_delta=st.sampled_from([0, 0, 0, 1, -1]),
)
def test_a_fund_is_released_only_on_figures_that_agree(
    paid: list[PaidIn], arrangement_fee: int, held_delta: int, announced_delta: int
) -> None:
    gross = sum(p.amount for p in paid)
    fees = sum(p.fee_amount for p in paid) + arrangement_fee
    decision = release_or_hold(
        paid,
        arrangement_fee=arrangement_fee,
        held=gross + held_delta,
        announced=gross + announced_delta,
    )
    agree = gross > 0 and held_delta == announced_delta == 0 and fees <= gross
    if not agree:
        assert isinstance(decision, ReleaseHeld)
        assert f"paid subscriptions {gross}" in decision.reason
        return
    assert isinstance(decision, Release)
    assert (decision.gross, decision.fees, decision.net + decision.fees) == (gross, fees, gross)
    draft = release_entry(decision, FORMED, currency="JPY", effective_date=DAY, request_hash="h")
    legs = [s.leg for s in draft.legs]
    assert net_by_currency(legs) == {"JPY": 0}
    paid_to = {leg.account: leg.amount for leg in legs if leg.direction is Direction.CREDIT}
    assert paid_to.get(payable_account(M1), 0) == gross - fees
    assert paid_to.get(PLATFORM_FEES, 0) == fees
    assert draft.idempotency_key == f"release/{F1}"


def test_only_a_formed_fund_is_released() -> None:
    release = Release(gross=100, handling_fees=3, arrangement_fee=2)
    for status in set(FundStatus) - {FundStatus.FORMED}:
        with pytest.raises(SegregationRefused, match="only a formed fund"):
            release_entry(
                release,
                replace(FORMED, status=status),
                currency="JPY",
                effective_date=DAY,
                request_hash="h",
            )


def test_the_escrow_report_adds_up_and_agrees_with_its_postings() -> None:
    posted = {
        (Purpose.DEPOSIT, Direction.CREDIT): 300,
        (Purpose.REFUND, Direction.DEBIT): 100,
        (Purpose.RELEASE, Direction.DEBIT): 200,
    }
    figures = escrow_figures(posted, fees=20, balance=0)
    assert (figures.paid_in, figures.refunded, figures.released_to_business) == (300, 100, 180)
    assert (figures.fees, figures.reversals_net, figures.agrees_with_postings) == (20, 0, True)
    assert not escrow_figures(posted, fees=20, balance=5).agrees_with_postings


def test_only_staff_read_a_funds_escrow_report() -> None:
    for role in Role:
        assert may_read(Principal(subject="x", role=role, tenant="t")) == (role is Role.STAFF)


SAPPORO = "011002"


@given(
    paid=paid_ins.filter(bool),
    arrangement_fee=st.integers(1, 10**6),
    coverage_ppm=st.integers(1, 1_000_000),
)
def test_a_grant_pays_its_share_of_the_arrangement_fee_and_the_business_the_rest(
    paid: list[PaidIn], arrangement_fee: int, coverage_ppm: int
) -> None:
    gross = sum(p.amount for p in paid)
    handling = sum(p.fee_amount for p in paid)
    share = arrangement_fee * coverage_ppm // 1_000_000
    grant = Grant(SAPPORO, share) if share else None
    decision = release_or_hold(
        paid, arrangement_fee=arrangement_fee, held=gross, announced=gross, grant=grant
    )
    if handling + arrangement_fee - share > gross:
        assert isinstance(decision, ReleaseHeld)
        return
    assert isinstance(decision, Release)
    assert decision.fees_from_escrow == handling + arrangement_fee - share
    assert decision.net + decision.fees_from_escrow == gross
    draft = release_entry(decision, FORMED, currency="JPY", effective_date=DAY, request_hash="h")
    legs = [s.leg for s in draft.legs]
    assert net_by_currency(legs) == {"JPY": 0}
    moved = {(leg.account, leg.direction): leg.amount for leg in legs}
    assert moved[(escrow_account(F1), Direction.DEBIT)] == gross
    assert moved.get((municipality_receivable_account(SAPPORO), Direction.DEBIT), 0) == share
    assert moved.get((PLATFORM_FEES, Direction.CREDIT), 0) == handling + arrangement_fee
    assert moved.get((payable_account(M1), Direction.CREDIT), 0) == gross - (
        handling + arrangement_fee - share
    )


def test_k_citys_grant_leaves_the_business_a_tenth_of_the_fee() -> None:
    release = release_or_hold(
        [PaidIn(5_950_000, 0)],
        arrangement_fee=900_000,
        held=5_950_000,
        announced=5_950_000,
        grant=Grant(SAPPORO, 800_000),
    )
    assert isinstance(release, Release)
    assert (release.fees, release.subsidy, release.fees_from_escrow) == (900_000, 800_000, 100_000)
    assert release.net == 5_850_000


def test_a_grant_above_the_fee_holds_the_release() -> None:
    decision = release_or_hold(
        [PaidIn(1_000, 0)],
        arrangement_fee=100,
        held=1_000,
        announced=1_000,
        grant=Grant(SAPPORO, 101),
    )
    assert isinstance(decision, ReleaseHeld)
    assert "exceeds the arrangement fee" in decision.reason


def test_a_release_books_exactly_the_grant_held_for_the_fund() -> None:
    release = Release(gross=1_000, handling_fees=0, arrangement_fee=100, grant=Grant(SAPPORO, 90))
    other = Release(gross=1_000, handling_fees=0, arrangement_fee=100, grant=Grant("131016", 90))
    draft = release_entry(release, FORMED, currency="JPY", effective_date=DAY, request_hash="h")
    assert draft.reference_id == F1
    with pytest.raises(SegregationRefused, match=r"nothing but"):
        check_segregation(
            Purpose.RELEASE,
            [
                s.leg
                for s in release_entry(
                    other, FORMED, currency="JPY", effective_date=DAY, request_hash="h"
                ).legs
            ],
            reference_id=F1,
            fund=replace(
                FORMED,
                paid_in=1_000,
                fees_due=100,
                grant_account=municipality_receivable_account(SAPPORO),
                grant_amount=90,
            ),
        )
    with pytest.raises(SegregationRefused, match="municipality's share of the arrangement fee"):
        check_segregation(
            Purpose.RELEASE,
            [
                s.leg
                for s in release_entry(
                    Release(gross=1_000, handling_fees=0, arrangement_fee=100),
                    FORMED,
                    currency="JPY",
                    effective_date=DAY,
                    request_hash="h",
                ).legs
            ],
            reference_id=F1,
            fund=replace(
                FORMED,
                paid_in=1_000,
                fees_due=100,
                grant_account=municipality_receivable_account(SAPPORO),
                grant_amount=90,
            ),
        )
