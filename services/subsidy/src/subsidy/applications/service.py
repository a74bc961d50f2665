"""Applications to programmes: a business applies with its onboarding application,
reviewers score it, the programme's owner declines or (through awards) awards it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal
from subsidy.applications import rules, store
from subsidy.applications.rules import ApplicationStatus
from subsidy.applications.schemas import (
    ApplyIn,
    MarkOut,
    ProgrammeApplicationOut,
    ReviewIn,
    SheetOut,
)
from subsidy.db.models import Programme, ProgrammeApplication, ReviewSheet
from subsidy.facts import service as facts
from subsidy.programmes import rules as programme_rules
from subsidy.programmes import service as programmes


def sheet_out(sheet: ReviewSheet) -> SheetOut:
    return SheetOut(
        reviewer=sheet.reviewer,
        reviewer_role=sheet.reviewer_role,
        marks=[MarkOut(**mark) for mark in sheet.marks],
        comment=sheet.comment,
        reviewed_at=sheet.reviewed_at,
    )


def application_out(
    row: ProgrammeApplication, sheets: Sequence[ReviewSheet] | None
) -> ProgrammeApplicationOut:
    """The application as a caller sees it (``sheets`` None: without the reviewers' sheets)."""
    return ProgrammeApplicationOut(
        id=row.id,
        programme_id=row.programme_id,
        application_id=row.application_id,
        msme_id=row.msme_id,
        municipality_code=row.municipality_code,
        summary=row.summary,
        status=ApplicationStatus(row.status),
        score=rules.score_text(row.score_centi),
        score_centi=row.score_centi,
        reviewers=row.reviewers,
        passed=row.passed,
        applied_by=row.applied_by,
        applied_at=row.applied_at,
        decline_reason=row.decline_reason,
        declined_by=row.declined_by,
        declined_at=row.declined_at,
        sheets=None if sheets is None else [sheet_out(s) for s in sheets],
    )


async def _shown(
    uow: UnitOfWork, row: ProgrammeApplication, principal: Principal
) -> ProgrammeApplicationOut:
    if not rules.sees_sheets(principal):
        return application_out(row, None)
    sheets = await store.sheets_of(uow.session, [row.id])
    return application_out(row, sheets[row.id])


# -- applying ----------------------------------------------------------------------------


async def apply(
    uow: UnitOfWork, *, programme_id: UUID, body: ApplyIn, principal: Principal
) -> ProgrammeApplicationOut:
    """A business's application to a programme, while the programme takes applications, with
    an onboarding application of its own that names the programme's municipality."""
    programme = await programmes.readable(uow, programme_id=programme_id, principal=principal)
    programme_rules.check_taking_applications(
        programme.applications_open_at, programme.applications_close_at, datetime.now(UTC)
    )
    applicant = rules.check_applicant(
        await facts.onboarding_application(uow, body.application_id),
        application_id=body.application_id,
        principal=principal,
        programme_code=programme.municipality_code,
    )
    row = ProgrammeApplication(
        id=uuid.uuid4(),
        programme_id=programme.id,
        application_id=applicant.application_id,
        msme_id=applicant.msme_id,
        municipality_code=applicant.municipality_code,
        summary=body.summary,
        status=ApplicationStatus.APPLIED.value,
        reviewers=0,
        passed=False,
        applied_by=principal.subject,
    )
    if not await store.insert_once(uow.session, row):
        raise rules.AlreadyApplied(
            f"onboarding application {body.application_id} already applied to programme "
            f"{programme_id}"
        )
    await uow.session.refresh(row)
    return await _shown(uow, row, principal)


# -- reading -----------------------------------------------------------------------------


async def get(
    uow: UnitOfWork, *, programme_application_id: UUID, principal: Principal
) -> ProgrammeApplicationOut:
    """One application: for staff and the programme's municipality (with the reviewers'
    sheets), and for the applying business (without)."""
    row = await store.readable_application(uow.session, programme_application_id, principal)
    return await _shown(uow, row, principal)


async def list_for_programme(
    uow: UnitOfWork, *, programme_id: UUID, principal: Principal, cursor: str | None, limit: int
) -> Page[ProgrammeApplicationOut]:
    """The programme's applications, best score first and unscored last, with their sheets:
    for staff and the programme's municipality."""
    await programmes.managed(uow, programme_id=programme_id, principal=principal)
    return await store.programme_page(
        uow.session, programme_id, cursor=cursor, limit=limit, item=application_out
    )


# -- reviewing and declining ---------------------------------------------------------------


async def review(
    uow: UnitOfWork, *, programme_application_id: UUID, body: ReviewIn, principal: Principal
) -> ProgrammeApplicationOut:
    """The caller's review sheet (replacing their earlier one) while the application is
    under review; the application's score and whether it passed follow every sheet."""
    row = await store.managed_application(
        uow.session, programme_application_id, principal, lock=True
    )
    rules.check_reviewable(ApplicationStatus(row.status))
    programme = await programmes.programme_of(uow, row.programme_id)
    criteria = programmes.criteria_of(programme)
    rules.check_marks(criteria, [m.criterion for m in body.marks])
    given = {m.criterion: m for m in body.marks}
    await store.put_sheet(
        uow.session,
        application_id=row.id,
        reviewer=principal.subject,
        reviewer_role=principal.role.value,
        marks=[
            {"criterion": c.key, "mark": given[c.key].mark, "comment": given[c.key].comment}
            for c in criteria
        ],
        comment=body.comment,
        at=datetime.now(UTC),
    )
    sheets = (await store.sheets_of(uow.session, [row.id]))[row.id]
    _score(row, programme, sheets)
    return application_out(row, sheets)


def _score(row: ProgrammeApplication, programme: Programme, sheets: Sequence[ReviewSheet]) -> None:
    criteria = programmes.criteria_of(programme)
    row.score_centi = rules.score_centi(
        criteria, [{m["criterion"]: m["mark"] for m in s.marks} for s in sheets]
    )
    row.reviewers = len(sheets)
    row.passed = rules.has_passed(
        row.score_centi,
        reviewers=row.reviewers,
        reviewers_required=programme.reviewers_required,
        pass_mark=programme.pass_mark,
    )


async def decline(
    uow: UnitOfWork, *, programme_application_id: UUID, reason: str, principal: Principal
) -> ProgrammeApplicationOut:
    """Pass over an application under review, with a reason (so that lower scores may be
    awarded)."""
    row = await store.managed_application(
        uow.session, programme_application_id, principal, lock=True
    )
    rules.check_declinable(ApplicationStatus(row.status))
    row.status = ApplicationStatus.DECLINED.value
    row.decline_reason = reason
    row.declined_by = principal.subject
    row.declined_at = datetime.now(UTC)
    return await _shown(uow, row, principal)


# -- for awards --------------------------------------------------------------------------


async def locked_for_award(
    uow: UnitOfWork, *, programme_application_id: UUID, principal: Principal
) -> ProgrammeApplication:
    """The application the caller may award (staff or its programme's municipality),
    locked until the award is written; 404 naming its id otherwise."""
    return await store.managed_application(
        uow.session, programme_application_id, principal, lock=True
    )


async def contenders(
    uow: UnitOfWork, *, programme_id: UUID, besides: UUID
) -> list[tuple[UUID, int]]:
    """(id, score) of the programme's other passed applications still under review."""
    return await store.contenders(uow.session, programme_id, besides=besides)


def mark_awarded(row: ProgrammeApplication) -> None:
    """The application received its award."""
    row.status = ApplicationStatus.AWARDED.value


async def of_programme(uow: UnitOfWork, programme_id: UUID) -> list[ProgrammeApplication]:
    """Every application of the programme, best score first, unscored last."""
    return await store.of_programme(uow.session, programme_id)
