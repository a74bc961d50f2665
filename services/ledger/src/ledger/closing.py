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
from sqlalchemy import func, select

from kumiai.contracts.ledger import FundsReleased, PayoutBeneficiary, RefundIssued, RefundReason
from kumiai.contracts.subscription import FundClosed, FundOutcome, SubscriptionCancelled
from kumiai.db import UnitOfWork
from kumiai.errors import NotFound
from kumiai.idempotency import request_fingerprint
from ledger.books import EntryDraft, StatusLeg, current_balance, lock_accounts, write_entries
from ledger.db.models import Account, Deposit, ExpectedPayment, Fund, JournalEntry, Posting
from ledger.deposits import fund_facts, payment_facts
from ledger.domain.books import (
    AccountKind,
    Direction,
    EntryType,
    FundFacts,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    check_segregation,
)
from ledger.payouts import PayoutOrder, bank_is_active, record_payouts
from ledger.schemas import SegregationReportOut
from ledger.use_cases import today_in_japan

SYSTEM = "service:ledger"
log = structlog.get_logger(__name__)


def _posted(code: str, direction: Direction, amount: int, currency: str) -> StatusLeg:
    return StatusLeg(Leg(code, direction, amount, currency), PostingStatus.POSTED)


def _refund_draft(payment: ExpectedPayment, reason: RefundReason, causation: UUID) -> EntryDraft:
    legs = [
        Leg(f"fund/{payment.fund_id}/escrow", Direction.DEBIT, payment.amount, payment.currency),
        Leg(
            f"investor/{payment.investor_id}/wallet",
            Direction.CREDIT,
            payment.amount,
            payment.currency,
        ),
    ]
    # Raises on a bug only: the handler fails and the event is retried, then dead-lettered.
    check_segregation(
        Purpose.REFUND,
        legs,
        reference_id=str(payment.subscription_id),
        payment=payment_facts(payment),
    )
    return EntryDraft(
        legs=[StatusLeg(leg, PostingStatus.POSTED) for leg in legs],
        entry_type=EntryType.STANDARD,
        purpose=Purpose.REFUND,
        description=f"Refund of subscription {payment.subscription_id} ({reason.value})",
        effective_date=today_in_japan(),
        idempotency_key=f"refund/{payment.subscription_id}",
        request_hash=request_fingerprint({"event": str(causation)}),
        created_by=SYSTEM,
        reference_type="subscription",
        reference_id=str(payment.subscription_id),
        origin=Origin.FLOW,
    )


async def _refund_payout(uow: UnitOfWork, payment: ExpectedPayment) -> PayoutOrder | None:
    """The payout of a refund to the investor through the bank that received the deposit."""
    deposit = await uow.session.get(Deposit, payment.deposit_id) if payment.deposit_id else None
    if deposit is None or not await bank_is_active(uow.session, deposit.bank_id):
        # The refund stays in the wallet; staff instruct its payout through another bank.
        log.warning(
            "refund not paid out: the receiving bank is unknown or not active",
            subscription_id=str(payment.subscription_id),
            bank_id=deposit.bank_id if deposit else None,
        )
        return None
    return PayoutOrder(
        key=f"refund/{payment.subscription_id}",
        account=f"investor/{payment.investor_id}/wallet",
        amount=payment.amount,
        currency=payment.currency,
        bank_id=deposit.bank_id,
        reference=f"refund of subscription {payment.subscription_id}",
        beneficiary=PayoutBeneficiary.INVESTOR,
        beneficiary_id=str(payment.investor_id),
        created_by=SYSTEM,
        fund_id=payment.fund_id,
    )


async def _refund_all(
    uow: UnitOfWork, payments: Sequence[ExpectedPayment], reason: RefundReason, causation: UUID
) -> None:
    """Refund paid subscriptions to the investors' wallets and instruct their payouts, in
    one write (one lock phase)."""
    if not payments:
        return
    refunds = [_refund_draft(p, reason, causation) for p in payments]
    orders = [await _refund_payout(uow, p) for p in payments]
    payouts = [order for order in orders if order is not None]
    drafts = [*refunds, *(order.draft() for order in payouts)]
    accounts = await lock_accounts(uow.session, [leg for d in drafts for leg in d.legs])
    written = await write_entries(uow.session, drafts, accounts)
    if written is None:
        raise RuntimeError("a refund for one of these subscriptions already exists")
    now = datetime.now(UTC)
    for payment, entry in zip(payments, written, strict=False):
        payment.status = "refunded"
        await uow.emit(
            RefundIssued(
                refund_id=uuid.uuid4(),
                fund_id=payment.fund_id,
                investor_id=payment.investor_id,
                subscription_id=payment.subscription_id,
                amount=payment.amount,
                currency=payment.currency,
                reason=reason,
                entry_id=entry.id,
                issued_at=now,
            ),
            subject=str(payment.fund_id),
        )
    await record_payouts(uow, payouts, written[len(refunds) :])


async def cancel_subscription(
    uow: UnitOfWork, event: SubscriptionCancelled, *, causation: UUID
) -> None:
    """Stop awaiting an unpaid subscription; refund a paid one and pay it back to the investor."""
    payment = await uow.session.get(ExpectedPayment, event.subscription_id, with_for_update=True)
    if payment is None or payment.status in ("cancelled", "refunded"):
        return
    if payment.status == "expected":
        payment.status = "cancelled"
        return
    if payment.status == "paid":
        await _refund_all(uow, [payment], RefundReason.SUBSCRIPTION_CANCELLED, causation)


