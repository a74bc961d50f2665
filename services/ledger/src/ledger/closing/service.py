"""Money out of escrow: refunds on cancellation, and the release or refund at fund close.

A refund credits the investor's wallet and, in the same transaction, instructs
the payout of that amount to the investor's registered account through the
partner bank that received the deposit; the money stays in the wallet (pending)
until that bank confirms.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import structlog

from kumiai.contracts.ledger import FundsReleased, RefundIssued, RefundReason
from kumiai.contracts.onboarding import AnyFundOpened, FundOpenedV2
from kumiai.contracts.subscription import FundClosed, FundOutcome, SubscriptionCancelled
from kumiai.db import UnitOfWork
from kumiai.idempotency import request_fingerprint
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import NotFound
from ledger.books import service as books
from ledger.books.rules import (
    PLATFORM_FEES,
    FundFacts,
    FundStatus,
    PaymentStatus,
    Purpose,
    escrow_account,
)
from ledger.closing import store
from ledger.closing.rules import (
    Cancellation,
    PaidIn,
    ReleaseHeld,
    closes,
    escrow_figures,
    on_cancellation,
    refund_entry,
    refund_payout,
    release_entry,
    release_or_hold,
)
from ledger.closing.schemas import SegregationReportOut
from ledger.db.models import ExpectedPayment
from ledger.deposits import service as deposits
from ledger.deposits.rules import payment_facts
from ledger.grants import service as grants
from ledger.payouts import service as payouts
from ledger.payouts.rules import PayoutOrder

log = structlog.get_logger(__name__)


async def open_fund(uow: UnitOfWork, *, event: AnyFundOpened) -> None:
    """Remember a newly opened fund and its fees, open its escrow account, and match the
    deposits that already wait in suspense for its subscriptions."""
    # v1 events (published before fees were part of the terms) carry none.
    arrangement_fee = event.fees.arrangement_fee if isinstance(event, FundOpenedV2) else 0
    opened = await store.remember_fund(
        uow.session,
        fund_id=event.fund_id,
        msme_id=event.msme_id,
        currency=event.currency,
        arrangement_fee=arrangement_fee,
    )
    await books.open_account(uow, code=escrow_account(event.fund_id), currency=event.currency)
    if opened:
        await deposits.match_early_deposits(uow, fund_id=event.fund_id)


async def _refund_order(uow: UnitOfWork, payment: ExpectedPayment) -> PayoutOrder | None:
    """The payout of a refund to the investor through the bank that received the deposit."""
    bank_id = await deposits.receiving_bank(uow, deposit_id=payment.deposit_id)
    if bank_id is None or not await payouts.bank_is_active(uow, bank_id=bank_id):
        # The refund stays in the wallet; staff instruct its payout through another bank.
        log.warning(
            "refund not paid out: the receiving bank is unknown or not active",
            subscription_id=str(payment.subscription_id),
            bank_id=bank_id,
        )
        return None
    return refund_payout(payment_facts(payment), bank_id=bank_id, payout_id=uuid.uuid4())


async def _refund_all(
    uow: UnitOfWork, payments: Sequence[ExpectedPayment], reason: RefundReason, causation: UUID
) -> None:
    """Refund paid subscriptions to the investors' wallets and instruct their payouts, in
    one write (one lock phase)."""
    if not payments:
        return
    today = japan_date(datetime.now(UTC))
    # Raises on a bug only: the handler fails and the event is retried, then dead-lettered.
    refunds = [
        refund_entry(
            payment_facts(p),
            reason=reason,
            effective_date=today,
            request_hash=request_fingerprint({"event": str(causation)}),
        )
        for p in payments
    ]
    orders = [await _refund_order(uow, p) for p in payments]
    instructed = [order for order in orders if order is not None]
    drafts = [*refunds, *payouts.pending_entries(orders=instructed)]
    written = await books.write_flow_entries(uow, drafts=drafts)
    if written is None:
        raise RuntimeError("a refund for one of these subscriptions already exists")
    now = datetime.now(UTC)
    for payment, entry_id in zip(payments, written, strict=False):
        payment.status = PaymentStatus.REFUNDED.value
        await uow.emit(
            RefundIssued(
                refund_id=uuid.uuid4(),
                fund_id=payment.fund_id,
                investor_id=payment.investor_id,
                subscription_id=payment.subscription_id,
                amount=payment.amount,
                currency=payment.currency,
                reason=reason,
                entry_id=entry_id,
                issued_at=now,
            ),
            subject=str(payment.fund_id),
        )
    await payouts.record_payouts(uow, orders=instructed, entry_ids=written[len(refunds) :])


async def cancel_subscription(
    uow: UnitOfWork, *, event: SubscriptionCancelled, causation: UUID
) -> None:
    """Stop awaiting an unpaid subscription; refund a paid one and pay it back to the investor."""
    payment = await deposits.payment_for_update(uow, subscription_id=event.subscription_id)
    status = PaymentStatus(payment.status) if payment is not None else None
    match on_cancellation(status):
        case Cancellation.STOP_AWAITING:
            assert payment is not None
            payment.status = PaymentStatus.CANCELLED.value
        case Cancellation.REFUND:
            assert payment is not None
            await _refund_all(uow, [payment], RefundReason.SUBSCRIPTION_CANCELLED, causation)
        case Cancellation.NOTHING:
            pass


async def close_fund(uow: UnitOfWork, *, event: FundClosed, causation: UUID) -> None:
    """Release a formed fund's escrow to the business less fees, or refund every investor."""
    fund = await store.fund_for_update(uow.session, event.fund_id)
    if fund is None:
        raise LookupError(f"fund {event.fund_id} was never opened here")
    if not closes(FundStatus(fund.status)):
        return
    paid = await deposits.paid_payments(uow, fund_id=event.fund_id)
    if event.outcome is FundOutcome.FAILED:
        await _refund_all(uow, paid, RefundReason.FUND_FAILED, causation)
        fund.status = FundStatus.CLOSED_FAILED.value
        await grants.on_fund_failed(uow, fund_id=event.fund_id)
        return
    held = await books.posted_balance(uow, code=escrow_account(event.fund_id))
    grant = await grants.held_for_release(uow, fund_id=event.fund_id)
    decision = release_or_hold(
        [PaidIn(p.amount, p.fee_amount) for p in paid],
        arrangement_fee=fund.arrangement_fee,
        held=held or 0,
        announced=event.amount_raised + event.handling_fees_collected,
        grant=grants.release_grant(grant),
    )
    if isinstance(decision, ReleaseHeld):
        # Never release on figures that disagree: staff look at it first.
        fund.status = FundStatus.RELEASE_HELD.value
        fund.status_reason = decision.reason
        return
    # The trigger releases only a formed fund: the status is written before the entry.
    fund.status = FundStatus.FORMED.value
    await uow.session.flush()
    draft = release_entry(
        decision,
        FundFacts(fund_id=str(fund.fund_id), msme_id=str(fund.msme_id), status=FundStatus.FORMED),
        currency=fund.currency,
        effective_date=japan_date(datetime.now(UTC)),
        request_hash=request_fingerprint({"event": str(causation)}),
    )
    written = await books.write_flow_entries(uow, drafts=[draft])
    if written is None:
        raise RuntimeError(f"fund {event.fund_id} was already released")
    for payment in paid:
        payment.status = PaymentStatus.RELEASED.value
    fund.status = FundStatus.RELEASED.value
    if grant is not None:
        await grants.booked(uow, grant, entry_id=written[0])
    await uow.emit(
        FundsReleased(
            fund_id=event.fund_id,
            msme_id=fund.msme_id,
            gross_amount=decision.gross,
            fees_amount=decision.fees_from_escrow,
            net_amount=decision.net,
            currency=fund.currency,
            entry_id=written[0],
            released_at=datetime.now(UTC),
        ),
        subject=str(event.fund_id),
    )


async def segregation_report(
    uow: UnitOfWork, *, fund_id: UUID, principal: Principal
) -> SegregationReportOut:
    """What went into and out of a fund's escrow, and that it agrees with the postings."""
    fund = await store.readable_fund(uow.session, principal, fund_id)
    escrow = await books.movements(uow, code=escrow_account(fund_id))
    if escrow is None:
        raise NotFound("no such fund")
    fees = await books.posted_by_entries(
        uow, code=PLATFORM_FEES, purpose=Purpose.RELEASE, reference_id=str(fund_id)
    )
    subsidy = await grants.booked_at_release(uow, fund_id=fund_id)
    figures = escrow_figures(escrow.posted, fees=fees - subsidy, balance=escrow.balance)
    return SegregationReportOut(
        fund_id=fund_id,
        status=fund.status,
        status_reason=fund.status_reason,
        currency=escrow.currency,
        paid_in=figures.paid_in,
        refunded=figures.refunded,
        released_to_business=figures.released_to_business,
        fees=figures.fees,
        subsidy=subsidy,
        reversals_net=figures.reversals_net,
        balance=figures.balance,
        agrees_with_postings=figures.agrees_with_postings,
    )
