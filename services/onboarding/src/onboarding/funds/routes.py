"""Funds: staff design them for approved applications, publish and cancel them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from onboarding.funds import service
from onboarding.funds.rules import (
    FundExists,
    FundStateConflict,
    FundStatus,
    FundTerms,
    FundTermsRejected,
    YearlyLimitRefused,
)
from onboarding.funds.schemas import TERMS_EXAMPLE, CancelIn, FundIn, FundOut
from onboarding.settings import SettingsDep

router = APIRouter(prefix="/funds", tags=["funds"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Which business and which bank: the store's readable queries decide (``rules.may_read``).
Participant = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME, Role.BANK))]


@router.post(
    "",
    status_code=201,
    response_model=FundOut,
    summary="Design a fund",
    operation_id="create_fund",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        FundTermsRejected,
        FundStateConflict,
        FundExists,
        IdempotencyKeyReused,
    ),
)
async def create_fund(
    body: FundIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Design the fund of an approved application (a draft until published)."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="create_fund",
            body=body,
            action=lambda: service.create_draft(
                uow, body=body, principal=principal, limits=settings.term_limits()
            ),
        )


@router.put(
    "/{fund_id}/terms",
    response_model=FundOut,
    summary="Replace a draft fund's terms",
    operation_id="replace_fund_terms",
    responses=problems(Unauthorized, Forbidden, NotFound, FundTermsRejected, FundStateConflict),
)
async def replace_terms(
    fund_id: UUID,
    body: Annotated[FundTerms, Body(openapi_examples={"terms": {"value": TERMS_EXAMPLE}})],
    principal: Staff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> FundOut:
    """Replace a draft's terms; they freeze when the fund is published."""
    async with uow:
        return await service.update_draft(
            uow, fund_id=fund_id, terms=body, principal=principal, limits=settings.term_limits()
        )


@router.post(
    "/{fund_id}/publish",
    response_model=FundOut,
    summary="Publish a fund",
    operation_id="publish_fund",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        FundTermsRejected,
        FundStateConflict,
        YearlyLimitRefused,
    ),
)
async def publish_fund(
    fund_id: UUID, principal: Staff, uow: UnitOfWorkDep, settings: SettingsDep
) -> FundOut:
    """Freeze the terms and schedule the offering; ``FundOpened`` follows at its start.

    A start already past opens the offering now, and it must then still last the
    minimum offering period (422 naming ``terms.offering_end`` otherwise). Refused
    (with the figures) if the business would raise the yearly limit or more.
    """
    async with uow:
        return await service.publish(
            uow,
            fund_id=fund_id,
            principal=principal,
            limits=settings.term_limits(),
            yearly_limit=settings.yearly_raise_limit,
        )


@router.post(
    "/{fund_id}/cancel",
    response_model=FundOut,
    summary="Cancel a fund",
    operation_id="cancel_fund",
    responses=problems(Unauthorized, Forbidden, NotFound, FundStateConflict),
)
async def cancel_fund(
    fund_id: UUID, body: CancelIn, principal: Staff, uow: UnitOfWorkDep
) -> FundOut:
    """Cancel a draft or scheduled fund (``FundCancelled`` if it was published)."""
    async with uow:
        return await service.cancel(uow, fund_id=fund_id, reason=body.reason, principal=principal)


@router.get(
    "",
    response_model=Page[FundOut],
    summary="List funds",
    operation_id="list_funds",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_funds(
    principal: Participant,
    uow: UnitOfWorkDep,
    status: FundStatus | None = None,
    msme_id: UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[FundOut]:
    """Funds, oldest first; a business sees its own, a bank those of businesses it referred."""
    async with uow:
        return await service.list_funds(
            uow, principal=principal, status=status, msme_id=msme_id, cursor=cursor, limit=limit
        )


@router.get(
    "/{fund_id}",
    response_model=FundOut,
    summary="Get a fund",
    operation_id="get_fund",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_fund(fund_id: UUID, principal: Participant, uow: UnitOfWorkDep) -> FundOut:
    """One fund, its terms, the target and its capital-like-debt eligibility."""
    async with uow:
        return await service.get(uow, fund_id=fund_id, principal=principal)
