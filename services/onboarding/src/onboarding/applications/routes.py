"""Applications: submission, the due-diligence and screening pipeline, the committee."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.contracts.onboarding import PARTNER_ID
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from onboarding.applications import service
from onboarding.applications.rules import DecisionRefused, MoveRefused, Step
from onboarding.applications.schemas import ApplicationIn, ApplicationOut, DecisionIn, TransitionIn
from onboarding.settings import SettingsDep

router = APIRouter(tags=["applications"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Which business and which bank: the store's readable queries decide (``rules.may_read``).
Participant = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME, Role.BANK))]


@router.post(
    "/msmes/{msme_id}/applications",
    status_code=201,
    response_model=ApplicationOut,
    summary="Apply to raise money",
    operation_id="submit_application",
    responses=problems(
        Unauthorized, Forbidden, NotFound, UnprocessableContent, IdempotencyKeyReused
    ),
)
async def submit_application(
    msme_id: UUID,
    body: ApplicationIn,
    principal: Participant,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Apply to raise money for a project.

    A referral by a partner bank (or a municipality's introduction, recorded by
    staff) counts as the partner introduction: the application starts at the
    initial meeting.
    """
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"submit_application:{msme_id}",
            body=body,
            action=lambda: service.submit(
                uow,
                msme_id=msme_id,
                body=body,
                principal=principal,
                targets=settings.step_target_days,
            ),
        )


@router.get(
    "/applications",
    response_model=Page[ApplicationOut],
    summary="List applications",
    operation_id="list_applications",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_applications(
    principal: Participant,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    step: Step | None = None,
    municipality_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    referring_bank: Annotated[str | None, Query(max_length=63, pattern=PARTNER_ID)] = None,
    msme_id: UUID | None = None,
    overdue: Annotated[bool, Query(description="Only those past their step's target")] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ApplicationOut]:
    """Applications, oldest first; a bank sees those it introduced, a business its own."""
    async with uow:
        return await service.list_applications(
            uow,
            principal=principal,
            step=step,
            municipality_code=municipality_code,
            referring_bank=referring_bank,
            msme_id=msme_id,
            overdue=overdue,
            cursor=cursor,
            limit=limit,
            targets=settings.step_target_days,
        )


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationOut,
    summary="Get an application",
    operation_id="get_application",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_application(
    application_id: UUID, principal: Participant, uow: UnitOfWorkDep, settings: SettingsDep
) -> ApplicationOut:
    """One application: its step, what is late or missing, its history and the votes."""
    async with uow:
        return await service.get(
            uow,
            application_id=application_id,
            principal=principal,
            targets=settings.step_target_days,
        )


@router.post(
    "/applications/{application_id}/transitions",
    response_model=ApplicationOut,
    summary="Move an application to its next step",
    operation_id="move_application",
    responses=problems(Unauthorized, Forbidden, NotFound, MoveRefused),
)
async def move_application(
    application_id: UUID,
    body: TransitionIn,
    principal: Participant,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> ApplicationOut:
    """Complete the current step (staff), reject, or withdraw (the business itself or staff).

    An illegal move is answered 409 with the moves allowed from the current step.
    """
    async with uow:
        return await service.move(
            uow,
            application_id=application_id,
            body=body,
            principal=principal,
            targets=settings.step_target_days,
        )


@router.post(
    "/applications/{application_id}/decision",
    response_model=ApplicationOut,
    summary="Record the investment committee's decision",
    operation_id="record_committee_decision",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        MoveRefused,
        DecisionRefused,
    ),
)
async def record_decision(
    application_id: UUID,
    body: DecisionIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> ApplicationOut:
    """The investment committee's votes and reasons; approval needs a quorum and a majority."""
    async with uow:
        return await service.decide(
            uow,
            application_id=application_id,
            body=body,
            principal=principal,
            quorum=settings.committee_quorum,
            targets=settings.step_target_days,
        )
