"""Annual reports in the database, and the approved figures of a fiscal year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.db.models import AnnualReport, DeclaredDistribution, SalesReport


async def report(
    session: AsyncSession, fund_id: UUID, fiscal_year: int, *, lock: bool = False
) -> AnnualReport | None:
    query = select(AnnualReport).where(
        AnnualReport.fund_id == fund_id, AnnualReport.fiscal_year == fiscal_year
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def add(session: AsyncSession, row: AnnualReport) -> None:
    """``uq_annual_reports_year`` refuses a second report of the same fund and year."""
    session.add(row)
    await session.flush()


async def approved_sales(
    session: AsyncSession, fund_id: UUID, starts_on: date, ends_on: date
) -> Sequence[SalesReport]:
    """The fund's approved sales reports whose period ends in the fiscal year, in order."""
    return (
        await session.scalars(
            select(SalesReport)
            .where(
                SalesReport.fund_id == fund_id,
                # sales.rules.ReportStatus.APPROVED
                SalesReport.status == "approved",
                SalesReport.period_end >= starts_on,
                SalesReport.period_end <= ends_on,
            )
            .order_by(SalesReport.period_number)
        )
    ).all()


async def distributions(
    session: AsyncSession, fund_id: UUID, starts_on: date, ends_on: date
) -> Sequence[DeclaredDistribution]:
    """The fund's distributions with money in them whose period ends in the fiscal year."""
    return (
        await session.scalars(
            select(DeclaredDistribution)
            .where(
                DeclaredDistribution.fund_id == fund_id,
                DeclaredDistribution.period_end >= starts_on,
                DeclaredDistribution.period_end <= ends_on,
                DeclaredDistribution.total_gross > 0,
            )
            .order_by(DeclaredDistribution.period_number)
        )
    ).all()
