"""A fund's distributions as its business and staff follow them: what is owed, by when,
quoting which reference, and whether it was paid out."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.service import UnitOfWorkDep
from ledger.distributions import service
from ledger.distributions.schemas import FundDistributionsOut

router = APIRouter(tags=["distributions"])
Reader = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]


@router.get(
    "/funds/{fund_id}/distributions",
    response_model=FundDistributionsOut,
    summary="List a fund's declared distributions",
    operation_id="list_fund_distributions",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def fund_distributions(
    fund_id: UUID, principal: Reader, uow: UnitOfWorkDep
) -> FundDistributionsOut:
    """Every declared distribution of the fund (what the business owes and quotes, and how
    far it was paid out) and the fees booked; for staff and the fund's own business."""
    async with uow:
        return await service.fund_distributions(uow, fund_id=fund_id, principal=principal)
