"""Fund endpoints (staff)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.service import UnitOfWorkDep
from onboarding import use_cases
from onboarding.domain.funds import TermLimits
from onboarding.schemas import FundOut, FundTermsIn
from onboarding.settings import Settings

router = APIRouter(prefix="/funds", tags=["funds"])
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]


@router.post(
    "",
    status_code=201,
    response_model=FundOut,
    operation_id="publish_fund",
    responses=problems(Unauthorized, Forbidden, use_cases.FundTermsRejected, IdempotencyKeyReused),
)
async def publish_fund(
    body: FundTermsIn,
    request: Request,
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Publish a fund: its terms are frozen and ``FundOpened`` is announced to the platform."""
    settings: Settings = request.app.state.runtime.settings
    limits = TermLimits(
        min_unit_price=settings.min_unit_price, max_unit_price=settings.max_unit_price
    )
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="publish_fund",
            body=body,
            action=lambda: use_cases.publish_fund(
                uow, terms_in=body, limits=limits, principal=principal
            ),
        )


@router.get(
    "/{fund_id}",
    response_model=FundOut,
    operation_id="get_fund",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_fund(fund_id: UUID, principal: Staff, uow: UnitOfWorkDep) -> FundOut:
    """One published fund and its terms."""
    async with uow:
        return await use_cases.get_fund(uow, fund_id=fund_id)
