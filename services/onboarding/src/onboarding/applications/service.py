"""Applications: submission, the pipeline's moves, the investment committee."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from uuid import UUID

from kumiai.auth import Principal
from kumiai.contracts.onboarding import ApplicationDecided, ApplicationOutcome, ApplicationSubmitted
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from onboarding.applications import rules, store
from onboarding.applications.rules import Guards, Step, Vote
from onboarding.applications.schemas import (
    ApplicationIn,
    ApplicationOut,
    DecisionIn,
    StepOut,
    TransitionIn,
    VoteOut,
)
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.db.models import Application, CommitteeVote, StepRecord
from onboarding.documents import service as documents
from onboarding.documents.rules import DocumentStatus, missing_documents
from onboarding.msmes import service as msmes


def application_out(
    application: Application,
    *,
    statuses: Mapping[str, DocumentStatus],
    targets: Mapping[Step, int],
    now: datetime,
    history: Sequence[StepRecord] | None = None,
    votes: Sequence[CommitteeVote] | None = None,
) -> ApplicationOut:
    """The application as answered: its step, what is late or missing, the moves allowed."""
    step = Step(application.step)
    late = rules.overdue_since(step, application.step_entered_at, now, targets)
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
        target_days=rules.target_days(step, targets),
        overdue_days=None if late is None else late.days,
        allowed_moves=rules.allowed_moves(step),
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


async def submit(
    uow: UnitOfWork,
    *,
    msme_id: UUID,
    body: ApplicationIn,
    principal: Principal,
    targets: Mapping[Step, int],
) -> ApplicationOut:
    """A business applies (itself, through staff, or through the bank that referred it)."""
    msme = await msmes.readable(uow, msme_id=msme_id, principal=principal)
    rules.check_municipality(body.municipality_code)
    referred_by, referrer_id = rules.referral(
        principal,
        introduced_by_municipality=body.introduced_by_municipality,
        municipality_code=body.municipality_code,
        msme_referred_by_bank=msme.referred_by_bank,
    )
    step = rules.first_step(referred=referred_by is not None)
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
        referred_by=None if referred_by is None else referred_by.value,
        referrer_id=referrer_id,
        step=step.value,
        step_entered_at=now,
        created_by=principal.subject,
    )
    note = "submitted" + (f"; introduced by {referred_by} {referrer_id}" if referred_by else "")
    session = uow.session
    store.add(session, application, _record(application.id, None, step, principal, note))
    await session.flush()
    await session.refresh(application)
    await audit.record(
        uow,
        principal=principal,
        action="application.submitted",
        entity=AuditEntity.APPLICATION,
        entity_id=application.id,
        step=step.value,
    )
    await uow.emit(
        ApplicationSubmitted(
            application_id=application.id,
            msme_id=msme.id,
            municipality_code=application.municipality_code,
            amount_sought=application.amount_sought,
            currency=application.currency,
            referred_by=referred_by,
            referrer_id=referrer_id,
            submitted_at=now,
        ),
        subject=str(application.id),
    )
    return application_out(application, statuses={}, targets=targets, now=now)


async def readable(
    uow: UnitOfWork, *, application_id: UUID, principal: Principal, lock: bool = False
) -> Application:
    """The application, if ``principal`` may read it; 404 otherwise (``lock``: to change it)."""
    return await store.readable_application(uow.session, application_id, principal, lock=lock)


async def municipality_of(uow: UnitOfWork, *, application_id: UUID) -> str:
    """The municipality an application's project belongs to (announced with its fund)."""
    return (await store.application(uow.session, application_id)).municipality_code


async def get(
    uow: UnitOfWork, *, application_id: UUID, principal: Principal, targets: Mapping[Step, int]
) -> ApplicationOut:
    """One application with its history and the committee's votes."""
    application = await readable(uow, application_id=application_id, principal=principal)
    session = uow.session
    history = await store.history(session, application_id)
    votes = await store.votes(session, application_id)
    statuses = await documents.current_statuses(uow, application_ids=[application_id])
    return application_out(
        application,
        statuses=statuses.get(application_id, {}),
        targets=targets,
        now=datetime.now(UTC),
        history=history,
        votes=votes,
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
    now = datetime.now(UTC)
    page = await store.readable_applications(
        uow.session,
        principal=principal,
        step=step,
        municipality_code=municipality_code,
        referring_bank=referring_bank,
        msme_id=msme_id,
        overdue=overdue,
        targets=targets,
        now=now,
        cursor=cursor,
        limit=limit,
        item=lambda a: a,
    )
    statuses = await documents.current_statuses(uow, application_ids=[a.id for a in page.items])
    return Page[ApplicationOut](
        items=[
            application_out(a, statuses=statuses.get(a.id, {}), targets=targets, now=now)
            for a in page.items
        ],
        next_cursor=page.next_cursor,
    )


async def move(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    body: TransitionIn,
    principal: Principal,
    targets: Mapping[Step, int],
) -> ApplicationOut:
    """Staff move an application on (or reject it); a business may withdraw its own."""
    application = await readable(uow, application_id=application_id, principal=principal, lock=True)
    rules.check_mover(principal, body.to)
    current = Step(application.step)
    guards = Guards(documents_complete=await documents.complete(uow, application_id=application_id))
    rules.check_move(current, body.to, guards)
    await _enter(uow, application, current, body.to, principal, body.note)
    outcome = rules.ending(body.to)
    if outcome is not None:
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
    store.add(uow.session, _record(application.id, current, to, principal, note))
    await audit.record(
        uow,
        principal=principal,
        action="application.moved",
        entity=AuditEntity.APPLICATION,
        entity_id=application.id,
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
    rules.check_committee_recorder(principal)
    application = await readable(uow, application_id=application_id, principal=principal, lock=True)
    current = Step(application.step)
    rules.check_at_committee(current)
    rules.check_one_vote_each([v.member for v in body.votes])
    votes = [v.vote for v in body.votes]
    outcome = rules.committee_outcome(votes, quorum=quorum)
    store.add(
        uow.session,
        *(
            CommitteeVote(
                application_id=application.id,
                member=vote.member,
                vote=vote.vote.value,
                reason=vote.reason,
                recorded_by=principal.subject,
            )
            for vote in body.votes
        ),
    )
    to = rules.step_after_committee(outcome)
    await _enter(
        uow, application, current, to, principal, f"committee {outcome.value}: {body.note}"
    )
    await audit.record(
        uow,
        principal=principal,
        action="application.decided",
        entity=AuditEntity.APPLICATION,
        entity_id=application.id,
        outcome=outcome.value,
        **rules.tally(votes),
    )
    await _decided(uow, application, ApplicationOutcome(outcome.value), current)
    return await get(uow, application_id=application_id, principal=principal, targets=targets)