async def close_fund(uow: UnitOfWork, event: FundClosed, *, causation: UUID) -> None:
    """Release a formed fund's escrow to the business less fees, or refund every investor."""
    session = uow.session
    fund = await session.get(Fund, event.fund_id, with_for_update=True)
    if fund is None:
        raise LookupError(f"fund {event.fund_id} was never opened here")
    if fund.status != "open":
        return
    paid = list(
        await session.scalars(
            select(ExpectedPayment)
            .where(ExpectedPayment.fund_id == event.fund_id, ExpectedPayment.status == "paid")
            .order_by(ExpectedPayment.subscription_id)
            .with_for_update()
        )
    )
    if event.outcome is FundOutcome.FAILED:
        await _refund_all(uow, paid, RefundReason.FUND_FAILED, causation)
        fund.status = "closed_failed"
        return
    gross = sum(p.amount for p in paid)
    handling_fees = sum(p.fee_amount for p in paid)
    fees = handling_fees + fund.arrangement_fee
    escrow_code = f"fund/{event.fund_id}/escrow"
    escrow = await session.scalar(select(Account).where(Account.code == escrow_code))
    held = (
        (await current_balance(session, escrow.id)).posted(AccountKind.LIABILITY) if escrow else 0
    )
    announced = event.amount_raised + event.handling_fees_collected
    if gross <= 0 or held != gross or announced != gross or fees > gross:
        # Never release on figures that disagree: staff look at it first.
        fund.status = "release_held"
        fund.status_reason = (
            f"escrow holds {held}, paid subscriptions {gross}, closing announced {announced}, "
            f"fees {fees}"
        )
        return
    legs = [_posted(escrow_code, Direction.DEBIT, gross, fund.currency)]
    if gross > fees:
        legs.append(
            _posted(f"msme/{fund.msme_id}/payable", Direction.CREDIT, gross - fees, fund.currency)
        )
    if fees:
        legs.append(_posted("platform/fees", Direction.CREDIT, fees, fund.currency))
    # The trigger releases only a formed fund: the status is written before the entry.
    fund.status = "formed"
    await session.flush()
    check_segregation(
        Purpose.RELEASE,
        [s.leg for s in legs],
        reference_id=str(event.fund_id),
        fund=FundFacts(
            **{**fund_facts(fund).__dict__, "paid_in": gross, "fees_due": fees},
        ),
    )
    draft = EntryDraft(
        legs=legs,
        entry_type=EntryType.STANDARD,
        purpose=Purpose.RELEASE,
        description=(
            f"Release of fund {event.fund_id} to its business, less handling fees "
            f"{handling_fees} and arrangement fee {fund.arrangement_fee}"
        ),
        effective_date=today_in_japan(),
        idempotency_key=f"release/{event.fund_id}",
        request_hash=request_fingerprint({"event": str(causation)}),
        created_by=SYSTEM,
        reference_type="fund",
        reference_id=str(event.fund_id),
        origin=Origin.FLOW,
    )
    accounts = await lock_accounts(session, legs)
    written = await write_entries(session, [draft], accounts)
    if written is None:
        raise RuntimeError(f"fund {event.fund_id} was already released")
    for payment in paid:
        payment.status = "released"
    fund.status = "released"
    await uow.emit(
        FundsReleased(
            fund_id=event.fund_id,
            msme_id=fund.msme_id,
            gross_amount=gross,
            fees_amount=fees,
            net_amount=gross - fees,
            currency=fund.currency,
            entry_id=written[0].id,
            released_at=datetime.now(UTC),
        ),
        subject=str(event.fund_id),
    )


async def segregation_report(uow: UnitOfWork, *, fund_id: UUID) -> SegregationReportOut:
    """What went into and out of a fund's escrow, and that it agrees with the postings."""
    session = uow.session
    fund = await session.get(Fund, fund_id)
    escrow = await session.scalar(select(Account).where(Account.code == f"fund/{fund_id}/escrow"))
    if fund is None or escrow is None:
        raise NotFound("no such fund")
    rows = (
        await session.execute(
            select(JournalEntry.purpose, Posting.direction, func.sum(Posting.amount))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == escrow.id, Posting.status == PostingStatus.POSTED.value)
            .group_by(JournalEntry.purpose, Posting.direction)
        )
    ).all()
    by = {(purpose, direction): int(total) for purpose, direction, total in rows}
    credits = sum(v for (_, d), v in by.items() if d == "credit")
    debits = sum(v for (_, d), v in by.items() if d == "debit")
    released = by.get(("release", "debit"), 0)
    fees = int(
        await session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .join(Account, Account.id == Posting.account_id)
            .where(
                JournalEntry.purpose == Purpose.RELEASE.value,
                JournalEntry.reference_id == str(fund_id),
                Account.code == "platform/fees",
            )
        )
        or 0
    )
    balance = (await current_balance(session, escrow.id)).posted(AccountKind.LIABILITY)
    return SegregationReportOut(
        fund_id=fund_id,
        status=fund.status,
        status_reason=fund.status_reason,
        currency=escrow.currency,
        paid_in=credits - by.get(("reversal", "credit"), 0),
        refunded=by.get(("refund", "debit"), 0),
        released_to_business=released - fees,
        fees=fees,
        reversals_net=by.get(("reversal", "credit"), 0) - by.get(("reversal", "debit"), 0),
        balance=balance,
        agrees_with_postings=balance == credits - debits,
    )
