"""Payouts in the database, whether a partner bank may send them, and what a caller may
read."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.onboarding import PartnerKind
from kumiai.partners import partner_exists
from kumiai.principal import Principal
from kumiai.problems import NotFound
from ledger.db.models import Payout
from ledger.payouts.rules import PayoutStatus, may_read


async def bank_is_active(session: AsyncSession, bank_id: str) -> bool:
    """Whether ``bank_id`` is a registered partner bank that is not suspended."""
    return await partner_exists(session, PartnerKind.BANK, bank_id)


async def payout_by_key(session: AsyncSession, key: str) -> Payout | None:
    return await session.scalar(select(Payout).where(Payout.idempotency_key == key))


async def readable_payout(session: AsyncSession, principal: Principal, payout_id: UUID) -> Payout:
    """The payout, locked, if ``principal`` may read it; else "no such payout".

    A payout instructed to another bank is answered exactly as one that does not exist.
    """
    found = await session.get(Payout, payout_id, with_for_update=True)
    if found is None or not may_read(principal, bank_id=found.bank_id):
        raise NotFound("no such payout")
    return found


async def readable_payouts_by_ids(
    session: AsyncSession, principal: Principal, payout_ids: Sequence[UUID]
) -> list[Payout]:
    """These payouts, locked in id order, if ``principal`` may read them all; else "no such
    payout" naming the first it may not."""
    found = {
        p.id: p
        for p in await session.scalars(
            select(Payout)
            .where(Payout.id.in_(payout_ids))
            .order_by(Payout.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for payout_id in payout_ids:
        payout = found.get(payout_id)
        if payout is None or not may_read(principal, bank_id=payout.bank_id):
            raise NotFound(f"no such payout: {payout_id}")
    return [found[payout_id] for payout_id in payout_ids]


def readable_payouts(principal: Principal, *, status: PayoutStatus | None) -> Select[Payout]:
    """The payouts ``principal`` may list: every bank's if it may read them all, else its
    own (none if it may not read those either)."""
    query = select(Payout)
    if not may_read(principal, bank_id=None):
        query = query.where(Payout.bank_id == principal.tenant)
        if not may_read(principal, bank_id=principal.tenant):
            query = query.where(false())
    if status is not None:
        query = query.where(Payout.status == status.value)
    return query


async def unanswered_in_batch(session: AsyncSession, pending_entry_id: UUID) -> int:
    """Payouts of a batch's pending entry the bank has not answered yet."""
    found = await session.scalar(
        select(func.count())
        .select_from(Payout)
        .where(
            Payout.pending_entry_id == pending_entry_id,
            Payout.status == PayoutStatus.INSTRUCTED.value,
        )
    )
    return int(found or 0)


async def failed_in_batch(session: AsyncSession, pending_entry_id: UUID) -> Sequence[Payout]:
    return (
        await session.scalars(
            select(Payout)
            .where(
                Payout.pending_entry_id == pending_entry_id,
                Payout.status == PayoutStatus.FAILED.value,
            )
            .order_by(Payout.account)
        )
    ).all()


async def resolve_batch(
    session: AsyncSession, pending_entry_id: UUID, *, resolution_entry_id: UUID
) -> None:
    await session.execute(
        update(Payout)
        .where(Payout.pending_entry_id == pending_entry_id)
        .values(resolution_entry_id=resolution_entry_id)
    )
