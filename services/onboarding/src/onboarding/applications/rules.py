"""The rules of an application (pure): the due-diligence and screening pipeline, the committee.

One ordered list of steps mixes the operator's due diligence (DOMAIN.md,
about 14 weeks) with the "empathy" screening gates. The state is the step in
progress; completing it moves the application to the next one:

    submitted              partner introduction (skipped when a bank or a
                           municipality referred the business)
    initial_meeting        initial meeting, first screening
    staff_judgement        judgement by platform staff
    onsite_interview       on-site interview
    project_meeting        project meeting
    agreement_and_documents  service agreement signed, every document accepted
    committee_decision     investment committee (approve or reject, with votes)
    offering_preparation   contract, offering document, web page
    msme_confirmation      the business confirms; first "fund news"
    ready                  the fund may be published

``withdrawn`` (by the business or staff) and ``rejected`` (at any step) end it.
Every move is a row of ``application_steps`` and every vote one of
``committee_votes``; the database keeps both append-only (``append_only_v1``,
migration ``2026_11_22_pipeline.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from kumiai.contracts.onboarding import ApplicationOutcome, Referrer
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent
from onboarding.msmes.rules import InvalidIdentifier, validate_municipality_code

# -- the pipeline ------------------------------------------------------------------------
# Step and Vote are published in the OpenAPI document as they are: a docstring on them
# would change it.


class Step(StrEnum):
    SUBMITTED = "submitted"
    INITIAL_MEETING = "initial_meeting"
    STAFF_JUDGEMENT = "staff_judgement"
    ONSITE_INTERVIEW = "onsite_interview"
    PROJECT_MEETING = "project_meeting"
    AGREEMENT_AND_DOCUMENTS = "agreement_and_documents"
    COMMITTEE_DECISION = "committee_decision"
    OFFERING_PREPARATION = "offering_preparation"
    MSME_CONFIRMATION = "msme_confirmation"
    READY = "ready"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"

    @property
    def terminal(self) -> bool:
        """Withdrawn or rejected: the application has ended."""
        return self in (Step.WITHDRAWN, Step.REJECTED)

    @property
    def approved(self) -> bool:
        """Past the investment committee: fund terms may be designed."""
        return self in (Step.OFFERING_PREPARATION, Step.MSME_CONFIRMATION, Step.READY)


ORDER: Sequence[Step] = (
    Step.SUBMITTED,
    Step.INITIAL_MEETING,
    Step.STAFF_JUDGEMENT,
    Step.ONSITE_INTERVIEW,
    Step.PROJECT_MEETING,
    Step.AGREEMENT_AND_DOCUMENTS,
    Step.COMMITTEE_DECISION,
    Step.OFFERING_PREPARATION,
    Step.MSME_CONFIRMATION,
    Step.READY,
)

# Target days in each step (DOMAIN.md; the screening gates a week each).
DEFAULT_TARGET_DAYS: Mapping[Step, int] = {
    Step.SUBMITTED: 7,
    Step.INITIAL_MEETING: 7,
    Step.STAFF_JUDGEMENT: 7,
    Step.ONSITE_INTERVIEW: 7,
    Step.PROJECT_MEETING: 7,
    Step.AGREEMENT_AND_DOCUMENTS: 28,
    Step.COMMITTEE_DECISION: 14,
    Step.OFFERING_PREPARATION: 21,
    Step.MSME_CONFIRMATION: 21,
}


class MoveRefused(Conflict):
    problem = "illegal-transition"
    title = "The application cannot move there from its current step"


class DecisionRefused(UnprocessableContent):
    problem = "decision-invalid"
    title = "The committee's decision cannot be recorded"


class IllegalTransition(MoveRefused):
    """The move is not allowed from the current step; ``allowed`` lists what is."""

    def __init__(self, current: Step, wanted: Step, allowed: Sequence[Step], why: str) -> None:
        super().__init__(
            f"{current.value} -> {wanted.value}: {why}",
            current=current.value,
            allowed=[s.value for s in allowed],
        )
        self.current = current
        self.wanted = wanted
        self.allowed = list(allowed)


def first_step(*, referred: bool) -> Step:
    """Where a new application starts: a referral counts as the partner introduction."""
    return Step.INITIAL_MEETING if referred else Step.SUBMITTED


def next_step(current: Step) -> Step | None:
    """The step that follows ``current`` in the pipeline; ``None`` at the end."""
    if current.terminal or current is Step.READY:
        return None
    return ORDER[ORDER.index(current) + 1]


def allowed_moves(current: Step) -> list[Step]:
    """Every step reachable from ``current`` in one move (by any actor)."""
    if current.terminal:
        return []
    moves = [s for s in (next_step(current),) if s is not None]
    if current is Step.COMMITTEE_DECISION:
        moves = [Step.OFFERING_PREPARATION]
    return [*moves, Step.WITHDRAWN, Step.REJECTED]


@dataclass(frozen=True)
class Guards:
    """Facts a move may depend on, gathered by the caller."""

    documents_complete: bool = False
    committee_approved: bool = False


def check_move(current: Step, wanted: Step, guards: Guards) -> None:
    """Refuse ``current -> wanted`` unless it is a legal move whose conditions hold.

    Nothing is skipped; leaving "agreement and documents" needs every required
    document accepted, and leaving the committee needs its approval.
    """
    allowed = allowed_moves(current)
    if wanted not in allowed:
        why = "the application is closed" if current.terminal else "not the next step"
        raise IllegalTransition(current, wanted, allowed, why)
    forward = wanted is next_step(current) or wanted is Step.OFFERING_PREPARATION
    if forward and current is Step.AGREEMENT_AND_DOCUMENTS and not guards.documents_complete:
        raise IllegalTransition(
            current, wanted, allowed, "every checklist document must be accepted first"
        )
    if forward and current is Step.COMMITTEE_DECISION and not guards.committee_approved:
        raise IllegalTransition(
            current, wanted, allowed, "the investment committee has not approved it"
        )


def check_mover(principal: Principal, wanted: Step) -> None:
    """Staff move an application on or reject it; a business may only withdraw its own."""
    if principal.role is Role.MSME and wanted is not Step.WITHDRAWN:
        raise Forbidden("a business may only withdraw its application")
    if principal.role not in (Role.STAFF, Role.MSME):
        raise Forbidden("only staff move applications")


def ending(to: Step) -> ApplicationOutcome | None:
    """The outcome announced when a move ends the application (withdrawn, rejected); else none."""
    if to is Step.WITHDRAWN:
        return ApplicationOutcome.WITHDRAWN
    if to is Step.REJECTED:
        return ApplicationOutcome.REJECTED
    return None


def target_days(step: Step, targets: Mapping[Step, int]) -> int | None:
    """The target duration of ``step`` in days; an ended application has none."""
    return None if step.terminal else targets.get(step)


def overdue_since(
    step: Step, entered_at: datetime, now: datetime, targets: Mapping[Step, int]
) -> timedelta | None:
    """How long past its target the application has been in ``step``; ``None`` if not late.

    The list of overdue applications asks the same in SQL
    (``onboarding.applications.store.readable_applications``).
    """
    days = targets.get(step)
    if days is None or step.terminal or step is Step.READY:
        return None
    late = now - (entered_at + timedelta(days=days))
    return late if late > timedelta(0) else None


# -- submission --------------------------------------------------------------------------


def check_municipality(municipality_code: str) -> None:
    """The project's municipality is a valid local government code (check digit included)."""
    try:
        validate_municipality_code(municipality_code)
    except InvalidIdentifier as exc:
        raise UnprocessableContent(
            str(exc), invalid_params=[{"name": "body.municipality_code", "reason": str(exc)}]
        ) from exc


