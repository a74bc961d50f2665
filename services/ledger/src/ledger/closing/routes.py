"""A fund's escrow, as staff check it: what went in and out, and why."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.service import UnitOfWorkDep
from ledger.closing import service
from ledger.closing.schemas import SegregationReportOut

# Published under the deposits tag, beside the flows that fill the escrow.
router = APIRouter(tags=["deposits"])
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


@router.get(
    "/funds/{fund_id}/segregation",
    response_model=SegregationReportOut,
    summary="Get a fund's escrow segregation report",
    operation_id="get_segregation_report",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def segregation_report(
    fund_id: UUID, principal: Staff, uow: UnitOfWorkDep
) -> SegregationReportOut:
    """A fund's escrow: paid in, refunded, released, fees, balance, agreement with postings."""
    async with uow:
        return await service.segregation_report(uow, fund_id=fund_id, principal=principal)
