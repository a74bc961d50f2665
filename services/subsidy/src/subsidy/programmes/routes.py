"""Programmes: a municipality's grant programmes for a fiscal year."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, UnprocessableContent, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from subsidy.programmes import service
from subsidy.programmes.rules import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    ApplicationsNotOpen,
    InvalidProgramme,
    NotYourMunicipality,
    UnknownProgramme,
)
from subsidy.programmes.schemas import ProgrammeIn, ProgrammeOut

router = APIRouter(tags=["programmes"])

# Which municipality's programme: the readable queries decide (``rules.may_read``).
Runner = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY))]
Reader = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY, Role.MSME))]

MUNICIPALITY_CODE = r"^[0-9]{6}$"
FiscalYearFilter = Annotated[
    int | None,
    Query(ge=FIRST_FISCAL_YEAR, le=LAST_FISCAL_YEAR, description="April to March, Japan time"),
]
MunicipalityFilter = Annotated[
    str | None,
    Query(pattern=MUNICIPALITY_CODE, description="Local government code (six digits)"),
]


@router.post(
    "/programmes",
    status_code=201,
    response_model=ProgrammeOut,
    summary="Create a grant programme",
    operation_id="create_programme",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotYourMunicipality,
        InvalidProgramme,
        UnprocessableContent,
        IdempotencyKeyReused,
    ),
)
async def create_programme(
    body: ProgrammeIn,
    principal: Runner,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a grant programme: staff for any municipality, a municipality for its own code
    only (another code is 403 ``not-your-municipality``). Without ``fiscal_year`` the
    programme belongs to the fiscal year (April to March, Japan time) in which applications
    open."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="create_programme",
            body=body,
            action=lambda: service.create(uow, body=body, principal=principal),
        )


@router.get(
    "/programmes",
    response_model=Page[ProgrammeOut],
    summary="List grant programmes",
    operation_id="list_programmes",
    responses=problems(Unauthorized, Forbidden, BadCursor, UnprocessableContent),
)
async def list_programmes(
    principal: Reader,
    uow: UnitOfWorkDep,
    fiscal_year: FiscalYearFilter = None,
    municipality_code: MunicipalityFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ProgrammeOut]:
    """Programmes, oldest first, of a fiscal year or a municipality if asked: a
    municipality sees its own, staff and businesses every one."""
    async with uow:
        return await service.list_programmes(
            uow,
            principal=principal,
            fiscal_year=fiscal_year,
            municipality_code=municipality_code,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/programmes/{programme_id}",
    response_model=ProgrammeOut,
    summary="Get a grant programme",
    operation_id="get_programme",
    responses=problems(Unauthorized, Forbidden, UnknownProgramme),
)
async def get_programme(programme_id: UUID, principal: Reader, uow: UnitOfWorkDep) -> ProgrammeOut:
    """One programme, with what its awards use of its budget: for staff, businesses and its
    municipality."""
    async with uow:
        return await service.get(uow, programme_id=programme_id, principal=principal)


@router.post(
    "/programmes/{programme_id}/close-applications",
    response_model=ProgrammeOut,
    summary="Close a programme's applications",
    operation_id="close_applications",
    responses=problems(Unauthorized, Forbidden, UnknownProgramme, ApplicationsNotOpen),
)
async def close_applications(
    programme_id: UUID, principal: Runner, uow: UnitOfWorkDep
) -> ProgrammeOut:
    """End the application window now so that selection may begin (staff or the
    programme's municipality); 409 unless the window is open."""
    async with uow:
        return await service.close_applications(uow, programme_id=programme_id, principal=principal)
