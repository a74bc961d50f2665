"""Awards: making them in score order, reading them, revoking them."""

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
from subsidy.applications.rules import UnknownProgrammeApplication
from subsidy.awards import service
from subsidy.awards.rules import (
    ApplicationsStillOpen,
    AwardsExhausted,
    AwardStatus,
    BudgetExhausted,
    FundAlreadySubsidised,
    FundNotOpen,
    NotAwardable,
    NothingToSubsidise,
    NotInScoreOrder,
    NotRevocable,
    UnknownAward,
)
from subsidy.awards.schemas import AwardOut, RevokeIn

router = APIRouter(tags=["awards"])

# Whose award: the readable queries decide (``rules.may_read``).
Runner = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY))]
Reader = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY, Role.MSME))]


@router.post(
    "/programme-applications/{programme_application_id}/award",
    status_code=201,
    response_model=AwardOut,
    summary="Award a subsidy",
    operation_id="award_subsidy",
    responses=problems(
        Unauthorized,
        Forbidden,
        UnknownProgrammeApplication,
        ApplicationsStillOpen,
        NotAwardable,
        NotInScoreOrder,
        FundNotOpen,
        FundAlreadySubsidised,
        NothingToSubsidise,
        AwardsExhausted,
        BudgetExhausted,
        IdempotencyKeyReused,
    ),
)
async def award_subsidy(
    programme_application_id: UUID,
    principal: Runner,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Award a passed application (staff or the programme's municipality) once the window
    has closed, in score order (decline a higher-scored one to pass over it), to its fund
    once open: amount = min(cap per award, floor(arrangement fee x coverage)). The budget
    is reserved at once and is never overspent, nor the number of awards exceeded, however
    many awards are made at the same time (409 ``budget-exhausted`` or
    ``awards-exhausted``). Announced as ``SubsidyGranted``."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"award_subsidy:{programme_application_id}",
            body=None,
            action=lambda: service.award(
                uow, programme_application_id=programme_application_id, principal=principal
            ),
        )


@router.get(
    "/awards",
    response_model=Page[AwardOut],
    summary="List awards",
    operation_id="list_awards",
    responses=problems(Unauthorized, Forbidden, BadCursor, UnprocessableContent),
)
async def list_awards(
    principal: Reader,
    uow: UnitOfWorkDep,
    programme_id: Annotated[UUID | None, Query()] = None,
    status: Annotated[AwardStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AwardOut]:
    """Awards, oldest first, of a programme or in a status if asked: staff see every one, a
    municipality its programmes', a business its own."""
    async with uow:
        return await service.list_awards(
            uow,
            principal=principal,
            programme_id=programme_id,
            status=status,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/awards/{award_id}",
    response_model=AwardOut,
    summary="Get an award",
    operation_id="get_award",
    responses=problems(Unauthorized, Forbidden, UnknownAward),
)
async def get_award(award_id: UUID, principal: Reader, uow: UnitOfWorkDep) -> AwardOut:
    """One award: for staff, the programme's municipality and the awarded business."""
    async with uow:
        return await service.get(uow, award_id=award_id, principal=principal)


@router.post(
    "/awards/{award_id}/revoke",
    response_model=AwardOut,
    summary="Revoke an award",
    operation_id="revoke_award",
    responses=problems(Unauthorized, Forbidden, UnknownAward, NotRevocable, UnprocessableContent),
)
async def revoke_award(
    award_id: UUID, body: RevokeIn, principal: Runner, uow: UnitOfWorkDep
) -> AwardOut:
    """Withdraw an award (staff or the programme's municipality), with a note: before the
    municipality paid it the budget is released (``revoked``); after, the business must pay
    it back (``repayment_due``). Announced as ``SubsidyRevoked``."""
    async with uow:
        return await service.revoke(uow, award_id=award_id, note=body.note, principal=principal)
