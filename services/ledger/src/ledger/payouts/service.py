"""Payouts: pending entries until the bank confirms (posted) or reports failure (voided).

Every payout is announced with ``PayoutInstructed`` so that the service keeping
the beneficiary's registered account lets that bank read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from kumiai.contracts.ledger import PayoutBeneficiary, PayoutInstructed
from kumiai.db import UnitOfWork
from kumiai.idempotency import client_key, request_fingerprint
from kumiai.pagination import Page, keyset_page
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import Conflict
from ledger.books import service as books
from ledger.books.rules import FLOW_AUTHOR, SUSPENSE, EntryDraft
from ledger.db.models import JournalEntry, Payout
from ledger.deposits import service as deposits
from ledger.payouts import store
from ledger.payouts.rules import (
    PayoutOrder,
    PayoutStatus,
    batch_settlement,
    check_active_bank,
    check_answer,
    check_bank_pays_back,
    check_may_pay_from,
    check_one_batch,
    check_same_payout,
    check_unsettled,
    payout_beneficiary,
    pending_entry,
    return_key,
    settled,
    settlement_key,
)
from ledger.payouts.schemas import PayoutAnswersIn, PayoutAnswersOut, PayoutIn, PayoutOut


def _payout_out(p: Payout) -> PayoutOut:
    return PayoutOut(
        id=p.id,
        bank_id=p.bank_id,
        account=p.account,
        amount=p.amount,
        currency=p.currency,
        status=PayoutStatus(p.status),
        reference=p.reference,
        beneficiary=PayoutBeneficiary(p.beneficiary),
        beneficiary_id=p.beneficiary_id,
        fund_id=p.fund_id,
        deposit_id=p.deposit_id,
        pending_entry_id=p.pending_entry_id,
        resolution_entry_id=p.resolution_entry_id,
        created_at=p.created_at,
    )


def pending_entries(*, orders: Sequence[PayoutOrder]) -> list[EntryDraft]:
    """The pending entries that hold these payouts' amounts until their banks answer."""
    today = japan_date(datetime.now(UTC))
    return [
        pending_entry(
            order,
            effective_date=today,
            request_hash=request_fingerprint({"payout": str(order.id)}),
        )
        for order in orders
    ]


async def bank_is_active(uow: UnitOfWork, *, bank_id: str) -> bool:
    """Whether a payout can go through ``bank_id`` now: a registered, active partner bank."""
    return await store.bank_is_active(uow.session, bank_id)


async def record_payouts(
    uow: UnitOfWork, *, orders: Sequence[PayoutOrder], entry_ids: Sequence[UUID]
) -> list[Payout]:
    """Instruct payouts whose pending entries were just written, each announced to its bank
    with ``PayoutInstructed``."""
    now = datetime.now(UTC)
    rows = []
    for order, entry_id in zip(orders, entry_ids, strict=True):
        row = Payout(
            id=order.id,
            idempotency_key=order.key,
            bank_id=order.bank_id,
            account=order.account,
            amount=order.amount,
            currency=order.currency,
            status=PayoutStatus.INSTRUCTED.value,
            reference=order.reference,
            beneficiary=order.beneficiary.value,
            beneficiary_id=order.beneficiary_id,
            fund_id=order.fund_id,
            deposit_id=order.deposit_id,
            pending_entry_id=entry_id,
            created_by=order.created_by,
            created_at=now,
        )
        uow.session.add(row)
        rows.append(row)
        await uow.emit(
            PayoutInstructed(
                payout_id=order.id,
                fund_id=order.fund_id,
                beneficiary=order.beneficiary,
                beneficiary_id=order.beneficiary_id,
                bank_id=order.bank_id,
                amount=order.amount,
                currency=order.currency,
                instructed_at=now,
            ),
            subject=str(order.fund_id or order.id),
        )
    await uow.session.flush()
    return rows


async def _instruct(uow: UnitOfWork, order: PayoutOrder) -> Payout:
    written = await books.write_flow_entries(uow, drafts=pending_entries(orders=[order]))
    if written is None:
        raise Conflict("this payout is being instructed by another request; retry")
    [row] = await record_payouts(uow, orders=[order], entry_ids=written)
    return row


