"""The funds the ledger knows (from ``FundOpened``) and what a caller may read of them."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.principal import Principal
from kumiai.problems import NotFound
from ledger.books.rules import FundStatus
from ledger.closing.rules import may_read
from ledger.db.models import Fund


async def remember_fund(
    session: AsyncSession, *, fund_id: UUID, msme_id: UUID, currency: str, arrangement_fee: int
) -> bool:
    """Record a fund that opened; ``False`` if it was known already (a redelivery)."""
    opened = await session.scalar(
        insert(Fund)
        .values(
            fund_id=fund_id,
            msme_id=msme_id,
            currency=currency,
            arrangement_fee=arrangement_fee,
            status=FundStatus.OPEN.value,
        )
        .on_conflict_do_nothing()
        .returning(Fund.fund_id)
    )
    return opened is not None


async def fund_for_update(session: AsyncSession, fund_id: UUID) -> Fund | None:
    return await session.get(Fund, fund_id, with_for_update=True)


async def readable_fund(session: AsyncSession, principal: Principal, fund_id: UUID) -> Fund:
    """The fund, if ``principal`` may read its escrow report; else "no such fund"."""
    fund = await session.get(Fund, fund_id)
    if fund is None or not may_read(principal):
        raise NotFound("no such fund")
    return fund
