"""The partner registry (staff): banks and municipalities whose tokens the platform accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.contracts.onboarding import PARTNER_ID, PartnerKind, PartnerStatus
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from onboarding.partners import service
from onboarding.partners.rules import (
    PartnerExists,
    PartnerRefused,
    PartnerStatusConflict,
    RegistryOutOfStep,
)
from onboarding.partners.schemas import PartnerIn, PartnerOut, PartnerStatusIn

router = APIRouter(prefix="/partners", tags=["partners"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]

# The schema's own example is a suspension's reason; a reinstatement gives its own.
REINSTATEMENT_EXAMPLES = {
    "reinstated": {"value": {"reason": "The bank renewed its partnership agreement"}}
}

PartnerId = Annotated[
    str,
    Path(
        min_length=2,
        max_length=63,
        pattern=PARTNER_ID,
        description="The tenant the partner's tokens carry",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=PartnerOut,
    summary="Register a partner bank or municipality",
    operation_id="register_partner",
    responses=problems(
        Unauthorized,
        Forbidden,
        PartnerRefused,
        PartnerExists,
        IdempotencyKeyReused,
    ),
)
async def register_partner(
    body: PartnerIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a partner bank or municipality; its tokens are accepted from now.

    Here at once; in the other services once they have received the
    registration (a moment later), and until then refused as an unknown partner.
    """
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="register_partner",
            body=body,
            action=lambda: service.register(uow, body=body, principal=principal),
        )


@router.get(
    "",
    response_model=Page[PartnerOut],
    summary="List partners",
    operation_id="list_partners",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_partners(
    principal: Staff,
    uow: UnitOfWorkDep,
    kind: PartnerKind | None = None,
    status: PartnerStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[PartnerOut]:
    """Partners in the order they were registered; optionally of one kind or status."""
    async with uow:
        return await service.list_partners(
            uow, principal=principal, kind=kind, status=status, cursor=cursor, limit=limit
        )


@router.get(
    "/{partner_id}",
    response_model=PartnerOut,
    summary="Get a partner",
    operation_id="get_partner",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_partner(partner_id: PartnerId, principal: Staff, uow: UnitOfWorkDep) -> PartnerOut:
    """One partner and its status."""
    async with uow:
        return await service.get(uow, partner_id=partner_id, principal=principal)


@router.post(
    "/{partner_id}/suspend",
    response_model=PartnerOut,
    summary="Suspend a partner",
    operation_id="suspend_partner",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        PartnerStatusConflict,
        RegistryOutOfStep,
    ),
)
async def suspend_partner(
    partner_id: PartnerId, body: PartnerStatusIn, principal: Staff, uow: UnitOfWorkDep
) -> PartnerOut:
    """Suspend a partner: its tokens are refused in every service within seconds (once
    the change has reached it); the reason goes to the audit trail and the event."""
    async with uow:
        return await service.set_status(
            uow,
            partner_id=partner_id,
            status=PartnerStatus.SUSPENDED,
            reason=body.reason,
            principal=principal,
        )


@router.post(
    "/{partner_id}/reinstate",
    response_model=PartnerOut,
    summary="Reinstate a partner",
    operation_id="reinstate_partner",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        PartnerStatusConflict,
        RegistryOutOfStep,
    ),
)
async def reinstate_partner(
    partner_id: PartnerId,
    body: Annotated[PartnerStatusIn, Body(openapi_examples=REINSTATEMENT_EXAMPLES)],
    principal: Staff,
    uow: UnitOfWorkDep,
) -> PartnerOut:
    """Reinstate a suspended partner: its tokens are accepted again."""
    async with uow:
        return await service.set_status(
            uow,
            partner_id=partner_id,
            status=PartnerStatus.ACTIVE,
            reason=body.reason,
            principal=principal,
        )
