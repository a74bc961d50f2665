"""Payouts: pending entries until the bank confirms (posted) or reports failure (voided)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select

from kumiai.auth import Principal, Role
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.idempotency import request_fingerprint
from kumiai.pagination import Page, keyset_page
from ledger.db.models import Deposit, Payout
from ledger.schemas import EntryIn, PayoutIn, PayoutOut, PostingIn
from ledger.use_cases import post_entry, resolve_pending

PAYABLE_PREFIXES = ("investor/", "msme/", "suspense")


class PayoutKeyReused(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different payout"


class PayoutSettled(Conflict):
    problem = "payout-settled"
    title = "This payout was already confirmed or failed"


def _out(p: Payout) -> PayoutOut:
    return PayoutOut(
        id=p.id,
        bank_id=p.bank_id,
        account=p.account,
        amount=p.amount,
        currency=p.currency,
        status=p.status,
        reference=p.reference,
        deposit_id=p.deposit_id,
        pending_entry_id=p.pending_entry_id,
        resolution_entry_id=p.resolution_entry_id,
        created_at=p.created_at,
    )


def _may_pay_from(principal: Principal, account: str) -> None:
    if principal.role in (Role.STAFF, Role.SERVICE):
        if not account.startswith(PAYABLE_PREFIXES) or account.endswith("/escrow"):
            raise UnprocessableContent(f"payouts are made from wallets and payables, not {account}")
        return
    if principal.role is Role.INVESTOR and account == f"investor/{principal.tenant}/wallet":
        return
    raise Forbidden("you may withdraw only from your own wallet")


async def instruct_payout(
    uow: UnitOfWork,
    *,
    payout: PayoutIn,
    idempotency_key: str,
    principal: Principal,
    deposit_id: UUID | None = None,
) -> tuple[PayoutOut, bool]:
    """Hold the amount as a pending entry and instruct the bank; replays return the same."""
    _may_pay_from(principal, payout.account)
    session = uow.session
    known = await session.scalar(select(Payout).where(Payout.idempotency_key == idempotency_key))
    if known is not None:
        if (known.account, known.amount, known.bank_id) != (
            payout.account,
            payout.amount,
            payout.bank_id,
        ):
            raise PayoutKeyReused("this Idempotency-Key was used for another payout")
        return _out(known), False
    entry, _ = await post_entry(
        uow,
        entry=EntryIn(
            purpose="payout",
            description=f"Payout to bank {payout.bank_id}: {payout.reference}",
            pending=True,
            reference_type="payout",
            reference_id=payout.reference,
            postings=[
                PostingIn(
                    account=payout.account,
                    direction="debit",
                    amount=payout.amount,
                    currency=payout.currency,
                ),
                PostingIn(
                    account=f"bank/{payout.bank_id}/clearing",
                    direction="credit",
                    amount=payout.amount,
                    currency=payout.currency,
                ),
            ],
        ),
        idempotency_key=f"payout/{idempotency_key}",
        principal=principal,
    )
    row = Payout(
        id=uuid.uuid4(),
        idempotency_key=idempotency_key,
        bank_id=payout.bank_id,
        account=payout.account,
        amount=payout.amount,
        currency=payout.currency,
        status="instructed",
        reference=payout.reference,
        deposit_id=deposit_id,
        pending_entry_id=entry.id,
        created_by=principal.subject,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return _out(row), True


async def settle_payout(
    uow: UnitOfWork, *, payout_id: UUID, confirmed: bool, note: str, principal: Principal
) -> PayoutOut:
    """The bank's answer: confirmed posts the pending entry, failed voids it. Once."""
    session = uow.session
    payout = await session.get(Payout, payout_id, with_for_update=True)
    if payout is None or (principal.role is Role.BANK and payout.bank_id != principal.tenant):
        raise NotFound(f"no payout {payout_id}")
    if payout.status != "instructed":
        raise PayoutSettled(f"payout {payout_id} is {payout.status}")
    entry = await resolve_pending(
        uow,
        entry_id=payout.pending_entry_id,
        post=confirmed,
        description=f"Bank {'confirmed' if confirmed else 'failed'} payout {payout.id}: {note}",
        idempotency_key=f"payout/{payout.id}/{'confirm' if confirmed else 'fail'}",
        principal=principal,
    )
    payout.status = "confirmed" if confirmed else "failed"
    payout.resolution_entry_id = entry.id
    if payout.deposit_id is not None:
        deposit = await session.get(Deposit, payout.deposit_id, with_for_update=True)
        if deposit is not None:
            deposit.status = "returned" if confirmed else "suspense"
    await session.flush()
    return _out(payout)


async def return_deposit(
    uow: UnitOfWork, *, deposit_id: UUID, note: str, principal: Principal
) -> PayoutOut:
    """Send a suspense deposit back to the payer through the bank that received it."""
    deposit = await uow.session.get(Deposit, deposit_id, with_for_update=True)
    if deposit is None:
        raise NotFound(f"no deposit {deposit_id}")
    if deposit.status != "suspense":
        raise Conflict(f"deposit {deposit_id} is {deposit.status}")
    deposit.status = "returning"
    out, _ = await instruct_payout(
        uow,
        payout=PayoutIn(
            account="suspense",
            amount=deposit.amount,
            currency=deposit.currency,
            bank_id=deposit.bank_id,
            reference=f"return of deposit {deposit.bank_transaction_id}: {note}",
        ),
        idempotency_key=f"return/{deposit.id}/{request_fingerprint({'n': note})[:16]}",
        principal=principal,
        deposit_id=deposit.id,
    )
    return out


async def list_payouts(
    uow: UnitOfWork, *, principal: Principal, status: str | None, cursor: str | None, limit: int
) -> Page[PayoutOut]:
    """Payouts oldest first, one page; a bank sees only those it must send."""
    query = select(Payout)
    if principal.role is Role.BANK:
        query = query.where(Payout.bank_id == principal.tenant)
    if status:
        query = query.where(Payout.status == status)
    return await keyset_page(uow.session, query, Payout, cursor, limit, _out)
