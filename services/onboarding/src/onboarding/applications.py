"""Applications: submission, the pipeline's moves, the investment committee."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal, Role
from kumiai.contracts.onboarding import (
    ApplicationDecided,
    ApplicationOutcome,
    ApplicationSubmitted,
    Referrer,
)
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.pagination import Page, keyset_page
from onboarding import audit
from onboarding.db.models import Application, CommitteeVote, Msme, StepRecord
from onboarding.documents import current_statuses
from onboarding.domain.documents import missing_documents
from onboarding.domain.identifiers import InvalidIdentifier, validate_municipality_code
from onboarding.domain.pipeline import (
    Guards,
    IllegalTransition,
    InvalidDecision,
    Outcome,
    Step,
    Vote,
    allowed_moves,
    check_move,
    committee_outcome,
    first_step,
    overdue_since,
)
from onboarding.msmes import readable_msme
from onboarding.schemas import (
    ApplicationIn,
    ApplicationOut,
    DecisionIn,
    StepOut,
    TransitionIn,
    VoteOut,
)


class MoveRefused(Conflict):
    problem = "illegal-transition"
    title = "The application cannot move there from its current step"


class DecisionRefused(UnprocessableContent):
    problem = "decision-invalid"
    title = "The committee's decision cannot be recorded"


def move_refused(exc: IllegalTransition) -> MoveRefused:
    return MoveRefused(
        str(exc),
        current=exc.current.value,
        allowed=[s.value for s in exc.allowed],
    )


def application_out(
    application: Application,
    *,
    statuses: Mapping[str, Any],
    targets: Mapping[Step, int],
    now: datetime,
    history: Sequence[StepRecord] | None = None,
    votes: Sequence[CommitteeVote] | None = None,
) -> ApplicationOut:
    step = Step(application.step)
    late = overdue_since(step, application.step_entered_at, now, targets)
    return ApplicationOut(
        id=application.id,
        msme_id=application.msme_id,
        purpose=application.purpose,
        amount_sought=application.amount_sought,
        currency=application.currency,
        use_of_funds=application.use_of_funds,
        business_plan_summary=application.business_plan_summary,
        municipality_code=application.municipality_code,
        referred_by=application.referred_by,
        referrer_id=application.referrer_id,
        step=step,
        step_entered_at=application.step_entered_at,
        target_days=None if step.terminal else targets.get(step),
        overdue_days=None if late is None else late.days,
        allowed_moves=allowed_moves(step),
        missing_documents=missing_documents(statuses),
        created_at=application.created_at,
        history=None
        if history is None
        else [
            StepOut(
                from_step=None if r.from_step is None else Step(r.from_step),
                to_step=Step(r.to_step),
                actor=r.actor,
                actor_role=r.actor_role,
                note=r.note,
                at=r.at,
            )
            for r in history
        ],
        committee_votes=None
        if votes is None
        else [VoteOut(member=v.member, vote=Vote(v.vote), reason=v.reason, at=v.at) for v in votes],
    )


def _referral(
    msme: Msme, body: ApplicationIn, principal: Principal
) -> tuple[str | None, str | None]:
    if principal.role is Role.BANK:
        return Referrer.BANK.value, principal.tenant
    if body.introduced_by_municipality:
        if principal.role is not Role.STAFF:
            raise Forbidden("only staff record a municipality's introduction")
        return Referrer.MUNICIPALITY.value, body.municipality_code
    if msme.referred_by_bank is not None:
        return Referrer.BANK.value, msme.referred_by_bank
    return None, None


async def submit(
    uow: UnitOfWork,
    *,
    msme_id: UUID,
    body: ApplicationIn,
    principal: Principal,
    targets: Mapping[Step, int],
) -> ApplicationOut:
    """A business applies (itself, through staff, or through the bank that referred it)."""
    msme = await readable_msme(uow, msme_id, principal)
    try:
        validate_municipality_code(body.municipality_code)
    except InvalidIdentifier as exc:
        raise UnprocessableContent(
            str(exc), invalid_params=[{"name": "body.municipality_code", "reason": str(exc)}]
        ) from exc
    referred_by, referrer_id = _referral(msme, body, principal)
    step = first_step(referred=referred_by is not None)
    now = datetime.now(UTC)
    application = Application(
        id=uuid.uuid4(),
        msme_id=msme.id,
        purpose=body.purpose,
        amount_sought=body.amount_sought,
        currency=body.currency,
        use_of_funds=body.use_of_funds,
        business_plan_summary=body.business_plan_summary,
        municipality_code=body.municipality_code,
        referred_by=referred_by,
        referrer_id=referrer_id,
        step=step.value,
        step_entered_at=now,
        created_by=principal.subject,
    )
    session = uow.session
    session.add(application)
    note = "submitted" + (f"; introduced by {referred_by} {referrer_id}" if referred_by else "")
    session.add(_record(application.id, None, step, principal, note))
    await session.flush()
    await session.refresh(application)
    await audit.record(
        uow, principal, "application.submitted", "application", application.id, step=step.value
    )
    await uow.emit(
        ApplicationSubmitted(
            application_id=application.id,
            msme_id=msme.id,
            municipality_code=application.municipality_code,
            amount_sought=application.amount_sought,
            currency=application.currency,
            referred_by=None if referred_by is None else Referrer(referred_by),
            referrer_id=referrer_id,
            submitted_at=now,
        ),
        subject=str(application.id),
    )
    return application_out(application, statuses={}, targets=targets, now=now)


def _record(
    application_id: UUID, from_step: Step | None, to_step: Step, principal: Principal, note: str
) -> StepRecord:
    return StepRecord(
        application_id=application_id,
        from_step=None if from_step is None else from_step.value,
        to_step=to_step.value,
        actor=principal.subject,
        actor_role=principal.role.value,
        note=note,
    )


def may_read(principal: Principal, application: Application, msme: Msme) -> bool:
    """Staff; the business itself; the bank that introduced it."""
    match principal.role:
        case Role.STAFF:
            return True
        case Role.MSME:
            return principal.tenant == str(application.msme_id)
        case Role.BANK:
            return principal.tenant in (
                msme.referred_by_bank,
                application.referrer_id if application.referred_by == "bank" else None,
            )
        case _:
            return False


async def readable_application(
    uow: UnitOfWork, application_id: UUID, principal: Principal, *, lock: bool = False
) -> Application:
    application = await uow.session.get(Application, application_id, with_for_update=lock)
    if application is None:
        raise NotFound(f"no application {application_id}")
    msme = await uow.session.get(Msme, application.msme_id)
    assert msme is not None
    if not may_read(principal, application, msme):
        raise NotFound(f"no application {application_id}")
    return application


async def get(
    uow: UnitOfWork, *, application_id: UUID, principal: Principal, targets: Mapping[Step, int]
) -> ApplicationOut:
    """One application with its history and the committee's votes."""
    application = await readable_application(uow, application_id, principal)
    session = uow.session
    history = (
        await session.scalars(
            select(StepRecord)
            .where(StepRecord.application_id == application_id)
            .order_by(StepRecord.id)
        )
    ).all()
    votes = (
        await session.scalars(
            select(CommitteeVote)
            .where(CommitteeVote.application_id == application_id)
            .order_by(CommitteeVote.id)
        )
    ).all()
    statuses = (await current_statuses(session, [application_id])).get(application_id, {})
    return application_out(
        application,
        statuses=statuses,
        targets=targets,
        now=datetime.now(UTC),
        history=history,
        votes=votes,
    )


