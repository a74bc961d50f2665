"""Businesses (MSMEs): registration and reading."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.contracts.onboarding import PARTNER_ID
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from onboarding.msmes import rules, service
from onboarding.msmes.schemas import MsmeIn, MsmeOut

router = APIRouter(prefix="/msmes", tags=["msmes"])

# Which business and which bank: the store's readable queries decide (``rules.may_read``).
Participant = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME, Role.BANK))]


@router.post(
    "",
    status_code=201,
    response_model=MsmeOut,
    summary="Register a business",
    operation_id="register_msme",
    responses=problems(
        Unauthorized,
        Forbidden,
        rules.InvalidIdentity,
        rules.AlreadyRegistered,
        IdempotencyKeyReused,
    ),
)
async def register_msme(
    body: MsmeIn,
    principal: Participant,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a business: by itself, by staff, or by a partner bank (recorded as its referral).

    A Corporate Number registers once; a second registration is answered 409
    (staff are told the existing record's id; a bank or a business only that it exists).
    """
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="register_msme",
            body=body,
            action=lambda: service.register(uow, body=body, principal=principal),
        )


@router.get(
    "",
    response_model=Page[MsmeOut],
    summary="List businesses",
    operation_id="list_msmes",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_msmes(
    principal: Participant,
    uow: UnitOfWorkDep,
    prefecture_code: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    municipality_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    referring_bank: Annotated[str | None, Query(max_length=63, pattern=PARTNER_ID)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MsmeOut]:
    """Businesses, oldest first; a partner bank sees only those it referred."""
    async with uow:
        return await service.list_msmes(
            uow,
            principal=principal,
            prefecture_code=prefecture_code,
            municipality_code=municipality_code,
            referring_bank=referring_bank,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/{msme_id}",
    response_model=MsmeOut,
    summary="Get a business",
    operation_id="get_msme",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_msme(msme_id: UUID, principal: Participant, uow: UnitOfWorkDep) -> MsmeOut:
    """One business; personal contact details only for the business itself and staff."""
    async with uow:
        return await service.get(uow, msme_id=msme_id, principal=principal)
