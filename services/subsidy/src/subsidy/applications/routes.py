"""Applications to programmes: applying, reading, reviewing and declining."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, UnprocessableContent, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from subsidy.applications import service
from subsidy.applications.rules import (
    AlreadyApplied,
    InvalidMarks,
    NotUnderReview,
    OnboardingApplicationEnded,
    OtherMunicipality,
    UnknownOnboardingApplication,
    UnknownProgrammeApplication,
)
from subsidy.applications.schemas import ApplyIn, DeclineIn, ProgrammeApplicationOut, ReviewIn
from subsidy.programmes.rules import ApplicationsNotOpen, UnknownProgramme

router = APIRouter(tags=["programme applications"])

# Whose application: the readable queries decide (``rules.may_read``).
Applicant = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]
Runner = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY))]
Reader = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY, Role.MSME))]


@router.post(
    "/programmes/{programme_id}/applications",
    status_code=201,
    response_model=ProgrammeApplicationOut,
    summary="Apply to a grant programme",
    operation_id="apply_to_programme",
    responses=problems(
        Unauthorized,
        Forbidden,
        UnknownProgramme,
        ApplicationsNotOpen,
        AlreadyApplied,
        UnknownOnboardingApplication,
        OtherMunicipality,
        OnboardingApplicationEnded,
        UnprocessableContent,
        IdempotencyKeyReused,
    ),
)
async def apply_to_programme(
    programme_id: UUID,
    body: ApplyIn,
    principal: Applicant,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Apply to a programme while it takes applications, with the business's onboarding
    application (the business itself, or staff for it). The onboarding application must be
    known, not rejected or withdrawn, and name the programme's municipality (or, for a
    prefecture's programme, one of its municipalities); it applies once per programme."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"apply_to_programme:{programme_id}",
            body=body,
            action=lambda: service.apply(
                uow, programme_id=programme_id, body=body, principal=principal
            ),
        )


@router.get(
    "/programmes/{programme_id}/applications",
    response_model=Page[ProgrammeApplicationOut],
    summary="List a programme's applications",
    operation_id="list_programme_applications",
    responses=problems(Unauthorized, Forbidden, UnknownProgramme, BadCursor),
)
async def list_programme_applications(
    programme_id: UUID,
    principal: Runner,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ProgrammeApplicationOut]:
    """The programme's applications, best score first and unscored last, with the
    reviewers' sheets: for staff and the programme's municipality."""
    async with uow:
        return await service.list_for_programme(
            uow, programme_id=programme_id, principal=principal, cursor=cursor, limit=limit
        )


@router.get(
    "/programme-applications/{programme_application_id}",
    response_model=ProgrammeApplicationOut,
    summary="Get a programme application",
    operation_id="get_programme_application",
    responses=problems(Unauthorized, Forbidden, UnknownProgrammeApplication),
)
async def get_programme_application(
    programme_application_id: UUID, principal: Reader, uow: UnitOfWorkDep
) -> ProgrammeApplicationOut:
    """One application and its score: for staff and the programme's municipality (with the
    reviewers' sheets), and for the applying business (without them)."""
    async with uow:
        return await service.get(
            uow, programme_application_id=programme_application_id, principal=principal
        )


@router.put(
    "/programme-applications/{programme_application_id}/review",
    response_model=ProgrammeApplicationOut,
    summary="Review a programme application",
    operation_id="review_programme_application",
    responses=problems(
        Unauthorized,
        Forbidden,
        UnknownProgrammeApplication,
        NotUnderReview,
        InvalidMarks,
        UnprocessableContent,
    ),
)
async def review_programme_application(
    programme_application_id: UUID, body: ReviewIn, principal: Runner, uow: UnitOfWorkDep
) -> ProgrammeApplicationOut:
    """The caller's review sheet (the reviewer is the token's subject; a second one replaces
    the first) while the application is under review: a mark of 0 to 100 % for each of the
    programme's criteria, exactly once. The score is the weighted mean of the reviewers'
    mean marks, in points rounded down to the hundredth."""
    async with uow:
        return await service.review(
            uow,
            programme_application_id=programme_application_id,
            body=body,
            principal=principal,
        )


@router.post(
    "/programme-applications/{programme_application_id}/decline",
    response_model=ProgrammeApplicationOut,
    summary="Decline a programme application",
    operation_id="decline_programme_application",
    responses=problems(
        Unauthorized, Forbidden, UnknownProgrammeApplication, NotUnderReview, UnprocessableContent
    ),
)
async def decline_programme_application(
    programme_application_id: UUID, body: DeclineIn, principal: Runner, uow: UnitOfWorkDep
) -> ProgrammeApplicationOut:
    """Pass over an application under review, with a reason: awards follow the score, so a
    higher-scored application is declined before a lower one may be awarded."""
    async with uow:
        return await service.decline(
            uow,
            programme_application_id=programme_application_id,
            reason=body.reason,
            principal=principal,
        )