def _target_days(targets: Mapping[Step, int]) -> ColumnElement[Any]:
    return case(
        *((Application.step == step.value, literal(days)) for step, days in targets.items()),
        else_=None,
    )


async def list_applications(
    uow: UnitOfWork,
    *,
    principal: Principal,
    step: Step | None,
    municipality_code: str | None,
    referring_bank: str | None,
    msme_id: UUID | None,
    overdue: bool,
    cursor: str | None,
    limit: int,
    targets: Mapping[Step, int],
) -> Page[ApplicationOut]:
    """Applications oldest first; a bank sees those it introduced, a business its own."""
    query = select(Application)
    match principal.role:
        case Role.STAFF:
            pass
        case Role.BANK:
            if referring_bank not in (None, principal.tenant):
                raise Forbidden("a bank sees only the applications it introduced")
            referring_bank = principal.tenant
        case Role.MSME:
            if not _is_uuid(principal.tenant):
                raise Forbidden("a business's token must carry its id as tenant")
            msme_id = UUID(principal.tenant)
        case _:
            raise Forbidden("this role does not list applications")
    if step is not None:
        query = query.where(Application.step == step.value)
    if municipality_code is not None:
        query = query.where(Application.municipality_code == municipality_code)
    if referring_bank is not None:
        query = query.where(
            Application.referred_by == Referrer.BANK.value,
            Application.referrer_id == referring_bank,
        )
    if msme_id is not None:
        query = query.where(Application.msme_id == msme_id)
    now = datetime.now(UTC)
    if overdue:
        days = _target_days(targets)
        query = query.where(
            days.is_not(None),
            Application.step_entered_at + func.make_interval(0, 0, 0, cast(days, Integer)) < now,
        )
    page = await keyset_page(uow.session, query, Application, cursor, limit, lambda a: a)
    statuses = await current_statuses(uow.session, [a.id for a in page.items])
    return Page[ApplicationOut](
        items=[
            application_out(a, statuses=statuses.get(a.id, {}), targets=targets, now=now)
            for a in page.items
        ],
        next_cursor=page.next_cursor,
    )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


