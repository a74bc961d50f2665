"""Applications in the database: their moves and votes, and what a caller may read."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.contracts.onboarding import Referrer
from kumiai.pagination import Page, keyset_page
from kumiai.problems import NotFound
from onboarding.applications import rules
from onboarding.applications.rules import Step
from onboarding.db.models import Application, CommitteeVote, Msme, StepRecord

T = TypeVar("T")


async def readable_application(
    session: AsyncSession, application_id: UUID, principal: Principal, *, lock: bool = False
) -> Application:
    """The application, if ``principal`` may read it (``rules.may_read``); 404 naming only its id.

    ``lock`` takes its row for the change that follows (moves are made one at a time).
    """
    application = await session.get(Application, application_id, with_for_update=lock)
    if application is None:
        raise NotFound(f"no application {application_id}")
    msme = await session.get(Msme, application.msme_id)
    assert msme is not None
    if not rules.may_read(principal, application, msme):
        raise NotFound(f"no application {application_id}")
    return application


async def application(session: AsyncSession, application_id: UUID) -> Application:
    """The application itself, for a caller that has made its own access decision."""
    found = await session.get(Application, application_id)
    if found is None:
        raise NotFound(f"no application {application_id}")
    return found


def add(session: AsyncSession, *rows: Application | StepRecord | CommitteeVote) -> None:
    """Add new rows in the caller's transaction (steps and votes are append-only)."""
    session.add_all(rows)


async def history(session: AsyncSession, application_id: UUID) -> Sequence[StepRecord]:
    """Every move of the application, in order."""
    return (
        await session.scalars(
            select(StepRecord)
            .where(StepRecord.application_id == application_id)
            .order_by(StepRecord.id)
        )
    ).all()


async def votes(session: AsyncSession, application_id: UUID) -> Sequence[CommitteeVote]:
    """The committee's votes on the application, in the order recorded."""
    return (
        await session.scalars(
            select(CommitteeVote)
            .where(CommitteeVote.application_id == application_id)
            .order_by(CommitteeVote.id)
        )
    ).all()


def _target_days(targets: Mapping[Step, int]) -> ColumnElement[Any]:
    return case(
        *((Application.step == step.value, literal(days)) for step, days in targets.items()),
        else_=None,
    )


async def readable_applications(
    session: AsyncSession,
    *,
    principal: Principal,
    step: Step | None,
    municipality_code: str | None,
    referring_bank: str | None,
    msme_id: UUID | None,
    overdue: bool,
    targets: Mapping[Step, int],
    now: datetime,
    cursor: str | None,
    limit: int,
    item: Callable[[Application], T],
) -> Page[T]:
    """One page of the applications ``principal`` may list (``rules.listing``), oldest first."""
    scope = rules.listing(principal, referring_bank=referring_bank, msme_id=msme_id)
    query = select(Application)
    if step is not None:
        query = query.where(Application.step == step.value)
    if municipality_code is not None:
        query = query.where(Application.municipality_code == municipality_code)
    if scope.referring_bank is not None:
        query = query.where(
            Application.referred_by == Referrer.BANK.value,
            Application.referrer_id == scope.referring_bank,
        )
    if scope.msme_id is not None:
        query = query.where(Application.msme_id == scope.msme_id)
    if overdue:
        # rules.overdue_since, asked of every row: past the target days of its step.
        days = _target_days(targets)
        query = query.where(
            days.is_not(None),
            Application.step_entered_at + func.make_interval(0, 0, 0, cast(days, Integer)) < now,
        )
    return await keyset_page(session, query, Application, cursor, limit, item)