async def instruct_payout(
    uow: UnitOfWork, *, payout: PayoutIn, idempotency_key: str, principal: Principal
) -> tuple[PayoutOut, bool]:
    """Hold the amount as a pending entry and instruct the bank; replays return the same.

    The caller's key is its own (``client_key``), apart from every other caller's
    and from the keys of the ledger's own payouts.
    """
    beneficiary, owner = payout_beneficiary(payout.account)
    check_may_pay_from(principal, payout.account)
    key = client_key(principal, idempotency_key)
    known = await store.payout_by_key(uow.session, key)
    if known is not None:
        check_same_payout(
            (known.account, known.amount, known.currency, known.bank_id, known.reference),
            (payout.account, payout.amount, payout.currency, payout.bank_id, payout.reference),
        )
        return _payout_out(known), False
    check_active_bank(
        payout.bank_id, active=await store.bank_is_active(uow.session, payout.bank_id)
    )
    row = await _instruct(
        uow,
        PayoutOrder(
            id=uuid.uuid4(),
            key=key,
            account=payout.account,
            amount=payout.amount,
            currency=payout.currency,
            bank_id=payout.bank_id,
            reference=payout.reference,
            beneficiary=beneficiary,
            beneficiary_id=owner,
            created_by=principal.subject,
        ),
    )
    return _payout_out(row), True


async def settle_payout(
    uow: UnitOfWork, *, payout_id: UUID, confirmed: bool, note: str, principal: Principal
) -> PayoutOut:
    """The bank's answer: confirmed posts the pending entry, failed voids it. Once.

    Only the bank the payout was instructed to answers; another bank is told no
    such payout exists. A failed payout leaves the money where it was (a wallet,
    a payable, or suspense for a returned deposit), to be instructed again.
    """
    payout = await store.readable_payout(uow.session, principal, payout_id)
    if payout.settled_in_batch:
        return await _answer_in_batch(uow, payout, confirmed=confirmed)
    check_unsettled(PayoutStatus(payout.status))
    outcome = "confirm" if confirmed else "fail"
    entry = await books.settle_pending(
        uow,
        entry_id=payout.pending_entry_id,
        post=confirmed,
        description=f"Bank {'confirmed' if confirmed else 'failed'} payout {payout.id}: {note}",
        idempotency_key=settlement_key(payout.id, confirmed=confirmed),
        request_hash=request_fingerprint({"payout": str(payout.id), outcome: note}),
        created_by=principal.subject,
    )
    payout.status = settled(confirmed=confirmed).value
    payout.resolution_entry_id = entry.id
    if payout.deposit_id is not None:
        await deposits.finish_return(uow, deposit_id=payout.deposit_id, confirmed=confirmed)
    await uow.session.flush()
    return _payout_out(payout)


async def _answer_in_batch(uow: UnitOfWork, payout: Payout, *, confirmed: bool) -> PayoutOut:
    """A payout held with its batch: the answer is kept, and the last answer of the batch
    posts the batch's pending entry and brings back what failed (``batch_settlement``).
    The answers of one batch take turns on the pending entry's row lock."""
    session = uow.session
    pending, rows = await books.pending_entry_for_update(uow, entry_id=payout.pending_entry_id)
    await session.refresh(payout)
    check_unsettled(PayoutStatus(payout.status))
    payout.status = settled(confirmed=confirmed).value
    await session.flush()
    await _settle_batch_if_answered(uow, pending, rows, bank_id=payout.bank_id)
    await session.refresh(payout)
    return _payout_out(payout)


