"""The audit trail: the other aggregates record every change here; staff read it."""

from __future__ import annotations

from typing import Any

from kumiai import audit as trail
from kumiai.audit import AuditOut
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal
from onboarding.audit import rules
from onboarding.audit.rules import AuditEntity
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
    trail.add(
        uow.session,
        AuditRecord,
        principal=principal,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=details,
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
    rules.check_reader(principal)
    return await trail.page(
        uow.session,
        AuditRecord,
        entity_type=entity_type,
        entity_id=entity_id,
        cursor=cursor,
        limit=limit,
    )
