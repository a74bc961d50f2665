"""The partner registry in the database: onboarding's own ``partners`` table (every service
keeps a copy of it, written by the same statements of ``kumiai.partners``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, false, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.contracts.onboarding import (
    PartnerKind,
    PartnerRegistered,
    PartnerStatus,
    PartnerStatusChanged,
)
from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.partners import change_status, record_partner
from kumiai.platform_tables import partners
from kumiai.problems import NotFound
from onboarding.partners import rules

T = TypeVar("T")

REGISTRY_LOCK = "onboarding.partner-registry"
"""Names the transaction lock that makes registrations take turns."""


async def take_turns(session: AsyncSession) -> None:
    """Hold the registry's transaction lock: registrations are made one at a time."""
    # Registrations are rare: one at a time, so the checks that an id and a Zengin code
    # are free (rules.check_id_free, rules.check_zengin_code_free) cannot be raced, and
    # a second registration of an id never overwrites the first.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(REGISTRY_LOCK))))


async def is_registered(session: AsyncSession, partner_id: str) -> bool:
    """Whether a partner with this id is registered."""
    taken = await session.scalar(
        select(partners.c.partner_id).where(partners.c.partner_id == partner_id)
    )
    return taken is not None


async def holder_of_zengin_code(session: AsyncSession, zengin_code: str | None) -> str | None:
    """The partner registered with ``zengin_code``, if any."""
    if zengin_code is None:
        return None
    return await session.scalar(
        select(partners.c.partner_id).where(partners.c.zengin_code == zengin_code)
    )


async def record(session: AsyncSession, event: PartnerRegistered, *, version: int) -> None:
    """Write a registration at ``version`` (the sequence of its event)."""
    await record_partner(session, event, version=version)


async def change(session: AsyncSession, event: PartnerStatusChanged, *, version: int) -> None:
    """Write a status change at ``version``; ``rules.check_in_step`` has made sure it is newer."""
    await change_status(session, event, version=version)


async def readable_partner(
    session: AsyncSession, partner_id: str, principal: Principal, *, lock: bool = False
) -> Row[Any]:
    """The partner's record, if ``principal`` may read it (``rules.may_read``); 404 otherwise.

    ``lock`` holds it for the change that follows.
    """
    query = select(partners).where(partners.c.partner_id == partner_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none() if rules.may_read(principal) else None
    if row is None:
        raise NotFound(f"no partner {partner_id}")
    return row


async def readable_partners(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: PartnerKind | None,
    status: PartnerStatus | None,
    cursor: str | None,
    limit: int,
    item: Callable[[Row[Any]], T],
) -> Page[T]:
    """One page of partners in the order they were registered (for staff: ``rules.may_read``)."""
    query = select(partners)
    if not rules.may_read(principal):
        query = query.where(false())
    if kind is not None:
        query = query.where(partners.c.kind == kind.value)
    if status is not None:
        query = query.where(partners.c.status == status.value)
    key = tuple_(partners.c.registered_at, partners.c.partner_id)
    if cursor is not None:
        after = decode_cursor(cursor, _instant, _text)
        query = query.where(key > tuple_(*after))
    rows = (
        await session.execute(
            query.order_by(partners.c.registered_at, partners.c.partner_id).limit(limit + 1)
        )
    ).all()
    return page_of(rows, limit=limit, item=item, key=lambda r: (r.registered_at, r.partner_id))


def _instant(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("not an instant")
    return when


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a partner id")
    return value
