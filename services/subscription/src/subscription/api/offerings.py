"""Public offering endpoints: what is on sale and how far it has got."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kumiai.errors import NotFound, problems
from kumiai.service import UnitOfWorkDep
from subscription import use_cases
from subscription.schemas import OfferingOut, OfferingPage

router = APIRouter(prefix="/offerings", tags=["offerings"])


@router.get("", response_model=OfferingPage, operation_id="list_offerings")
async def list_offerings(
    uow: UnitOfWorkDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[UUID | None, Query(description="next_cursor of the previous page")] = None,
) -> OfferingPage:
    """Offerings with their progress (units sold and offered, investors, days left)."""
    async with uow:
        return await use_cases.list_offerings(uow, limit=limit, cursor=cursor)


@router.get(
    "/{fund_id}",
    response_model=OfferingOut,
    operation_id="get_offering",
    responses=problems(NotFound),
)
async def get_offering(fund_id: UUID, uow: UnitOfWorkDep) -> OfferingOut:
    """One offering's public progress."""
    async with uow:
        return await use_cases.get_offering(uow, fund_id=fund_id)
