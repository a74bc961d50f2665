"""Distributions in the database: approved sales, declared periods and their lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.subscription import FeeKind
from subscription.db.models import (
    Distribution,
    DistributionLine,
    Holding,
    Offering,
    ReportedSales,
)


async def keep_sales(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep a period's approved sales once, however often the event is delivered."""
    await session.execute(upsert(ReportedSales).values(**row).on_conflict_do_nothing())


async def offering(session: AsyncSession, fund_id: UUID) -> Offering | None:
    """The fund's offering, locked: one fund's periods are declared one at a time."""
    return await session.get(Offering, fund_id, with_for_update=True)


async def last_declared(session: AsyncSession, fund_id: UUID) -> int:
    """The last period declared for the fund (0 before the first)."""
    found = await session.scalar(
        select(func.max(Distribution.period_number)).where(Distribution.fund_id == fund_id)
    )
    return int(found or 0)


async def charged_fees(session: AsyncSession, fund_id: UUID) -> set[tuple[FeeKind, int]]:
    """The fees (kind, fiscal year) the fund's declarations charged so far."""
    rows = await session.scalars(select(Distribution.fees).where(Distribution.fund_id == fund_id))
    return {(FeeKind(fee["kind"]), int(fee["fiscal_year"])) for charged in rows for fee in charged}


async def sales(session: AsyncSession, fund_id: UUID) -> Sequence[ReportedSales]:
    """The fund's approved sales, by period."""
    return (
        await session.scalars(
            select(ReportedSales)
            .where(ReportedSales.fund_id == fund_id)
            .order_by(ReportedSales.period_number)
        )
    ).all()


async def register(session: AsyncSession, fund_id: UUID) -> dict[str, int]:
    """The fund's frozen register: units per investor (ids as text)."""
    rows = await session.execute(
        select(Holding.investor_id, Holding.units).where(Holding.fund_id == fund_id)
    )
    return {str(investor): int(units) for investor, units in rows}


LINE_COLUMNS = (
    "fund_id",
    "period_number",
    "investor_id",
    "units",
    "gross",
    "tax",
    "net",
    "cumulative_gross",
    "cumulative_tax",
    "remaining_to_recoup",
    "perk",
)


async def add_distribution(
    session: AsyncSession, row: dict[str, Any], lines: Sequence[Sequence[Any]]
) -> None:
    """Write a declared period and its lines (``LINE_COLUMNS`` each), in the caller's
    transaction; the primary key refuses a second declaration of the period. The lines
    are copied in (COPY): a large fund has tens of thousands."""
    await session.execute(insert(Distribution).values(**row))
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        DistributionLine.__tablename__, columns=LINE_COLUMNS, records=lines
    )


async def statement(
    session: AsyncSession, investor_id: UUID
) -> Sequence[tuple[DistributionLine, Distribution, str]]:
    """Every distribution line of the investor, with its period and fund name, newest first."""
    rows = await session.execute(
        select(DistributionLine, Distribution, Offering.name)
        .join(
            Distribution,
            (Distribution.fund_id == DistributionLine.fund_id)
            & (Distribution.period_number == DistributionLine.period_number),
        )
        .join(Offering, Offering.fund_id == DistributionLine.fund_id)
        .where(DistributionLine.investor_id == investor_id)
        .order_by(Distribution.period_end.desc(), DistributionLine.fund_id)
    )
    return [(line, dist, name) for line, dist, name in rows]
