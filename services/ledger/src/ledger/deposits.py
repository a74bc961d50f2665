"""Deposits reported by partner banks, expected payments, and the suspense list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from kumiai.auth import Principal, Role
from kumiai.contracts.ledger import PaymentReceived
from kumiai.contracts.onboarding import AnyFundOpened, FundOpened
from kumiai.contracts.subscription import SubscriptionPlaced
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.idempotency import request_fingerprint
from kumiai.pagination import Page, keyset_page
from kumiai.references import normalise_reference
from ledger.books import EntryDraft, StatusLeg, lock_accounts, write_entry
from ledger.db.models import Account, Deposit, ExpectedPayment, Fund
from ledger.domain.books import (
    Direction,
    EntryType,
    Leg,
    PostingStatus,
    Purpose,
    chart_of_accounts,
)
from ledger.schemas import DepositIn, DepositOut
from ledger.use_cases import today_in_japan

SUSPENSE = "suspense"


class DepositKeyReused(UnprocessableContent):
    problem = "deposit-reported-differently"
    title = "This bank transaction was already reported with other details"


class NotInSuspense(Conflict):
    problem = "not-in-suspense"
    title = "Only a deposit held in suspense can be matched or returned"


class PaymentNotExpected(Conflict):
    problem = "payment-not-expected"
    title = "No open payment of that amount is expected for this subscription"


def _out(deposit: Deposit) -> DepositOut:
    return DepositOut(
        id=deposit.id,
        bank_id=deposit.bank_id,
        bank_transaction_id=deposit.bank_transaction_id,
        amount=deposit.amount,
        currency=deposit.currency,
        value_date=deposit.value_date,
        payment_reference=deposit.payment_reference,
        status=deposit.status,
        reason=deposit.reason,
        subscription_id=deposit.subscription_id,
        entry_id=deposit.entry_id,
        created_at=deposit.created_at,
    )


async def open_fund(uow: UnitOfWork, event: AnyFundOpened) -> None:
    """Remember a newly opened fund and its fees, and open its escrow account."""
    # v1 events (published before fees were part of the terms) carry none.
    arrangement_fee = event.fees.arrangement_fee if isinstance(event, FundOpened) else 0
    await uow.session.execute(
        insert(Fund)
        .values(
            fund_id=event.fund_id,
            msme_id=event.msme_id,
            currency=event.currency,
            arrangement_fee=arrangement_fee,
            status="open",
        )
        .on_conflict_do_nothing()
    )
    code = f"fund/{event.fund_id}/escrow"
    spec = chart_of_accounts(code)
    await uow.session.execute(
        insert(Account)
        .values(
            id=uuid.uuid4(),
            code=code,
            kind=spec.kind.value,
            currency=event.currency,
            owner_type=spec.owner_type,
            owner_id=spec.owner_id,
            segregated=spec.segregated,
            debits_must_not_exceed_credits=spec.conditions.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=spec.conditions.credits_must_not_exceed_debits,
        )
        .on_conflict_do_nothing()
    )


async def expect_payment(uow: UnitOfWork, event: SubscriptionPlaced) -> None:
    """Await the subscription's amount due under its payment reference."""
    await uow.session.execute(
        insert(ExpectedPayment)
        .values(
            subscription_id=event.subscription_id,
            fund_id=event.fund_id,
            investor_id=event.investor_id,
            amount=event.amount_due,
            fee_amount=event.units * event.handling_fee_per_unit,
            currency=event.currency,
            payment_reference=normalise_reference(event.payment_reference),
            payment_deadline=event.payment_deadline,
            status="expected",
        )
        .on_conflict_do_nothing()
    )


