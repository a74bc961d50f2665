"""The due-diligence and screening pipeline of an application (pure).

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


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


class IllegalTransition(ValueError):
    """The move is not allowed from the current step; ``allowed`` lists what is."""

    def __init__(self, current: Step, wanted: Step, allowed: Sequence[Step], why: str) -> None:
        super().__init__(f"{current.value} -> {wanted.value}: {why}")
        self.current = current
        self.wanted = wanted
        self.allowed = list(allowed)


def first_step(*, referred: bool) -> Step:
    """Where a new application starts: a referral counts as the partner introduction."""
    return Step.INITIAL_MEETING if referred else Step.SUBMITTED


def next_step(current: Step) -> Step | None:
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
    """Refuse ``current -> wanted`` unless it is a legal move whose conditions hold."""
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


def overdue_since(
    step: Step, entered_at: datetime, now: datetime, targets: Mapping[Step, int]
) -> timedelta | None:
    """How long past its target the application has been in ``step``; ``None`` if not late."""
    days = targets.get(step)
    if days is None or step.terminal or step is Step.READY:
        return None
    late = now - (entered_at + timedelta(days=days))
    return late if late > timedelta(0) else None


class Vote(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ABSTAIN = "abstain"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class InvalidDecision(ValueError):
    pass


def committee_outcome(votes: Sequence[Vote], *, quorum: int) -> Outcome:
    """The committee approves with a quorum and more approvals than rejections."""
    if len(votes) < quorum:
        raise InvalidDecision(f"{len(votes)} vote(s) recorded; the quorum is {quorum}")
    approvals = sum(v is Vote.APPROVE for v in votes)
    rejections = sum(v is Vote.REJECT for v in votes)
    return Outcome.APPROVED if approvals > rejections else Outcome.REJECTED
