"""Investors in the database: registration, the payout instructions the ledger sent, the
log of who read a payout account, and what a caller may read of an investor."""

from __future__ import annotations

import uuid
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.ledger import PayoutInstructed
from kumiai.contracts.onboarding import PartnerKind
from kumiai.partners import partner_exists
from kumiai.principal import Principal
from subscription.db.models import Investor, PayoutAccountRead, PayoutInstruction
from subscription.investors import rules


async def find(session: AsyncSession, investor_id: UUID) -> Investor | None:
    """The investor, whoever asks (for the service's own decisions, never for an answer)."""
    return await session.get(Investor, investor_id)


async def is_active_partner_bank(session: AsyncSession, bank_id: str) -> bool:
    """Whether ``bank_id`` is a registered, active partner bank in this service's copy."""
    return await partner_exists(session, PartnerKind.BANK, bank_id)


async def add_investor(session: AsyncSession, investor: Investor) -> Investor:
    """Write a new investor and read back what the database filled in."""
    session.add(investor)
    await session.flush()
    await session.refresh(investor)
    return investor


async def readable_investor(
    session: AsyncSession, investor_id: UUID, principal: Principal, *, lock: bool = False
) -> Investor:
    """The investor, if ``rules.may_read`` lets the caller see it (locked if asked);
    absent and not the caller's are the same 404."""
    investor = await session.get(Investor, investor_id, with_for_update=lock)
    if investor is None or not rules.may_read(
        principal, investor_id=investor_id, verifying_bank_id=investor.verifying_bank_id
    ):
        raise rules.no_investor()
    return investor


async def _payout(
    session: AsyncSession, investor_id: UUID, payout_id: UUID | None, principal: Principal
) -> PayoutInstruction | None:
    """The payout named, if it is to this investor; else a bank's latest payout to it."""
    query = select(PayoutInstruction).where(PayoutInstruction.investor_id == investor_id)
    if payout_id is not None:
        payout: PayoutInstruction | None = await session.scalar(
            query.where(PayoutInstruction.payout_id == payout_id)
        )
        return payout
    if not rules.reads_for_latest_payout(principal):
        return None
    latest: PayoutInstruction | None = await session.scalar(
        query.where(PayoutInstruction.bank_id == principal.tenant)
        .order_by(PayoutInstruction.instructed_at.desc(), PayoutInstruction.payout_id.desc())
        .limit(1)
    )
    return latest


async def readable_payout_account(
    session: AsyncSession, investor_id: UUID, payout_id: UUID | None, principal: Principal
) -> tuple[Investor, PayoutInstruction | None]:
    """The investor and the payout a read of its payout account is for, if
    ``rules.may_read_payout_account`` lets the caller read it; 404 for the investor otherwise."""
    investor = await session.get(Investor, investor_id)
    if investor is None:
        raise rules.no_investor()
    payout = await _payout(session, investor_id, payout_id, principal)
    if not rules.may_read_payout_account(
        principal, investor_id=investor_id, paying_bank_id=payout.bank_id if payout else None
    ):
        raise rules.no_investor()
    rules.check_payout_named(payout_id, found=payout is not None)
    return investor, payout


async def record_read(
    session: AsyncSession, *, investor_id: UUID, payout_id: UUID | None, principal: Principal
) -> None:
    """Write who read the investor's payout account, and for which payout (append-only)."""
    session.add(
        PayoutAccountRead(
            id=uuid.uuid4(),
            investor_id=investor_id,
            payout_id=payout_id,
            reader_role=principal.role.value,
            reader_tenant=principal.tenant,
            reader_subject=principal.subject,
        )
    )
    await session.flush()


async def record_instruction(
    session: AsyncSession, event: PayoutInstructed, *, investor_id: UUID
) -> None:
    """Keep the payout instruction once, however often the ledger's event is delivered."""
    await session.execute(
        insert(PayoutInstruction)
        .values(
            payout_id=event.payout_id,
            investor_id=investor_id,
            bank_id=event.bank_id,
            fund_id=event.fund_id,
            amount=event.amount,
            currency=event.currency,
            instructed_at=event.instructed_at,
        )
        .on_conflict_do_nothing(index_elements=[PayoutInstruction.payout_id])
    )
