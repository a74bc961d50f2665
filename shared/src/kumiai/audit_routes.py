"""``GET /audit`` of a service's audit trail, for staff: one route every service serves the
same way, with its own kinds of records and words.

No ``from __future__ import annotations`` here: the route's ``entity_type`` is typed with
the service's own enum, which FastAPI must see as a class, not as a name to look up.
"""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kumiai.audit import AuditOut, Trail
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


def audit_router(
    trail: Trail, *, entities: type[StrEnum], operation_id: str, description: str
) -> APIRouter:
    """The router of ``GET /audit``: ``trail``'s lines for staff, oldest first, optionally
    for one record of one of ``entities``."""
    router = APIRouter(prefix="/audit", tags=["audit"])

    async def list_audit_records(
        principal: Staff,
        uow: UnitOfWorkDep,
        entity_type: entities | None = None,  # type: ignore[valid-type]
        entity_id: Annotated[str | None, Query(max_length=100)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[AuditOut]:
        async with uow:
            return await trail.list_records(
                uow,
                principal=principal,
                entity_type=entity_type,
                entity_id=entity_id,
                cursor=cursor,
                limit=limit,
            )

    list_audit_records.__doc__ = description
    router.add_api_route(
        "",
        list_audit_records,
        methods=["GET"],
        response_model=Page[AuditOut],
        operation_id=operation_id,
        responses=problems(Unauthorized, Forbidden, BadCursor),
    )
    return router