def referral(
    principal: Principal,
    *,
    introduced_by_municipality: bool,
    municipality_code: str,
    msme_referred_by_bank: str | None,
) -> tuple[Referrer | None, str | None]:
    """Who introduced the application (kind and id), if anyone: the partner introduction.

    A bank submitting it, or the bank that referred the business, introduced it; staff
    alone record a municipality's introduction.
    """
    if principal.role is Role.BANK:
        return Referrer.BANK, principal.tenant
    if introduced_by_municipality:
        if principal.role is not Role.STAFF:
            raise Forbidden("only staff record a municipality's introduction")
        return Referrer.MUNICIPALITY, municipality_code
    if msme_referred_by_bank is not None:
        return Referrer.BANK, msme_referred_by_bank
    return None, None


# -- the investment committee ------------------------------------------------------------


class Vote(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


class Outcome(StrEnum):
    """What the investment committee decided."""

    APPROVED = "approved"
    REJECTED = "rejected"


class InvalidDecision(DecisionRefused):
    """The votes do not make a decision (too few, or a member voting twice)."""


def check_committee_recorder(principal: Principal) -> None:
    """Only staff record the investment committee's decision."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff record the committee's decision")


def check_at_committee(current: Step) -> None:
    """The committee decides only an application waiting for it."""
    if current is not Step.COMMITTEE_DECISION:
        raise MoveRefused(
            f"the application is at {current.value}, not at the committee",
            current=current.value,
            allowed=[s.value for s in allowed_moves(current)],
        )


def check_one_vote_each(members: Sequence[str]) -> None:
    """Each member of the committee votes once (``uq_committee_votes_member`` holds it too)."""
    if len(set(members)) != len(members):
        raise InvalidDecision("each member votes once")


def committee_outcome(votes: Sequence[Vote], *, quorum: int) -> Outcome:
    """The committee approves with a quorum and more approvals than rejections."""
    if len(votes) < quorum:
        raise InvalidDecision(f"{len(votes)} vote(s) recorded; the quorum is {quorum}")
    approvals = sum(v is Vote.APPROVE for v in votes)
    rejections = sum(v is Vote.REJECT for v in votes)
    return Outcome.APPROVED if approvals > rejections else Outcome.REJECTED


def step_after_committee(outcome: Outcome) -> Step:
    """An approval moves the application to the offering's preparation; a rejection ends it."""
    return Step.OFFERING_PREPARATION if outcome is Outcome.APPROVED else Step.REJECTED


def tally(votes: Sequence[Vote]) -> dict[str, int]:
    """How many members voted each way, every kind of vote named."""
    return {v.value: sum(x is v for x in votes) for v in Vote}


# -- who sees what -----------------------------------------------------------------------


class Introduced(Protocol):
    """What the access rules read of an application."""

    @property
    def msme_id(self) -> UUID: ...

    @property
    def referred_by(self) -> str | None: ...

    @property
    def referrer_id(self) -> str | None: ...


class ReferredBusiness(Protocol):
    """What the access rules read of the application's business."""

    @property
    def referred_by_bank(self) -> str | None: ...


def may_read(principal: Principal, application: Introduced, msme: ReferredBusiness) -> bool:
    """Staff; the business itself; the bank that referred the business or introduced it."""
    match principal.role:
        case Role.STAFF:
            return True
        case Role.MSME:
            return principal.tenant == str(application.msme_id)
        case Role.BANK:
            return principal.tenant in (
                msme.referred_by_bank,
                application.referrer_id if application.referred_by == Referrer.BANK else None,
            )
        case _:
            return False


@dataclass(frozen=True)
class Listing:
    """Which applications a list shows its caller (``None``: no restriction of that kind)."""

    referring_bank: str | None
    msme_id: UUID | None


def listing(principal: Principal, *, referring_bank: str | None, msme_id: UUID | None) -> Listing:
    """A bank lists the applications it introduced, a business its own; staff any.

    Refuses every other role, a bank asking for another bank's, and a business's token
    that does not carry its id.
    """
    match principal.role:
        case Role.STAFF:
            return Listing(referring_bank=referring_bank, msme_id=msme_id)
        case Role.BANK:
            if referring_bank not in (None, principal.tenant):
                raise Forbidden("a bank sees only the applications it introduced")
            return Listing(referring_bank=principal.tenant, msme_id=msme_id)
        case Role.MSME:
            try:
                own = UUID(principal.tenant)
            except ValueError:
                raise Forbidden("a business's token must carry its id as tenant") from None
            return Listing(referring_bank=referring_bank, msme_id=own)
        case _:
            raise Forbidden("this role does not list applications")