async def record_deposit(
    uow: UnitOfWork, *, deposit: DepositIn, principal: Principal
) -> tuple[DepositOut, bool]:
    """Book a bank's reported credit: into the fund's escrow if it matches, else suspense.

    Idempotent on the bank's transaction id. Nothing is ever dropped: an unknown
    reference, a wrong amount or a payment already made goes to the suspense
    account and the staff's exception list.
    """
    session = uow.session
    bank_id = principal.tenant
    fingerprint = request_fingerprint(deposit)
    known = await session.scalar(
        select(Deposit).where(
            Deposit.bank_id == bank_id, Deposit.bank_transaction_id == deposit.bank_transaction_id
        )
    )
    if known is not None:
        if known.request_hash != fingerprint:
            raise DepositKeyReused(f"transaction {deposit.bank_transaction_id} differs")
        return _out(known), False
    expected = await session.scalar(
        select(ExpectedPayment)
        .where(ExpectedPayment.payment_reference == normalise_reference(deposit.payment_reference))
        .with_for_update()
    )
    reason = _mismatch(expected, deposit)
    credit = SUSPENSE if reason else f"fund/{expected.fund_id}/escrow"  # type: ignore[union-attr]
    deposit_id = uuid.uuid4()
    legs = [
        StatusLeg(
            Leg(f"bank/{bank_id}/clearing", Direction.DEBIT, deposit.amount, deposit.currency),
            PostingStatus.POSTED,
        ),
        StatusLeg(
            Leg(credit, Direction.CREDIT, deposit.amount, deposit.currency), PostingStatus.POSTED
        ),
    ]
    accounts = await lock_accounts(session, legs)
    written = await write_entry(
        session,
        EntryDraft(
            legs=legs,
            entry_type=EntryType.STANDARD,
            purpose=Purpose.DEPOSIT,
            description=(
                f"Deposit {deposit.bank_transaction_id} from bank {bank_id}"
                + (f" held in suspense: {reason}" if reason else "")
            ),
            effective_date=deposit.value_date,
            idempotency_key=f"deposit/{bank_id}/{deposit.bank_transaction_id}",
            request_hash=fingerprint,
            created_by=principal.subject,
            reference_type="deposit",
            reference_id=str(deposit_id),
        ),
        accounts,
    )
    if written is None:
        raise Conflict("this deposit is being recorded by another request; retry")
    row = Deposit(
        id=deposit_id,
        bank_id=bank_id,
        bank_transaction_id=deposit.bank_transaction_id,
        request_hash=fingerprint,
        amount=deposit.amount,
        currency=deposit.currency,
        value_date=deposit.value_date,
        payment_reference=deposit.payment_reference,
        status="suspense" if reason else "matched",
        reason=reason,
        subscription_id=None if reason else expected.subscription_id,  # type: ignore[union-attr]
        entry_id=written.id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    if not reason:
        assert expected is not None
        await _mark_paid(uow, expected, row)
    await session.flush()
    return _out(row), True


def _mismatch(expected: ExpectedPayment | None, deposit: DepositIn) -> str | None:
    if expected is None:
        return "unknown payment reference"
    if expected.status != "expected":
        return f"subscription is {expected.status}"
    if expected.currency != deposit.currency or expected.amount != deposit.amount:
        paid = f"{deposit.amount} {deposit.currency}"
        return f"amount {paid} differs from {expected.amount} {expected.currency} due"
    return None


async def _mark_paid(uow: UnitOfWork, expected: ExpectedPayment, deposit: Deposit) -> None:
    expected.status = "paid"
    expected.deposit_id = deposit.id
    await uow.emit(
        PaymentReceived(
            deposit_id=deposit.id,
            subscription_id=expected.subscription_id,
            fund_id=expected.fund_id,
            investor_id=expected.investor_id,
            amount=deposit.amount,
            currency=deposit.currency,
            value_date=deposit.value_date,
            bank_id=deposit.bank_id,
            received_at=datetime.now(UTC),
        ),
        subject=str(expected.fund_id),
    )


async def get_deposit(uow: UnitOfWork, *, deposit_id: UUID, principal: Principal) -> DepositOut:
    deposit = await uow.session.get(Deposit, deposit_id)
    bank_only = principal.role is Role.BANK
    if deposit is None or (bank_only and deposit.bank_id != principal.tenant):
        raise NotFound(f"no deposit {deposit_id}")
    return _out(deposit)


async def list_deposits(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: str | None,
    bank_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[DepositOut]:
    """Deposits oldest first, one page; a bank sees only its own."""
    if principal.role is Role.BANK:
        if bank_id not in (None, principal.tenant):
            raise Forbidden("a bank sees only its own deposits")
        bank_id = principal.tenant
    query = select(Deposit)
    if bank_id is not None:
        query = query.where(Deposit.bank_id == bank_id)
    if status is not None:
        query = query.where(Deposit.status == status)
    return await keyset_page(uow.session, query, Deposit, cursor, limit, _out)


async def match_suspense(
    uow: UnitOfWork, *, deposit_id: UUID, subscription_id: UUID, note: str, principal: Principal
) -> DepositOut:
    """Staff match a suspense deposit to a subscription whose amount it pays exactly."""
    session = uow.session
    deposit = await session.get(Deposit, deposit_id, with_for_update=True)
    if deposit is None:
        raise NotFound(f"no deposit {deposit_id}")
    if deposit.status != "suspense":
        raise NotInSuspense(f"deposit {deposit_id} is {deposit.status}")
    expected = await session.get(ExpectedPayment, subscription_id, with_for_update=True)
    if (
        expected is None
        or expected.status != "expected"
        or expected.amount != deposit.amount
        or expected.currency != deposit.currency
    ):
        raise PaymentNotExpected(f"subscription {subscription_id} does not await {deposit.amount}")
    legs = [
        StatusLeg(
            Leg(SUSPENSE, Direction.DEBIT, deposit.amount, deposit.currency), PostingStatus.POSTED
        ),
        StatusLeg(
            Leg(
                f"fund/{expected.fund_id}/escrow",
                Direction.CREDIT,
                deposit.amount,
                deposit.currency,
            ),
            PostingStatus.POSTED,
        ),
    ]
    accounts = await lock_accounts(session, legs)
    written = await write_entry(
        session,
        EntryDraft(
            legs=legs,
            entry_type=EntryType.STANDARD,
            purpose=Purpose.TRANSFER,
            description=f"Suspense deposit {deposit.id} matched by staff: {note}",
            effective_date=today_in_japan(),
            idempotency_key=f"deposit/{deposit.id}/match",
            request_hash=request_fingerprint({"subscription": str(subscription_id)}),
            created_by=principal.subject,
            reference_type="deposit",
            reference_id=str(deposit.id),
        ),
        accounts,
    )
    if written is None:
        raise NotInSuspense(f"deposit {deposit_id} was already matched")
    deposit.status = "matched"
    deposit.subscription_id = subscription_id
    await _mark_paid(uow, expected, deposit)
    await session.flush()
    return _out(deposit)
