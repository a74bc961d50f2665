"""What disclosure knows of funds and holdings, in the database."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.db.models import Fund, Investment


async def fund(session: AsyncSession, fund_id: UUID, *, lock: bool = False) -> Fund | None:
    return await session.get(Fund, fund_id, with_for_update=lock)


async def known_fund(session: AsyncSession, fund_id: UUID) -> Fund:
    """The fund's row, made empty if neither of its events has arrived yet, and locked:
    ``FundOpened`` and ``FundClosed`` come from two topics and may be handled at once."""
    await session.execute(insert(Fund).values(fund_id=fund_id).on_conflict_do_nothing())
    row = await session.get(Fund, fund_id, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


async def investment(session: AsyncSession, subscription_id: UUID) -> Investment | None:
    return await session.get(Investment, subscription_id, with_for_update=True)


def add_investment(session: AsyncSession, row: Investment) -> None:
    session.add(row)


async def holds(session: AsyncSession, *, investor_id: UUID, fund_id: UUID) -> bool:
    """Whether one of the investor's subscriptions to the fund was ever confirmed."""
    held = await session.scalar(
        select(
            exists().where(
                Investment.investor_id == investor_id,
                Investment.fund_id == fund_id,
                Investment.confirmed_at.is_not(None),
            )
        )
    )
    return bool(held)


async def funds_held(session: AsyncSession, investor_id: UUID) -> list[UUID]:
    """Every fund one of the investor's subscriptions was confirmed in."""
    return list(
        await session.scalars(
            select(Investment.fund_id)
            .where(Investment.investor_id == investor_id, Investment.confirmed_at.is_not(None))
            .distinct()
        )
    )
