"""The audit trail: the other aggregates record every change here; staff read it."""

from __future__ import annotations

from typing import Any

from disclosure.audit import rules, store
from disclosure.audit.rules import AuditEntity
from disclosure.audit.schemas import AuditLine
from disclosure.db.models import AuditRecord
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal


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


async def list_lines(
    uow: UnitOfWork,
    *,
    principal: Principal,
    entity_type: AuditEntity | None,
    entity_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditLine]:
    """Every change in the order it happened, optionally for one record; for staff only."""
    rules.check_reader(principal)
    return await store.records(
        uow.session,
        entity_type=entity_type,
        entity_id=entity_id,
        cursor=cursor,
        limit=limit,
        item=lambda row: AuditLine.model_validate(row, from_attributes=True),
    )
