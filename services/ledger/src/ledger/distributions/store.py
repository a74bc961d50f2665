"""Distributions in the database: declarations, their batches and lines, fees booked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.books.rules import DistributionStatus
from ledger.db.models import (
    Distribution,
    DistributionBatch,
    DistributionFee,
    DistributionLine,
    Fund,
    Payout,
)
from ledger.distributions.rules import Line


async def add_declared(session: AsyncSession, row: dict[str, Any]) -> Distribution | None:
    """Keep a declaration once; ``None`` if it was kept before (a redelivery)."""
    inserted = await session.scalar(
        insert(Distribution).values(**row).on_conflict_do_nothing().returning(Distribution.fund_id)
    )
    if inserted is None:
        return None
    return await session.get(Distribution, (row["fund_id"], row["period_number"]))


async def booked_fees(session: AsyncSession, fund_id: UUID) -> set[tuple[str, int]]:
    """The fees (kind, fiscal year) already booked as receivable for the fund."""
    rows = await session.execute(
        select(DistributionFee.kind, DistributionFee.fiscal_year).where(
            DistributionFee.fund_id == fund_id
        )
    )
    return {(kind, year) for kind, year in rows}


async def by_reference_for_update(session: AsyncSession, reference: str) -> Distribution | None:
    """The distribution whose (normalised) payment reference this is, locked."""
    return await session.scalar(
        select(Distribution).where(Distribution.reference_normalised == reference).with_for_update()
    )


async def currency_of(session: AsyncSession, fund_id: UUID, period_number: int) -> str | None:
    return await session.scalar(
        select(Distribution.currency).where(
            Distribution.fund_id == fund_id, Distribution.period_number == period_number
        )
    )


async def add_batch(
    session: AsyncSession, fund_id: UUID, period_number: int, batch: int, lines: int
) -> bool:
    """Record a batch as received once; ``False`` if it was before."""
    inserted = await session.scalar(
        insert(DistributionBatch)
        .values(fund_id=fund_id, period_number=period_number, batch=batch, lines=lines)
        .on_conflict_do_nothing()
        .returning(DistributionBatch.batch)
    )
    return inserted is not None


async def _copy(session: AsyncSession, table: str, columns: Sequence[str], rows: list[Any]) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table, columns=list(columns), records=rows)


LINE_COLUMNS = ("fund_id", "period_number", "investor_id", "batch", "units", "gross", "tax", "net")


async def add_lines(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    """Copy a batch's lines in (``LINE_COLUMNS`` each)."""
    await _copy(session, DistributionLine.__tablename__, LINE_COLUMNS, rows)


async def next_to_pay(session: AsyncSession) -> Distribution | None:
    """A funded distribution whose next batch of lines is here, claimed (``SKIP LOCKED``:
    two instances never book the same one)."""
    next_batch_here = (
        select(DistributionBatch.batch)
        .where(
            DistributionBatch.fund_id == Distribution.fund_id,
            DistributionBatch.period_number == Distribution.period_number,
            DistributionBatch.batch == Distribution.batches_posted + 1,
        )
        .exists()
    )
    return await session.scalar(
        select(Distribution)
        .where(Distribution.status == DistributionStatus.FUNDED.value, next_batch_here)
        .order_by(Distribution.funded_at, Distribution.fund_id, Distribution.period_number)
        .limit(1)
        .with_for_update(skip_locked=True, of=Distribution)
    )


async def received_after(
    session: AsyncSession, fund_id: UUID, period_number: int, posted: int, limit: int
) -> list[int]:
    """The batches received after the first ``posted``, in order, without a gap."""
    rows = await session.scalars(
        select(DistributionBatch.batch)
        .where(
            DistributionBatch.fund_id == fund_id,
            DistributionBatch.period_number == period_number,
            DistributionBatch.batch > posted,
            DistributionBatch.batch <= posted + limit,
        )
        .order_by(DistributionBatch.batch)
    )
    found: list[int] = []
    for batch in rows:
        if batch != posted + len(found) + 1:
            break
        found.append(batch)
    return found


async def lines_of(
    session: AsyncSession, fund_id: UUID, period_number: int, batches: Sequence[int]
) -> dict[int, list[Line]]:
    """The lines of these batches, by batch, in investor order."""
    rows = await session.execute(
        select(
            DistributionLine.batch,
            DistributionLine.investor_id,
            DistributionLine.gross,
            DistributionLine.tax,
            DistributionLine.net,
        )
        .where(
            DistributionLine.fund_id == fund_id,
            DistributionLine.period_number == period_number,
            DistributionLine.batch.in_(batches),
        )
        .order_by(DistributionLine.batch, DistributionLine.investor_id)
    )
    found: dict[int, list[Line]] = {batch: [] for batch in batches}
    for batch, investor, gross, tax, net in rows:
        found[batch].append(Line(investor, gross, tax, net))
    return found


PAYOUT_COLUMNS = (
    "id",
    "idempotency_key",
    "bank_id",
    "account",
    "amount",
    "currency",
    "status",
    "reference",
    "beneficiary",
    "beneficiary_id",
    "fund_id",
    "pending_entry_id",
    "settled_in_batch",
    "created_by",
    "created_at",
)


async def add_payouts(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    """Copy a batch's payouts in (``PAYOUT_COLUMNS`` each)."""
    await _copy(session, Payout.__tablename__, PAYOUT_COLUMNS, rows)


async def distributions_of(session: AsyncSession, fund_id: UUID) -> Sequence[Distribution]:
    return (
        await session.scalars(
            select(Distribution)
            .where(Distribution.fund_id == fund_id)
            .order_by(Distribution.period_number)
        )
    ).all()


async def business_of(session: AsyncSession, fund_id: UUID) -> UUID | None:
    """The business of a fund the ledger heard of (``None``: none)."""
    return await session.scalar(select(Fund.msme_id).where(Fund.fund_id == fund_id))


async def fees_of(session: AsyncSession, fund_id: UUID) -> Sequence[DistributionFee]:
    return (
        await session.scalars(
            select(DistributionFee)
            .where(DistributionFee.fund_id == fund_id)
            .order_by(DistributionFee.fiscal_year, DistributionFee.kind)
        )
    ).all()
