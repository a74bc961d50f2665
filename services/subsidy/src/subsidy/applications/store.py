"""Applications to programmes and reviewers' sheets in the database, and whose a caller
may see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.principal import Principal
from subsidy.applications import rules
from subsidy.applications.rules import ApplicationStatus
from subsidy.db.models import Programme, ProgrammeApplication, ReviewSheet
from subsidy.programmes.rules import runs

T = TypeVar("T")

ONCE = "uq_programme_applications_once"


async def _with_owner(
    session: AsyncSession, application_id: UUID, *, lock: bool
) -> tuple[ProgrammeApplication, str] | None:
    query = (
        select(ProgrammeApplication, Programme.municipality_code)
        .join(Programme, Programme.id == ProgrammeApplication.programme_id)
        .where(ProgrammeApplication.id == application_id)
    )
    if lock:
        query = query.with_for_update(of=ProgrammeApplication).execution_options(
            populate_existing=True
        )
    found = (await session.execute(query)).one_or_none()
    return None if found is None else (found[0], found[1])


async def readable_application(
    session: AsyncSession, application_id: UUID, principal: Principal
) -> ProgrammeApplication:
    """The application if ``principal`` may see it (``rules.may_read``); 404 naming only
    its id."""
    found = await _with_owner(session, application_id, lock=False)
    if found is None or not rules.may_read(
        principal, programme_code=found[1], msme_id=found[0].msme_id
    ):
        raise rules.UnknownProgrammeApplication(f"no programme application {application_id}")
    return found[0]


async def managed_application(
    session: AsyncSession, application_id: UUID, principal: Principal, *, lock: bool = False
) -> ProgrammeApplication:
    """The application if ``principal`` runs its programme (staff or its municipality);
    404 naming only its id. ``lock`` makes reviews, declines and awards of it take turns."""
    found = await _with_owner(session, application_id, lock=lock)
    if found is None or not runs(principal, found[1]):
        raise rules.UnknownProgrammeApplication(f"no programme application {application_id}")
    return found[0]


async def insert_once(session: AsyncSession, row: ProgrammeApplication) -> bool:
    """Write a new application; ``False`` if the onboarding application already applied to
    the programme (``uq_programme_applications_once``, also against a concurrent one)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        if ONCE not in str(exc.orig):
            raise
        return False
    return True


async def put_sheet(
    session: AsyncSession,
    *,
    application_id: UUID,
    reviewer: str,
    reviewer_role: str,
    marks: list[dict[str, Any]],
    comment: str,
    at: datetime,
) -> None:
    """The reviewer's sheet for the application, replacing their earlier one."""
    values = {
        "reviewer_role": reviewer_role,
        "marks": marks,
        "comment": comment,
        "reviewed_at": at,
    }
    await session.execute(
        insert(ReviewSheet)
        .values(programme_application_id=application_id, reviewer=reviewer, **values)
        .on_conflict_do_update(
            index_elements=[ReviewSheet.programme_application_id, ReviewSheet.reviewer],
            set_=values,
        )
    )


async def sheets_of(
    session: AsyncSession, application_ids: Sequence[UUID]
) -> dict[UUID, list[ReviewSheet]]:
    """Each application's sheets, in the order they were last written."""
    out: dict[UUID, list[ReviewSheet]] = {a: [] for a in application_ids}
    if not application_ids:
        return out
    rows = await session.scalars(
        select(ReviewSheet)
        .where(ReviewSheet.programme_application_id.in_(application_ids))
        .order_by(ReviewSheet.reviewed_at, ReviewSheet.reviewer)
        .execution_options(populate_existing=True)
    )
    for row in rows:
        out[row.programme_application_id].append(row)
    return out


async def contenders(
    session: AsyncSession, programme_id: UUID, *, besides: UUID
) -> list[tuple[UUID, int]]:
    """(id, score) of the programme's other passed applications still under review."""
    rows = await session.execute(
        select(ProgrammeApplication.id, ProgrammeApplication.score_centi).where(
            ProgrammeApplication.programme_id == programme_id,
            ProgrammeApplication.status == ApplicationStatus.APPLIED.value,
            ProgrammeApplication.passed.is_(True),
            ProgrammeApplication.id != besides,
        )
    )
    return [(ident, score) for ident, score in rows.all() if score is not None]


def _order_key() -> Any:
    # Best score first, unscored last: ascending on the negated score (-1 for none).
    return -func.coalesce(ProgrammeApplication.score_centi, -1)


def _order_value(value: object) -> int:
    # A cursor is the caller's text: only a value the order key can take reaches the query.
    if not isinstance(value, int) or not -rules.SCORE_MAX <= value <= 1:
        raise ValueError("not a position in the order")
    return value


def _row_key(row: ProgrammeApplication) -> tuple[int, datetime, UUID]:
    score = row.score_centi if row.score_centi is not None else -1
    return (-score, row.applied_at, row.id)


async def programme_page(
    session: AsyncSession,
    programme_id: UUID,
    *,
    cursor: str | None,
    limit: int,
    item: Callable[[ProgrammeApplication, list[ReviewSheet]], T],
) -> Page[T]:
    """One page of the programme's applications, best score first, unscored last, then in
    the order they came in; with their sheets."""
    key = (_order_key(), ProgrammeApplication.applied_at, ProgrammeApplication.id)
    query = select(ProgrammeApplication).where(ProgrammeApplication.programme_id == programme_id)
    if cursor is not None:
        after = decode_cursor(cursor, _order_value, datetime.fromisoformat, UUID)
        query = query.where(tuple_(*key) > tuple_(*after))
    rows = (await session.scalars(query.order_by(*key).limit(limit + 1))).all()
    sheets = await sheets_of(session, [r.id for r in rows[:limit]])
    return page_of(rows, limit=limit, item=lambda r: item(r, sheets[r.id]), key=_row_key)


async def of_programme(session: AsyncSession, programme_id: UUID) -> list[ProgrammeApplication]:
    """Every application of the programme, best score first, unscored last."""
    key = (_order_key(), ProgrammeApplication.applied_at, ProgrammeApplication.id)
    rows = await session.scalars(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.programme_id == programme_id)
        .order_by(*key)
    )
    return list(rows)
