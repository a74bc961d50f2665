"""Reporting deadlines: made when a fund forms, met by reports, announced when overdue."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from disclosure.deadlines import rules, store
from disclosure.deadlines.rules import DeadlineStatus, DueMonths, OverdueItem
from disclosure.deadlines.schemas import DeadlineOut
from disclosure.funds.rules import Span
from kumiai.contracts.disclosure import DisclosureOverdue
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal
from kumiai.problems import Forbidden

OVERDUE_BATCH = 100


async def schedule(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    msme_id: UUID,
    periods: tuple[Span, ...],
    fiscal_years: tuple[Span, ...],
    due: DueMonths,
) -> None:
    """Write the due date of every sales report and annual report of a formed fund."""
    rows = [
        _row(fund_id, msme_id, item, span, months)
        for item, spans, months in (
            (OverdueItem.SALES_REPORT, periods, due.sales_report),
            (OverdueItem.ANNUAL_REPORT, fiscal_years, due.annual_report),
        )
        for span in spans
    ]
    await store.add_all(uow.session, rows)


def _row(
    fund_id: UUID, msme_id: UUID, item: OverdueItem, span: Span, months: int
) -> dict[str, object]:
    due = rules.due_on(span.ends_on, months)
    return {
        "id": uuid.uuid4(),
        "fund_id": fund_id,
        "msme_id": msme_id,
        "item": item.value,
        "number": span.number,
        "covers_from": span.starts_on,
        "covers_to": span.ends_on,
        "due_on": due,
        "due_at": rules.due_at(due),
        "status": DeadlineStatus.OPEN.value,
    }


async def meet(
    uow: UnitOfWork, *, fund_id: UUID, item: OverdueItem, number: int, now: datetime
) -> None:
    """A report came in: its deadline no longer falls due."""
    await store.meet(uow.session, fund_id=fund_id, item=item, number=number, now=now)


def overdue_announcer() -> Callable[[UnitOfWork, datetime], Awaitable[int]]:
    """The overdue timer's pass."""

    async def run(uow: UnitOfWork, now: datetime) -> int:
        return await announce_overdue(uow, now=now)

    return run


async def announce_overdue(uow: UnitOfWork, *, now: datetime) -> int:
    """Timer: mark a batch of open deadlines past due as overdue, each announced once."""
    claimed = await store.claim_overdue(uow.session, now, OVERDUE_BATCH)
    for deadline in claimed:
        await uow.emit(
            DisclosureOverdue(
                deadline_id=deadline.id,
                fund_id=deadline.fund_id,
                msme_id=deadline.msme_id,
                item=OverdueItem(deadline.item),
                number=deadline.number,
                covers_from=deadline.covers_from,
                covers_to=deadline.covers_to,
                due_on=deadline.due_on,
                overdue_at=now,
            ),
            subject=str(deadline.fund_id),
        )
    return len(claimed)


def deadline_out(row: object) -> DeadlineOut:
    return DeadlineOut.model_validate(row, from_attributes=True)


async def of_fund(uow: UnitOfWork, *, fund_id: UUID) -> list[DeadlineOut]:
    return [deadline_out(d) for d in await store.of_fund(uow.session, fund_id)]


async def listed(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: DeadlineStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[DeadlineOut]:
    """Deadlines across funds, soonest first (the overdue ones for staff to chase)."""
    if not principal.is_staff():
        raise Forbidden("only staff list deadlines across funds")
    rows, next_cursor = await store.listed(uow.session, status=status, cursor=cursor, limit=limit)
    return Page[DeadlineOut](items=[deadline_out(d) for d in rows], next_cursor=next_cursor)
