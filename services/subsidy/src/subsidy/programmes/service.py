"""Programmes: created by staff or their municipality, read by businesses that apply, and
their application window closed early by their owner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal
from subsidy.db.models import Programme
from subsidy.programmes import rules, store
from subsidy.programmes.rules import Criterion
from subsidy.programmes.schemas import CriterionOut, ProgrammeIn, ProgrammeOut


def criteria_of(programme: Programme) -> tuple[Criterion, ...]:
    """The programme's scoring criteria, in its order."""
    return tuple(
        Criterion(key=c["key"], title=c["title"], weight=c["weight"]) for c in programme.criteria
    )


def programme_out(programme: Programme, *, now: datetime | None = None) -> ProgrammeOut:
    now = now or datetime.now(UTC)
    return ProgrammeOut(
        id=programme.id,
        municipality_code=programme.municipality_code,
        name=programme.name,
        fiscal_year=programme.fiscal_year,
        budget=programme.budget,
        max_awards=programme.max_awards,
        coverage_ppm=programme.coverage_ppm,
        cap_per_award=programme.cap_per_award,
        applications_open_at=programme.applications_open_at,
        applications_close_at=programme.applications_close_at,
        taking_applications=rules.takes_applications(
            programme.applications_open_at, programme.applications_close_at, now
        ),
        criteria=[CriterionOut(**c) for c in programme.criteria],
        pass_mark=programme.pass_mark,
        reviewers_required=programme.reviewers_required,
        lapses_if_fund_fails=programme.lapses_if_fund_fails,
        reserved=programme.reserved,
        budget_left=rules.left(programme.budget, programme.reserved),
        awards_count=programme.awards_count,
        awards_left=rules.left(programme.max_awards, programme.awards_count),
        created_by=programme.created_by,
        created_at=programme.created_at,
    )


async def create(uow: UnitOfWork, *, body: ProgrammeIn, principal: Principal) -> ProgrammeOut:
    """A new programme of the caller's municipality (staff: of any), for the fiscal year
    stated or the one in which applications open."""
    rules.check_creator(principal, body.municipality_code)
    criteria = [Criterion(key=c.key, title=c.title, weight=c.weight) for c in body.criteria]
    rules.check_terms(
        budget=body.budget,
        cap_per_award=body.cap_per_award,
        applications_open_at=body.applications_open_at,
        applications_close_at=body.applications_close_at,
        criteria=criteria,
    )
    row = Programme(
        id=uuid.uuid4(),
        municipality_code=body.municipality_code,
        name=body.name,
        fiscal_year=rules.fiscal_year_of(body.fiscal_year, body.applications_open_at),
        currency=body.currency,
        budget=body.budget,
        max_awards=body.max_awards,
        coverage_ppm=body.coverage_ppm,
        cap_per_award=body.cap_per_award,
        applications_open_at=body.applications_open_at,
        applications_close_at=body.applications_close_at,
        criteria=[{"key": c.key, "title": c.title, "weight": c.weight} for c in criteria],
        pass_mark=body.pass_mark,
        reviewers_required=body.reviewers_required,
        lapses_if_fund_fails=body.lapses_if_fund_fails,
        created_by=principal.subject,
    )
    store.add(uow.session, row)
    await uow.session.flush()
    await uow.session.refresh(row)
    return programme_out(row)


async def get(uow: UnitOfWork, *, programme_id: UUID, principal: Principal) -> ProgrammeOut:
    """One programme: for staff, businesses, and the municipality it belongs to."""
    return programme_out(await store.readable_programme(uow.session, programme_id, principal))


async def list_programmes(
    uow: UnitOfWork,
    *,
    principal: Principal,
    fiscal_year: int | None,
    municipality_code: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ProgrammeOut]:
    """Programmes, oldest first: a municipality's own; every one for staff and businesses."""
    now = datetime.now(UTC)
    return await store.page(
        uow.session,
        fiscal_year=fiscal_year,
        municipality_code=rules.listed_municipality(principal, municipality_code),
        cursor=cursor,
        limit=limit,
        item=lambda row: programme_out(row, now=now),
    )


async def close_applications(
    uow: UnitOfWork, *, programme_id: UUID, principal: Principal
) -> ProgrammeOut:
    """End the application window now, so that selection may begin (its owner or staff)."""
    row = await store.managed_programme(uow.session, programme_id, principal, lock=True)
    now = datetime.now(UTC)
    row.applications_close_at = rules.closing_now(
        row.applications_open_at, row.applications_close_at, now
    )
    return programme_out(row, now=now)


async def readable(uow: UnitOfWork, *, programme_id: UUID, principal: Principal) -> Programme:
    """The programme if the caller may see it; 404 naming its id otherwise."""
    return await store.readable_programme(uow.session, programme_id, principal)


async def managed(uow: UnitOfWork, *, programme_id: UUID, principal: Principal) -> Programme:
    """The programme if the caller runs it (staff or its municipality); 404 otherwise."""
    return await store.managed_programme(uow.session, programme_id, principal)


async def programme_of(uow: UnitOfWork, programme_id: UUID) -> Programme:
    """The programme an application or award belongs to, as the database has it now."""
    return await store.programme(uow.session, programme_id)
