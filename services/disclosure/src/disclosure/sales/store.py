"""Sales reports in the database: one live report per period, their files, and whose
reports a caller may see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import exists, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.db.models import SalesReport, SalesReportFile
from disclosure.sales import rules
from disclosure.sales.rules import LIVE, FilePurpose, ReportStatus
from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.principal import Principal

T = TypeVar("T")

LIVE_PERIOD = "uq_sales_reports_live_period"


async def readable_report(
    session: AsyncSession, report_id: UUID, principal: Principal, *, lock: bool = False
) -> SalesReport:
    """The report if ``principal`` may see it (``rules.may_read``); 404 naming only its id.
    ``lock`` makes reviews and uploads of one report take turns."""
    report = await session.get(
        SalesReport, report_id, with_for_update=lock or None, populate_existing=lock
    )
    if report is None or not rules.may_read(principal, report.msme_id):
        raise rules.UnknownReport(f"no sales report {report_id}")
    return report


async def live_status(
    session: AsyncSession, fund_id: UUID, period_number: int
) -> ReportStatus | None:
    """The status of the period's live (submitted or approved) report, if it has one."""
    status = await session.scalar(
        select(SalesReport.status).where(
            SalesReport.fund_id == fund_id,
            SalesReport.period_number == period_number,
            SalesReport.status.in_([s.value for s in LIVE]),
        )
    )
    return None if status is None else ReportStatus(status)


async def insert_once(session: AsyncSession, report: SalesReport) -> bool:
    """Write a new report; ``False`` if another live report of its period committed first.

    ``uq_sales_reports_live_period`` holds ``rules.check_no_other_report`` against a
    concurrent submission.
    """
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError as exc:
        if LIVE_PERIOD not in str(exc.orig):
            raise
        return False
    return True


async def approved_figures(
    session: AsyncSession, fund_id: UUID, *, besides: UUID | None = None
) -> list[tuple[int, int]]:
    """(sales, adjustment) of every approved report of the fund (``rules.cumulative_sales``)."""
    query = select(SalesReport.sales, SalesReport.adjustment).where(
        SalesReport.fund_id == fund_id, SalesReport.status == ReportStatus.APPROVED.value
    )
    if besides is not None:
        query = query.where(SalesReport.id != besides)
    return [(sales, adjustment) for sales, adjustment in (await session.execute(query)).all()]


def add_file(session: AsyncSession, row: SalesReportFile) -> None:
    session.add(row)


async def has_file(session: AsyncSession, report_id: UUID, purpose: FilePurpose) -> bool:
    """Whether the report has a file of that purpose."""
    found = await session.scalar(
        select(
            exists().where(
                SalesReportFile.report_id == report_id,
                SalesReportFile.purpose == purpose.value,
            )
        )
    )
    return bool(found)


async def files_of(
    session: AsyncSession, report_ids: Sequence[UUID]
) -> dict[UUID, list[SalesReportFile]]:
    """The files of each report, oldest first."""
    out: dict[UUID, list[SalesReportFile]] = {r: [] for r in report_ids}
    if not report_ids:
        return out
    rows = await session.scalars(
        select(SalesReportFile)
        .where(SalesReportFile.report_id.in_(report_ids))
        .order_by(SalesReportFile.uploaded_at, SalesReportFile.id)
    )
    for row in rows:
        out[row.report_id].append(row)
    return out


async def fund_reports(
    session: AsyncSession,
    fund_id: UUID,
    *,
    cursor: str | None,
    limit: int,
    item: Callable[[SalesReport, list[SalesReportFile]], T],
) -> Page[T]:
    """One page of the fund's reports with their files, by period and then in the order
    they came in."""
    key = (SalesReport.period_number, SalesReport.submitted_at, SalesReport.id)
    query = select(SalesReport).where(SalesReport.fund_id == fund_id)
    if cursor is not None:
        after = decode_cursor(cursor, int, datetime.fromisoformat, UUID)
        query = query.where(tuple_(*key) > tuple_(*after))
    rows = (await session.scalars(query.order_by(*key).limit(limit + 1))).all()
    files = await files_of(session, [r.id for r in rows[:limit]])
    return page_of(
        rows,
        limit=limit,
        item=lambda r: item(r, files[r.id]),
        key=lambda r: (r.period_number, r.submitted_at, r.id),
    )


async def live_reports(session: AsyncSession, fund_id: UUID) -> dict[int, SalesReport]:
    """The fund's live report of each period that has one."""
    rows = await session.scalars(
        select(SalesReport).where(
            SalesReport.fund_id == fund_id,
            SalesReport.status.in_([s.value for s in LIVE]),
        )
    )
    return {r.period_number: r for r in rows}
