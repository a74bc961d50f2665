"""Reporting deadlines across funds (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from disclosure.deadlines import service
from disclosure.deadlines.rules import DeadlineStatus
from disclosure.deadlines.schemas import DeadlineOut
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.service import UnitOfWorkDep

router = APIRouter(prefix="/deadlines", tags=["deadlines"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


@router.get(
    "",
    response_model=list[DeadlineOut],
    operation_id="list_deadlines",
    responses=problems(Unauthorized, Forbidden),
)
async def list_deadlines(
    principal: Staff,
    uow: UnitOfWorkDep,
    status: DeadlineStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadlineOut]:
    """Reports due across funds, soonest first; ``status=overdue`` lists what to chase."""
    async with uow:
        return await service.listed(uow, principal=principal, status=status, limit=limit)
