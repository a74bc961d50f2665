"""Subscription's audit trail (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kumiai.audit import AuditOut
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from subscription.audit import service
from subscription.audit.rules import AuditEntity

router = APIRouter(prefix="/audit", tags=["audit"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


@router.get(
    "",
    response_model=Page[AuditOut],
    operation_id="list_subscription_audit_records",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_audit_records(
    principal: Staff,
    uow: UnitOfWorkDep,
    entity_type: AuditEntity | None = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AuditOut]:
    """Every time staff were given investors' personal details, in order; optionally for one."""
    async with uow:
        return await service.list_records(
            uow,
            principal=principal,
            entity_type=entity_type,
            entity_id=entity_id,
            cursor=cursor,
            limit=limit,
        )
