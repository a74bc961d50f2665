"""Declared and paid distributions in the database, the advisory lock that lets the two meet
in either order, and the notices published of them."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.db.models import DeclaredDistribution, DistributionNotice, PaidDistribution

PERIOD_LOCKS = 0x4453
"""First key of the advisory locks taken on a fund's period (the second is its hash)."""


async def lock_period(session: AsyncSession, fund_id: UUID, period_number: int) -> None:
    """Serialise what the declaration and the payment of one period do, until commit: they
    are handled from two topics, possibly at once, and the second one publishes the notice."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"),
        {"ns": PERIOD_LOCKS, "key": f"{fund_id}:{period_number}"},
    )


async def keep_declaration(session: AsyncSession, row: dict[str, object]) -> None:
    """Keep a declared distribution once, however often its event is delivered."""
    await session.execute(insert(DeclaredDistribution).values(**row).on_conflict_do_nothing())


async def keep_payment(session: AsyncSession, row: dict[str, object]) -> None:
    """Keep a paid distribution once, however often its event is delivered."""
    await session.execute(insert(PaidDistribution).values(**row).on_conflict_do_nothing())


async def declaration(
    session: AsyncSession, fund_id: UUID, period_number: int
) -> DeclaredDistribution | None:
    return await session.get(DeclaredDistribution, (fund_id, period_number), populate_existing=True)


async def payment(
    session: AsyncSession, fund_id: UUID, period_number: int
) -> PaidDistribution | None:
    return await session.get(PaidDistribution, (fund_id, period_number), populate_existing=True)


async def has_notice(session: AsyncSession, fund_id: UUID, period_number: int) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                DistributionNotice.fund_id == fund_id,
                DistributionNotice.period_number == period_number,
            )
        )
    )
    return bool(found)


async def add_notice(session: AsyncSession, row: DistributionNotice) -> None:
    """``pk_distribution_notices`` refuses a second notice of the same fund and period."""
    session.add(row)
    await session.flush()
