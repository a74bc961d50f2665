"""The partner registry as every service sees it: which banks and municipalities exist.

Staff register partners in onboarding, which owns the registry and announces
each change (``PartnerRegistered``, ``PartnerStatusChanged``). Every service
keeps its own copy in its ``partners`` table, written by the same handler, and
refuses the tokens of a partner it does not know as active (``kumiai.auth``).
A partner registered a moment ago may be refused by another service until
the event arrives; a suspension takes effect everywhere within the event's
delivery plus ``ACTIVE_CACHE_S``.
"""

from __future__ import annotations

import time

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kumiai.contracts.onboarding import (
    PartnerKind,
    PartnerRegistered,
    PartnerStatus,
    PartnerStatusChanged,
)
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.platform_tables import partners

ACTIVE_CACHE_S = 5.0
"""How long a process trusts that a partner it found active still is."""


async def record_partner(session: AsyncSession, event: PartnerRegistered, *, version: int) -> None:
    """Insert or refresh a partner from its registration (the owner and every copy)."""
    await session.execute(
        insert(partners)
        .values(
            partner_id=event.partner_id,
            kind=event.kind.value,
            name=event.name,
            zengin_code=event.zengin_code,
            status=PartnerStatus.ACTIVE.value,
            version=version,
            registered_at=event.registered_at,
        )
        .on_conflict_do_update(
            index_elements=[partners.c.partner_id],
            set_={"name": event.name, "zengin_code": event.zengin_code, "version": version},
            where=partners.c.version < version,
        )
    )


async def change_status(
    session: AsyncSession, event: PartnerStatusChanged, *, version: int
) -> None:
    """Suspend or reinstate a partner (only a newer change than the copy's wins)."""
    await session.execute(
        partners.update()
        .where(partners.c.partner_id == event.partner_id, partners.c.version < version)
        .values(status=event.status.value, version=version)
    )


async def on_partner_registered(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, PartnerRegistered)
    await record_partner(uow.session, payload, version=envelope.sequence)


async def on_partner_status_changed(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, PartnerStatusChanged)
    await change_status(uow.session, payload, version=envelope.sequence)


PARTNER_HANDLERS = {
    PartnerRegistered.event_type: on_partner_registered,
    PartnerStatusChanged.event_type: on_partner_status_changed,
}
"""Handlers every service that hears onboarding's events adds to its own."""


class PartnerDirectory:
    """Answers "is this an active partner of that kind?" for one service process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._active_until: dict[tuple[str, str], float] = {}

    async def is_active(self, kind: str, partner_id: str) -> bool:
        key = (kind, partner_id)
        now = time.monotonic()
        if self._active_until.get(key, 0.0) > now:
            return True
        async with self._sessions() as session:
            status = await session.scalar(
                select(partners.c.status).where(
                    partners.c.partner_id == partner_id, partners.c.kind == kind
                )
            )
        if status != PartnerStatus.ACTIVE.value:
            self._active_until.pop(key, None)
            return False
        if len(self._active_until) > 10_000:
            self._active_until.clear()
        self._active_until[key] = now + ACTIVE_CACHE_S
        return True


def partner_directory(request: Request) -> PartnerDirectory:
    directory: PartnerDirectory = request.app.state.runtime.partners
    return directory


async def partner_exists(
    session: AsyncSession, kind: PartnerKind, partner_id: str, *, active: bool = True
) -> bool:
    """Whether ``partner_id`` is a registered partner of ``kind`` (and active, by default)."""
    query = select(partners.c.status).where(
        partners.c.partner_id == partner_id, partners.c.kind == kind.value
    )
    status = await session.scalar(query)
    return status is not None and (not active or status == PartnerStatus.ACTIVE.value)