async def _guards(session: AsyncSession, application_id: UUID) -> Guards:
    statuses = (await current_statuses(session, [application_id])).get(application_id, {})
    return Guards(documents_complete=not missing_documents(statuses))


async def move(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    body: TransitionIn,
    principal: Principal,
    targets: Mapping[Step, int],
) -> ApplicationOut:
    """Staff move an application on (or reject it); a business may withdraw its own."""
    application = await readable_application(uow, application_id, principal, lock=True)
    if principal.role is Role.MSME and body.to is not Step.WITHDRAWN:
        raise Forbidden("a business may only withdraw its application")
    if principal.role not in (Role.STAFF, Role.MSME):
        raise Forbidden("only staff move applications")
    current = Step(application.step)
    try:
        check_move(current, body.to, await _guards(uow.session, application_id))
    except IllegalTransition as exc:
        raise move_refused(exc) from exc
    await _enter(uow, application, current, body.to, principal, body.note)
    if body.to in (Step.WITHDRAWN, Step.REJECTED):
        outcome = (
            ApplicationOutcome.WITHDRAWN
            if body.to is Step.WITHDRAWN
            else ApplicationOutcome.REJECTED
        )
        await _decided(uow, application, outcome, current)
    return await get(uow, application_id=application_id, principal=principal, targets=targets)


async def _enter(
    uow: UnitOfWork,
    application: Application,
    current: Step,
    to: Step,
    principal: Principal,
    note: str,
) -> None:
    application.step = to.value
    application.step_entered_at = datetime.now(UTC)
    uow.session.add(_record(application.id, current, to, principal, note))
    await audit.record(
        uow,
        principal,
        "application.moved",
        "application",
        application.id,
        from_step=current.value,
        to_step=to.value,
    )
    await uow.session.flush()


async def _decided(
    uow: UnitOfWork, application: Application, outcome: ApplicationOutcome, at: Step
) -> None:
    await uow.emit(
        ApplicationDecided(
            application_id=application.id,
            msme_id=application.msme_id,
            municipality_code=application.municipality_code,
            outcome=outcome,
            at_step=at.value,
            decided_at=datetime.now(UTC),
        ),
        subject=str(application.id),
    )


async def decide(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    body: DecisionIn,
    principal: Principal,
    quorum: int,
    targets: Mapping[Step, int],
) -> ApplicationOut:
    """Record the investment committee's votes; the outcome moves the application on or ends it."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff record the committee's decision")
    application = await readable_application(uow, application_id, principal, lock=True)
    current = Step(application.step)
    if current is not Step.COMMITTEE_DECISION:
        raise MoveRefused(
            f"the application is at {current.value}, not at the committee",
            current=current.value,
            allowed=[s.value for s in allowed_moves(current)],
        )
    members = [v.member for v in body.votes]
    if len(set(members)) != len(members):
        raise DecisionRefused("each member votes once")
    try:
        outcome = committee_outcome([v.vote for v in body.votes], quorum=quorum)
    except InvalidDecision as exc:
        raise DecisionRefused(str(exc)) from exc
    for vote in body.votes:
        uow.session.add(
            CommitteeVote(
                application_id=application.id,
                member=vote.member,
                vote=vote.vote.value,
                reason=vote.reason,
                recorded_by=principal.subject,
            )
        )
    to = Step.OFFERING_PREPARATION if outcome is Outcome.APPROVED else Step.REJECTED
    tally = {v.value: sum(x.vote is v for x in body.votes) for v in Vote}
    await _enter(
        uow, application, current, to, principal, f"committee {outcome.value}: {body.note}"
    )
    await audit.record(
        uow,
        principal,
        "application.decided",
        "application",
        application.id,
        outcome=outcome.value,
        **tally,
    )
    await _decided(uow, application, ApplicationOutcome(outcome.value), current)
    return await get(uow, application_id=application_id, principal=principal, targets=targets)
