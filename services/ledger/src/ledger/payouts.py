"""Payouts: pending entries until the bank confirms (posted) or reports failure (voided).

Money leaves the platform only through a registered, active partner bank, from
an investor's wallet or a business's payable (or, when a deposit is returned to
its payer, from suspense). Every payout is announced with ``PayoutInstructed``
so that the service keeping the beneficiary's registered account lets that
bank read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal, Role
from kumiai.contracts.ledger import PayoutBeneficiary, PayoutInstructed
from kumiai.contracts.onboarding import PartnerKind
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.idempotency import client_key, request_fingerprint
from kumiai.pagination import Page, keyset_page
from kumiai.partners import partner_exists
from ledger.books import (
    EntryDraft,
    StatusLeg,
    Written,
    lock_accounts,
    unknown_account,
    write_entries,
)
from ledger.db.models import Deposit, JournalEntry, Payout
from ledger.deposits import NotInSuspense
from ledger.domain.books import (
    Direction,
    EntryType,
    Leg,
    Origin,
    PayoutSourceError,
    PostingStatus,
    Purpose,
    UnknownAccountError,
    payout_beneficiary,
)
from ledger.schemas import PayoutIn, PayoutOut, PayoutStatus
from ledger.use_cases import settle_pending, today_in_japan

SUSPENSE = "suspense"


class PayoutKeyReused(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different payout"


class PayoutSettled(Conflict):
    problem = "payout-settled"
    title = "This payout was already confirmed or failed"


class PayoutSourceRefused(UnprocessableContent):
    problem = "payout-source"
    title = "Payouts leave only from a wallet or a business's payable"


class UnknownBank(UnprocessableContent):
    problem = "unknown-bank"
    title = "Payouts go only through a registered, active partner bank"


def payout_out(p: Payout) -> PayoutOut:
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


@dataclass(frozen=True)
class PayoutOrder:
    """A payout about to be instructed: what leaves which account, through which bank."""

    key: str
    """The payout's identity (``payouts.idempotency_key``): a caller's ``client/...`` key
    or one the ledger derives (``refund/<subscription>``, ``return/<deposit>/<payout>``)."""
    account: str
    amount: int
    currency: str
    bank_id: str
    reference: str
    beneficiary: PayoutBeneficiary
    beneficiary_id: str
    created_by: str
    fund_id: UUID | None = None
    deposit_id: UUID | None = None
    id: UUID = field(default_factory=uuid.uuid4)

    def draft(self) -> EntryDraft:
        """The pending entry that holds the amount until the bank answers."""
        legs = [
            Leg(self.account, Direction.DEBIT, self.amount, self.currency),
            Leg(f"bank/{self.bank_id}/clearing", Direction.CREDIT, self.amount, self.currency),
        ]
        return EntryDraft(
            legs=[StatusLeg(leg, PostingStatus.PENDING) for leg in legs],
            entry_type=EntryType.PENDING,
            purpose=Purpose.PAYOUT,
            description=f"Payout {self.id} through bank {self.bank_id}: {self.reference}",
            effective_date=today_in_japan(),
            idempotency_key=f"payout/{self.id}",
            request_hash=request_fingerprint({"payout": str(self.id)}),
            created_by=self.created_by,
            reference_type="payout",
            reference_id=str(self.id),
            origin=Origin.FLOW,
        )


async def bank_is_active(session: AsyncSession, bank_id: str) -> bool:
    return await partner_exists(session, PartnerKind.BANK, bank_id)


async def record_payouts(
    uow: UnitOfWork, orders: Sequence[PayoutOrder], written: Sequence[Written]
) -> list[Payout]:
    """The payout rows of pending entries just written, each announced to its bank."""
    now = datetime.now(UTC)
    rows = []
    for order, entry in zip(orders, written, strict=True):
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
            pending_entry_id=entry.id,
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
    draft = order.draft()
    accounts = await lock_accounts(uow.session, draft.legs)
    written = await write_entries(uow.session, [draft], accounts)
    if written is None:
        raise Conflict("this payout is being instructed by another request; retry")
    [row] = await record_payouts(uow, [order], written)
    return row


def _beneficiary(account: str) -> tuple[PayoutBeneficiary, str]:
    try:
        kind, owner = payout_beneficiary(account)
    except UnknownAccountError as exc:
        raise unknown_account(exc) from exc
    except PayoutSourceError as exc:
        raise PayoutSourceRefused(str(exc)) from exc
    return PayoutBeneficiary(kind), owner


def _may_pay_from(principal: Principal, account: str) -> None:
    if principal.role is Role.STAFF:
        return
    if principal.role is Role.INVESTOR and account == f"investor/{principal.tenant}/wallet":
        return
    raise Forbidden("you may withdraw only from your own wallet")


async def instruct_payout(
    uow: UnitOfWork, *, payout: PayoutIn, idempotency_key: str, principal: Principal
) -> tuple[PayoutOut, bool]:
    """Hold the amount as a pending entry and instruct the bank; replays return the same.

    The caller's key is its own (``client_key``), apart from every other caller's
    and from the keys of the ledger's own payouts.
    """
    beneficiary, owner = _beneficiary(payout.account)
    _may_pay_from(principal, payout.account)
    session = uow.session
    key = client_key(principal, idempotency_key)
    known = await session.scalar(select(Payout).where(Payout.idempotency_key == key))
    if known is not None:
        asked = (payout.account, payout.amount, payout.currency, payout.bank_id, payout.reference)
        if (known.account, known.amount, known.currency, known.bank_id, known.reference) != asked:
            raise PayoutKeyReused("this Idempotency-Key was used for another payout")
        return payout_out(known), False
    if not await bank_is_active(session, payout.bank_id):
        raise UnknownBank(f"{payout.bank_id!r} is not a registered, active partner bank")
    row = await _instruct(
        uow,
        PayoutOrder(
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
    return payout_out(row), True


async def settle_payout(
    uow: UnitOfWork, *, payout_id: UUID, confirmed: bool, note: str, principal: Principal
) -> PayoutOut:
    """The bank's answer: confirmed posts the pending entry, failed voids it. Once.

    Only the bank the payout was instructed to answers; another bank is told no
    such payout exists. A failed payout leaves the money where it was (a wallet,
    a payable, or suspense for a returned deposit), to be instructed again.
    """
    session = uow.session
    payout = await session.get(Payout, payout_id, with_for_update=True)
    if payout is None or payout.bank_id != principal.tenant:
        raise NotFound("no such payout")
    if payout.status != PayoutStatus.INSTRUCTED.value:
        raise PayoutSettled(f"the payout is {payout.status}")
    pending = await session.get(JournalEntry, payout.pending_entry_id)
    assert pending is not None
    outcome = "confirm" if confirmed else "fail"
    entry = await settle_pending(
        uow,
        pending=pending,
        post=confirmed,
        description=f"Bank {'confirmed' if confirmed else 'failed'} payout {payout.id}: {note}",
        idempotency_key=f"payout/{payout.id}/{outcome}",
        fingerprint=request_fingerprint({"payout": str(payout.id), outcome: note}),
        created_by=principal.subject,
    )
    payout.status = (PayoutStatus.CONFIRMED if confirmed else PayoutStatus.FAILED).value
    payout.resolution_entry_id = entry.id
    if payout.deposit_id is not None:
        deposit = await session.get(Deposit, payout.deposit_id, with_for_update=True)
        if deposit is not None:
            deposit.status = "returned" if confirmed else "suspense"
    await session.flush()
    return payout_out(payout)


async def return_deposit(
    uow: UnitOfWork, *, deposit_id: UUID, note: str, principal: Principal
) -> PayoutOut:
    """Send a suspense deposit back to the payer through the bank that received it."""
    session = uow.session
    deposit = await session.get(Deposit, deposit_id, with_for_update=True)
    if deposit is None:
        raise NotFound("no such deposit")
    if deposit.status != "suspense":
        raise NotInSuspense(f"the deposit is {deposit.status}")
    if not await bank_is_active(session, deposit.bank_id):
        raise UnknownBank(f"bank {deposit.bank_id!r} is not an active partner; it cannot pay back")
    deposit.status = "returning"
    payout_id = uuid.uuid4()
    order = PayoutOrder(
        id=payout_id,
        key=f"return/{deposit.id}/{payout_id}",
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
    return payout_out(await _instruct(uow, order))


async def list_payouts(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: PayoutStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[PayoutOut]:
    """Payouts oldest first, one page; a bank sees only those it must send."""
    query = select(Payout)
    if principal.role is Role.BANK:
        query = query.where(Payout.bank_id == principal.tenant)
    if status is not None:
        query = query.where(Payout.status == status.value)
    return await keyset_page(uow.session, query, Payout, cursor, limit, payout_out)
