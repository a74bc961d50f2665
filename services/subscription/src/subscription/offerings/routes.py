"""Offering endpoints: what is on sale and how far it has got (public); staff withdraw one."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from kumiai.auth import require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.principal import Principal, Role
from kumiai.service import UnitOfWorkDep
from subscription.offerings import service
from subscription.offerings.rules import CancelRefusedClosed, OfferingNotFound
from subscription.offerings.schemas import OfferingCancelIn, OfferingOut

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]

router = APIRouter(prefix="/offerings", tags=["offerings"])


@router.get(
    "",
    response_model=Page[OfferingOut],
    summary="List offerings",
    operation_id="list_offerings",
    responses=problems(BadCursor),
)
async def list_offerings(
    uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[OfferingOut]:
    """Offerings with their progress (units sold and offered, investors, days left)."""
    async with uow:
        return await service.list_offerings(uow, limit=limit, cursor=cursor)


@router.get(
    "/{fund_id}",
    response_model=OfferingOut,
    summary="Get an offering",
    operation_id="get_offering",
    responses=problems(OfferingNotFound),
)
async def get_offering(fund_id: UUID, uow: UnitOfWorkDep) -> OfferingOut:
    """One offering's public progress."""
    async with uow:
        return await service.get_offering(uow, fund_id=fund_id)


@router.post(
    "/{fund_id}/cancel",
    response_model=OfferingOut,
    summary="Withdraw an offering",
    operation_id="cancel_offering",
    responses=problems(Unauthorized, Forbidden, OfferingNotFound, CancelRefusedClosed),
)
async def cancel_offering(
    fund_id: UUID, body: OfferingCancelIn, principal: Staff, uow: UnitOfWorkDep
) -> OfferingOut:
    """Withdraw an open offering: every subscription is cancelled and paid money refunded."""
    async with uow:
        return await service.cancel_offering(
            uow, fund_id=fund_id, reason=body.reason, principal=principal
        )
