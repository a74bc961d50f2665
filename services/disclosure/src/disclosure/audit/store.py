"""The audit trail in the database: one line added per change, and the pages staff read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from disclosure.audit.rules import AuditEntity
from disclosure.db.models import AuditRecord
from kumiai.pagination import Page, keyset_id_page

T = TypeVar("T")


def add(session: AsyncSession, record: AuditRecord) -> None:
    """Add a line in the caller's transaction (``audit_log`` is append-only in the database)."""
    session.add(record)


async def records(
    session: AsyncSession,
    *,
    entity_type: AuditEntity | None,
    entity_id: str | None,
    cursor: str | None,
    limit: int,
    item: Callable[[AuditRecord], T],
) -> Page[T]:
    """One page of the trail in the order it was written."""
    query = select(AuditRecord)
    if entity_type is not None:
        query = query.where(AuditRecord.entity_type == entity_type.value)
    if entity_id is not None:
        query = query.where(AuditRecord.entity_id == entity_id)
    return await keyset_id_page(
        session, query, ident=AuditRecord.id, cursor=cursor, limit=limit, item=item
    )
