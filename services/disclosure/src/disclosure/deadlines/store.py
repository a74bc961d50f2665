"""Deadlines in the database: made once per fund, claimed by the overdue timer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.db.models import Deadline
from disclosure.deadlines.rules import DeadlineStatus, OverdueItem
from kumiai.pagination import decode_cursor, encode_cursor


async def add_all(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Write a fund's deadlines; ``uq_deadlines_item`` keeps one per report."""
    if rows:
        await session.execute(insert(Deadline).values(list(rows)).on_conflict_do_nothing())


async def claim_overdue(session: AsyncSession, now: datetime, limit: int) -> Sequence[Deadline]:
    """Mark open deadlines past due as overdue and return them (``rules.is_overdue``); rows
    another instance is handling are skipped, so each is announced once."""
    due = (
        select(Deadline.id)
        # deadlines.rules.DeadlineStatus.OPEN
        .where(Deadline.status == DeadlineStatus.OPEN.value, Deadline.due_at <= now)
        .order_by(Deadline.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        await session.scalars(
            update(Deadline)
            .where(Deadline.id.in_(due))
            .values(status=DeadlineStatus.OVERDUE.value, overdue_at=now)
            .returning(Deadline)
        )
    ).all()


async def meet(
    session: AsyncSession, *, fund_id: UUID, item: OverdueItem, number: int, now: datetime
) -> None:
    """The report came in: its deadline is met (an overdue one keeps when it became overdue)."""
    await session.execute(
        update(Deadline)
        .where(
            Deadline.fund_id == fund_id,
            Deadline.item == item.value,
            Deadline.number == number,
            Deadline.status != DeadlineStatus.MET.value,
        )
        .values(status=DeadlineStatus.MET.value, met_at=now)
    )


async def of_fund(session: AsyncSession, fund_id: UUID) -> Sequence[Deadline]:
    return (
        await session.scalars(
            select(Deadline)
            .where(Deadline.fund_id == fund_id)
            .order_by(Deadline.due_at, Deadline.item, Deadline.number)
        )
    ).all()


async def listed(
    session: AsyncSession, *, status: DeadlineStatus | None, cursor: str | None, limit: int
) -> tuple[Sequence[Deadline], str | None]:
    """Deadlines soonest first, one page after ``cursor``."""
    query = select(Deadline)
    if status is not None:
        query = query.where(Deadline.status == status.value)
    if cursor is not None:
        after, ident = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(tuple_(Deadline.due_at, Deadline.id) > tuple_(after, ident))
    rows = (
        await session.scalars(query.order_by(Deadline.due_at, Deadline.id).limit(limit + 1))
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return rows, encode_cursor(last.due_at, last.id) if last is not None else None
