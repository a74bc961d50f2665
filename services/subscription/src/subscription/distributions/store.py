"""Distributions in the database: approved sales, declared periods and their lines, the
investors' statements and what was paid to whom in a year."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Select, cast, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.subscription import FeeKind
from kumiai.pagination import decode_cursor
from subscription.db.models import (
    Distribution,
    DistributionLine,
    DistributionPayment,
    Holding,
    Investor,
    Offering,
    ReportedSales,
)
from subscription.distributions.payment_records import Totals


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


StatementRow = tuple[DistributionLine, Distribution, str, date | None]
"""A statement line: the investor's line, its declared period, the fund's name, the day paid."""


def _statement_lines(investor_id: UUID) -> Select[DistributionLine, Distribution, str, date]:
    return (
        select(DistributionLine, Distribution, Offering.name, DistributionPayment.paid_on)
        .join(
            Distribution,
            (Distribution.fund_id == DistributionLine.fund_id)
            & (Distribution.period_number == DistributionLine.period_number),
        )
        .join(Offering, Offering.fund_id == DistributionLine.fund_id)
        .outerjoin(
            DistributionPayment,
            (DistributionPayment.fund_id == DistributionLine.fund_id)
            & (DistributionPayment.period_number == DistributionLine.period_number),
        )
        .where(DistributionLine.investor_id == investor_id)
    )


STATEMENT_ORDER = (
    Distribution.period_end,
    DistributionLine.fund_id,
    DistributionLine.period_number,
)


def statement_key(row: StatementRow) -> tuple[str, UUID, int]:
    """Where a statement line sorts (``STATEMENT_ORDER``), for the next page's cursor."""
    line, distribution, _, _ = row
    return distribution.period_end.isoformat(), line.fund_id, line.period_number


async def statement(
    session: AsyncSession, investor_id: UUID, *, cursor: str | None, limit: int
) -> list[StatementRow]:
    """Up to ``limit + 1`` of the investor's distribution lines after ``cursor``, newest
    period first, each with its period, fund name and the day it was paid (if it was)."""
    query = _statement_lines(investor_id)
    if cursor is not None:
        after = decode_cursor(cursor, date.fromisoformat, UUID, int)
        query = query.where(tuple_(*STATEMENT_ORDER) < tuple_(*after))
    rows = await session.execute(
        query.order_by(*(column.desc() for column in STATEMENT_ORDER)).limit(limit + 1)
    )
    return [(line, dist, name, paid_on) for line, dist, name, paid_on in rows]


async def statement_line(
    session: AsyncSession, investor_id: UUID, fund_id: UUID, period_number: int
) -> StatementRow | None:
    """The investor's line of one fund and period, if it has one."""
    row = (
        await session.execute(
            _statement_lines(investor_id).where(
                DistributionLine.fund_id == fund_id,
                DistributionLine.period_number == period_number,
            )
        )
    ).first()
    if row is None:
        return None
    line, dist, name, paid_on = row
    return line, dist, name, paid_on


def _paid_in(first: date, last: date) -> Select[UUID, UUID, int, int, int, int]:
    """Per investor and fund, the lines paid from ``first`` to ``last`` (days in Japan)
    added up; a line of nothing is no payment (``payment_records``, module docstring)."""
    return (
        select(
            DistributionLine.investor_id,
            DistributionLine.fund_id,
            func.count().label("payments"),
            cast(func.sum(DistributionLine.gross), BigInteger).label("gross"),
            cast(func.sum(DistributionLine.tax), BigInteger).label("tax"),
            cast(func.sum(DistributionLine.net), BigInteger).label("net"),
        )
        .join(
            DistributionPayment,
            (DistributionPayment.fund_id == DistributionLine.fund_id)
            & (DistributionPayment.period_number == DistributionLine.period_number),
        )
        .where(
            DistributionPayment.paid_on.between(first, last),
            DistributionLine.gross > 0,
        )
        .group_by(DistributionLine.investor_id, DistributionLine.fund_id)
    )


async def paid_to_investor(
    session: AsyncSession, investor_id: UUID, *, first: date, last: date
) -> list[tuple[UUID, str, UUID, Totals]]:
    """Per fund (by name), what the investor was paid from ``first`` to ``last``: the fund
    id, its name, its business, and the totals."""
    paid = _paid_in(first, last).where(DistributionLine.investor_id == investor_id).subquery()
    rows = await session.execute(
        select(paid, Offering.name, Offering.msme_id)
        .join(Offering, Offering.fund_id == paid.c.fund_id)
        .order_by(Offering.name, paid.c.fund_id)
    )
    return [
        (
            row.fund_id,
            row.name,
            row.msme_id,
            Totals(payments=row.payments, gross=row.gross, tax=row.tax, net=row.net),
        )
        for row in rows
    ]


PaidRow = tuple[UUID, bytes, UUID, str, UUID, Totals]
"""An investor (id and encrypted personal details), a fund (id, name, business), totals."""
RECORD_BATCH = 1_000


async def paid_to_everyone(
    session: AsyncSession, *, first: date, last: date
) -> AsyncIterator[list[PaidRow]]:
    """Per investor and fund, what was paid from ``first`` to ``last``, by investor then
    fund, in batches read through a server-side cursor: a year has tens of thousands of
    investors, and no more than a batch of them is held at once."""
    paid = _paid_in(first, last).subquery()
    # Core rows on the connection: the ORM's per-row bookkeeping is not needed here.
    connection = await session.connection()
    result = await connection.stream(
        select(paid, Investor.personal, Offering.name, Offering.msme_id)
        .join(Investor, Investor.id == paid.c.investor_id)
        .join(Offering, Offering.fund_id == paid.c.fund_id)
        .order_by(paid.c.investor_id, paid.c.fund_id)
        .execution_options(yield_per=RECORD_BATCH)
    )
    async for batch in result.partitions():
        yield [
            (
                investor_id,
                personal,
                fund_id,
                name,
                msme_id,
                Totals(payments=payments, gross=gross, tax=tax, net=net),
            )
            for investor_id, fund_id, payments, gross, tax, net, personal, name, msme_id in batch
        ]