async def _settle_batch_if_answered(
    uow: UnitOfWork, pending: JournalEntry, rows: Sequence[Any], *, bank_id: str
) -> UUID | None:
    """Once the bank answered every payout held by ``pending``: post it whole, bring back
    what failed, and note the settlement on every payout. The caller holds the entry's
    lock."""
    session = uow.session
    if await store.unanswered_in_batch(session, pending.id):
        return None
    failed = await store.failed_in_batch(session, pending.id)
    post = books.resolution_draft(
        pending,
        rows,
        post=True,
        description=f"Bank {bank_id} answered every payout of batch entry {pending.id}",
        idempotency_key=f"payout/batch/{pending.id}",
        request_hash=f"payout/batch/{pending.id}",
        created_by=FLOW_AUTHOR,
    )
    returned = batch_settlement(
        [(p.account, p.amount) for p in failed],
        bank_id=bank_id,
        currency=pending_currency(rows),
        pending_entry_id=pending.id,
        effective_date=japan_date(datetime.now(UTC)),
    )
    written = await books.write_flow_entries(
        uow, drafts=[post] if returned is None else [post, returned]
    )
    if written is None:
        raise Conflict(f"the payouts of batch entry {pending.id} were settled at the same time")
    await store.resolve_batch(session, pending.id, resolution_entry_id=written[0])
    return written[0]


def pending_currency(rows: Sequence[Any]) -> str:
    currency: str = rows[0].currency
    return currency


async def answer_payouts(
    uow: UnitOfWork, *, body: PayoutAnswersIn, principal: Principal
) -> PayoutAnswersOut:
    """A bank's answers to the payouts of one distribution batch, together (its result
    file): each recorded once (a retry of the same answer changes nothing), all or none;
    the last answer of the batch posts it (``_settle_batch_if_answered``)."""
    session = uow.session
    ids = [answer.payout_id for answer in body.answers]
    payouts = await store.readable_payouts_by_ids(session, principal, ids)
    entry_id = check_one_batch(
        {p.pending_entry_id for p in payouts},
        in_batch=all(p.settled_in_batch for p in payouts),
        repeated=len(set(ids)) != len(ids),
    )
    pending, rows = await books.pending_entry_for_update(uow, entry_id=entry_id)
    answered = 0
    for payout, answer in zip(payouts, body.answers, strict=True):
        confirmed = answer.outcome == "confirmed"
        if check_answer(PayoutStatus(payout.status), confirmed=confirmed):
            payout.status = settled(confirmed=confirmed).value
            answered += 1
    await session.flush()
    settled_by = pending_resolution(payouts)
    if answered:
        settled_by = await _settle_batch_if_answered(uow, pending, rows, bank_id=payouts[0].bank_id)
    return PayoutAnswersOut(
        batch_entry_id=entry_id,
        answered=answered,
        unchanged=len(payouts) - answered,
        unanswered=await store.unanswered_in_batch(session, entry_id),
        settled_entry_id=settled_by,
    )


def pending_resolution(payouts: Sequence[Payout]) -> UUID | None:
    return payouts[0].resolution_entry_id


async def return_deposit(
    uow: UnitOfWork, *, deposit_id: UUID, note: str, principal: Principal
) -> PayoutOut:
    """Send a suspense deposit back to the payer through the bank that received it."""
    deposit = await deposits.start_return(uow, deposit_id=deposit_id, principal=principal)
    check_bank_pays_back(
        deposit.bank_id, active=await store.bank_is_active(uow.session, deposit.bank_id)
    )
    payout_id = uuid.uuid4()
    order = PayoutOrder(
        id=payout_id,
        key=return_key(deposit.id, payout_id),
        account=SUSPENSE,
        amount=deposit.amount,
        currency=deposit.currency,
        bank_id=deposit.bank_id,
        reference=f"return of deposit {deposit.bank_transaction_id}: {note}",
        beneficiary=PayoutBeneficiary.PAYER,
        beneficiary_id=str(deposit.id),
        created_by=principal.subject,
        deposit_id=deposit.id,
    )
    return _payout_out(await _instruct(uow, order))


async def list_payouts(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: PayoutStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[PayoutOut]:
    """Payouts oldest first, one page; a bank sees only those it must send."""
    query = store.readable_payouts(principal, status=status)
    return await keyset_page(uow.session, query, Payout, cursor, limit, _payout_out)
