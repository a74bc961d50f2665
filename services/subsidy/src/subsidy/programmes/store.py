"""Programmes in the database, and which of them a caller may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.pagination import Page, keyset_page
from kumiai.principal import Principal
from subsidy.db.models import Programme
from subsidy.programmes import rules

T = TypeVar("T")


async def readable_programme(
    session: AsyncSession, programme_id: UUID, principal: Principal, *, lock: bool = False
) -> Programme:
    """The programme if ``principal`` may see it (``rules.may_read``); 404 naming only its
    id. ``lock`` makes changes to one programme take turns."""
    programme = await session.get(
        Programme, programme_id, with_for_update=lock or None, populate_existing=lock
    )
    if programme is None or not rules.may_read(principal, programme.municipality_code):
        raise rules.UnknownProgramme(f"no programme {programme_id}")
    return programme


async def managed_programme(
    session: AsyncSession, programme_id: UUID, principal: Principal, *, lock: bool = False
) -> Programme:
    """The programme if ``principal`` runs it (``rules.runs``: staff or its municipality);
    404 naming only its id otherwise."""
    programme = await session.get(
        Programme, programme_id, with_for_update=lock or None, populate_existing=lock
    )
    if programme is None or not rules.runs(principal, programme.municipality_code):
        raise rules.UnknownProgramme(f"no programme {programme_id}")
    return programme


async def programme(session: AsyncSession, programme_id: UUID) -> Programme:
    """A programme by id, for the service's own use (its applications and awards name it)."""
    found = await session.get(Programme, programme_id, populate_existing=True)
    if found is None:
        raise rules.UnknownProgramme(f"no programme {programme_id}")
    return found


def add(session: AsyncSession, row: Programme) -> None:
    session.add(row)


async def page(
    session: AsyncSession,
    *,
    fiscal_year: int | None,
    municipality_code: str | None,
    cursor: str | None,
    limit: int,
    item: Callable[[Programme], T],
) -> Page[T]:
    """One page of programmes, oldest first, of a fiscal year and a municipality if given."""
    query = select(Programme)
    if fiscal_year is not None:
        query = query.where(Programme.fiscal_year == fiscal_year)
    if municipality_code is not None:
        query = query.where(Programme.municipality_code == municipality_code)
    return await keyset_page(session, query, Programme, cursor, limit, item)
