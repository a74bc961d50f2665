"""Awards in the database: written once per application, refused by the database when a
concurrent award used the budget, the award count or the fund first; and whose a caller
may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import exists, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.principal import Principal
from subsidy.awards import rules
from subsidy.awards.rules import LIVE, AwardStatus
from subsidy.db.models import Award
from subsidy.programmes.rules import runs

T = TypeVar("T")


async def insert_award(session: AsyncSession, row: Award) -> str | None:
    """Write a new award; the trigger ``awards_reserve_budget`` reserves its amount in the
    same statement. Returns the constraint that refused it (``rules.DATABASE_GUARDS``),
    or None once written."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        for constraint in rules.DATABASE_GUARDS:
            if f'"{constraint}"' in message:
                return constraint
        raise
    return None


async def _award(session: AsyncSession, award_id: UUID, *, lock: bool) -> Award | None:
    return await session.get(Award, award_id, with_for_update=lock or None, populate_existing=lock)


async def readable_award(session: AsyncSession, award_id: UUID, principal: Principal) -> Award:
    """The award if ``principal`` may see it (``rules.may_read``); 404 naming only its id."""
    award = await _award(session, award_id, lock=False)
    if award is None or not rules.may_read(
        principal, programme_code=award.municipality_code, msme_id=award.msme_id
    ):
        raise rules.UnknownAward(f"no award {award_id}")
    return award


async def managed_award(session: AsyncSession, award_id: UUID, principal: Principal) -> Award:
    """The award, locked, if ``principal`` runs its programme (staff or its municipality);
    404 naming only its id."""
    award = await _award(session, award_id, lock=True)
    if award is None or not runs(principal, award.municipality_code):
        raise rules.UnknownAward(f"no award {award_id}")
    return award


async def locked_award(session: AsyncSession, award_id: UUID) -> Award | None:
    """An award by id, locked (an event about it changes it)."""
    return await _award(session, award_id, lock=True)


async def fund_has_live_award(session: AsyncSession, fund_id: UUID) -> bool:
    """Whether the fund already has a live award (``uq_awards_live_fund``)."""
    found = await session.scalar(
        select(exists().where(Award.fund_id == fund_id, Award.status.in_([s.value for s in LIVE])))
    )
    return bool(found)


async def locked_of_fund(session: AsyncSession, fund_id: UUID) -> list[Award]:
    """The fund's awards, locked, oldest first (the fund's failure or cancellation ends
    them)."""
    rows = await session.scalars(
        select(Award)
        .where(Award.fund_id == fund_id)
        .order_by(Award.granted_at, Award.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def page(
    session: AsyncSession,
    *,
    principal: Principal,
    programme_id: UUID | None,
    status: AwardStatus | None,
    cursor: str | None,
    limit: int,
    item: Callable[[Award], T],
) -> Page[T]:
    """One page of the awards the caller may see (``rules.list_scope``), oldest first."""
    scope = rules.list_scope(principal)
    if scope.nothing:
        return Page[T](items=[], next_cursor=None)
    query = select(Award)
    if scope.municipality_code is not None:
        query = query.where(Award.municipality_code == scope.municipality_code)
    if scope.msme_id is not None:
        query = query.where(Award.msme_id == scope.msme_id)
    if programme_id is not None:
        query = query.where(Award.programme_id == programme_id)
    if status is not None:
        query = query.where(Award.status == status.value)
    key = (Award.granted_at, Award.id)
    if cursor is not None:
        after = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(tuple_(*key) > tuple_(*after))
    rows = (await session.scalars(query.order_by(*key).limit(limit + 1))).all()
    return page_of(rows, limit=limit, item=item, key=lambda r: (r.granted_at, r.id))


async def of_programme(session: AsyncSession, programme_id: UUID) -> list[Award]:
    """Every award of the programme, oldest first."""
    rows = await session.scalars(
        select(Award).where(Award.programme_id == programme_id).order_by(Award.granted_at, Award.id)
    )
    return list(rows)
