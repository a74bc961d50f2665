"""Reporting deadlines across funds (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from disclosure.deadlines import service
from disclosure.deadlines.rules import DeadlineStatus
from disclosure.deadlines.schemas import DeadlineOut
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep

router = APIRouter(prefix="/deadlines", tags=["deadlines"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


@router.get(
    "",
    response_model=Page[DeadlineOut],
    summary="List reporting deadlines",
    operation_id="list_deadlines",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_deadlines(
    principal: Staff,
    uow: UnitOfWorkDep,
    status: DeadlineStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeadlineOut]:
    """Reports due across funds, soonest first; ``status=overdue`` lists what to chase."""
    async with uow:
        return await service.listed(
            uow, principal=principal, status=status, cursor=cursor, limit=limit
        )
