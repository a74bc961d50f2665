"""Businesses in the database: lookups, the registration that holds once, what a caller may read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.db import sqlstate
from kumiai.pagination import Page, keyset_page
from kumiai.problems import NotFound
from onboarding.db.models import Msme
from onboarding.msmes import rules

T = TypeVar("T")

UNIQUE_VIOLATION = "23505"


async def holder_of(session: AsyncSession, corporate_number: str) -> UUID | None:
    """The business registered under ``corporate_number``, if any."""
    return await session.scalar(select(Msme.id).where(Msme.corporate_number == corporate_number))


async def exists(session: AsyncSession, msme_id: UUID) -> bool:
    """Whether a business with this id is registered."""
    return await session.get(Msme, msme_id) is not None


async def insert_once(session: AsyncSession, msme: Msme) -> bool:
    """Insert ``msme``; ``False`` if another registration of its number (or id) committed first.

    ``uq_msmes_corporate_number`` and ``pk_msmes`` hold the rule that a business
    registers once (``rules.already_registered``) against a concurrent registration.
    """
    try:
        async with session.begin_nested():
            session.add(msme)
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != UNIQUE_VIOLATION:
            raise
        return False
    await session.refresh(msme)
    return True


async def readable_msme(session: AsyncSession, msme_id: UUID, principal: Principal) -> Msme:
    """The business, if ``principal`` may read it (``rules.may_read``); 404 naming only its id."""
    msme = await session.get(Msme, msme_id)
    if msme is None or not rules.may_read(principal, msme):
        raise NotFound(f"no business {msme_id}")
    return msme


async def readable_msmes(
    session: AsyncSession,
    *,
    principal: Principal,
    prefecture_code: str | None,
    municipality_code: str | None,
    referring_bank: str | None,
    cursor: str | None,
    limit: int,
    item: Callable[[Msme], T],
) -> Page[T]:
    """One page of the businesses ``principal`` may list (``rules.listed_bank``), oldest first."""
    referring_bank = rules.listed_bank(principal, referring_bank)
    query = select(Msme)
    if prefecture_code is not None:
        query = query.where(Msme.prefecture_code == prefecture_code)
    if municipality_code is not None:
        query = query.where(Msme.municipality_code == municipality_code)
    if referring_bank is not None:
        query = query.where(Msme.referred_by_bank == referring_bank)
    return await keyset_page(session, query, Msme, cursor, limit, item)
