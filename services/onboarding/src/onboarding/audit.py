"""The append-only audit trail: every change, who made it, readable by staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.pagination import Page, keyset_id_page
from onboarding.db.models import AuditRecord
from onboarding.schemas import AuditOut


async def record(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: object,
    **details: Any,
) -> None:
    """Add one line to the trail, in the caller's transaction. No personal data in details."""
    uow.session.add(
        AuditRecord(
            actor=principal.subject,
            actor_role=principal.role.value,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            details=details,
        )
    )


def _out(row: AuditRecord) -> AuditOut:
    return AuditOut(
        id=row.id,
        at=row.at,
        actor=row.actor,
        actor_role=row.actor_role,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        details=row.details,
    )


async def list_records(
    uow: UnitOfWork,
    *,
    entity_type: str | None,
    entity_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditOut]:
    """The trail in the order it was written, optionally for one record."""
    query = select(AuditRecord)
    if entity_type is not None:
        query = query.where(AuditRecord.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditRecord.entity_id == entity_id)
    return await keyset_id_page(
        uow.session, query, ident=AuditRecord.id, cursor=cursor, limit=limit, item=_out
    )
