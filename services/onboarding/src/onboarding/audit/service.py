"""The audit trail: the other aggregates record every change here; staff read it."""

from __future__ import annotations

from typing import Any

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from onboarding.audit import store
from onboarding.audit.rules import AuditEntity
from onboarding.audit.schemas import AuditOut
from onboarding.db.models import AuditRecord


async def record(
    uow: UnitOfWork,
    *,
    principal: Principal,
    action: str,
    entity: AuditEntity,
    entity_id: object,
    **details: Any,
) -> None:
    """Add one line to the trail, in the caller's transaction. No personal data in details."""
    store.add(
        uow.session,
        AuditRecord(
            actor=principal.subject,
            actor_role=principal.role.value,
            action=action,
            entity_type=entity.value,
            entity_id=str(entity_id),
            details=details,
        ),
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
    principal: Principal,
    entity_type: AuditEntity | None,
    entity_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditOut]:
    """Every change in the order it happened, optionally for one record; for staff only."""
    return await store.readable_records(
        uow.session,
        principal=principal,
        entity_type=entity_type,
        entity_id=entity_id,
        cursor=cursor,
        limit=limit,
        item=_out,
    )
