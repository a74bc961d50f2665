"""The rules of applications to a programme and their review (pure).

A business applies to a programme with its onboarding application (known from
onboarding's events), which must name the programme's municipality, or a municipality of
the programme's prefecture. One application per onboarding application and programme.
Reviewers (staff and the municipality's officers) each fill in one sheet: a mark of 0 to
100 (percent of the criterion's weight) for every criterion, with comments. The score is
the weighted mean of the reviewers' mean marks, in hundredths of a point, rounded down;
an application passes once enough reviewers scored it and the score reaches the pass
mark. The owner may decline an application (with a reason) to pass over it.

The database holds some of these too (``subsidy.db.models.ProgrammeApplication``):
``uq_programme_applications_once`` (one application per onboarding application and
programme), ``ck_programme_applications_status_known`` and
``ck_programme_applications_score_in_range``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from uuid import UUID

from kumiai.local_government import covers
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, NotFound, UnprocessableContent
from subsidy.facts.rules import ENDED, OnboardingApplication
from subsidy.programmes.rules import WEIGHTS_TOTAL, Criterion

MARK_MAX = 100
"""A mark is a percentage of the criterion's weight: 0 to 100."""

SCORE_MAX = WEIGHTS_TOTAL * MARK_MAX
"""The best score in hundredths of a point: 100.00 points."""

MAX_COMMENT = 2_000
MAX_SUMMARY = 2_000
MAX_REASON = 500


class ApplicationStatus(StrEnum):
    """Where an application to a programme stands; ``ck_programme_applications_status_known``
    lists the same."""

    APPLIED = "applied"
    """Submitted; reviewers score it until it is awarded or declined."""
    DECLINED = "declined"
    """The programme's owner passed over it, with a reason."""
    AWARDED = "awarded"
    """It received an award (whatever became of the award later)."""


# -- problems ----------------------------------------------------------------------------


class UnknownProgrammeApplication(NotFound):
    """The application does not exist, or the caller may not see it (``may_read``)."""

    problem = "unknown-programme-application"
    title = "No such programme application"


class UnknownOnboardingApplication(UnprocessableContent):
    """422 rather than 404: the programme exists; what the body names is not an onboarding
    application the service knows of (or, for a business, not one of its own)."""

    problem = "unknown-onboarding-application"
    title = "No such onboarding application is known"


class OtherMunicipality(UnprocessableContent):
    problem = "other-municipality"
    title = "The onboarding application names another municipality than the programme's"


class OnboardingApplicationEnded(UnprocessableContent):
    problem = "onboarding-application-ended"
    title = "The onboarding application was rejected or withdrawn"


class AlreadyApplied(Conflict):
    problem = "already-applied"
    title = "The onboarding application already applied to this programme"


class NotUnderReview(Conflict):
    problem = "not-under-review"
    title = "The application is no longer under review"


class InvalidMarks(UnprocessableContent):
    problem = "invalid-marks"
    title = "The marks do not cover exactly the programme's criteria"


# -- applying ----------------------------------------------------------------------------


def check_applicant(
    found: OnboardingApplication | None,
    *,
    application_id: UUID,
    principal: Principal,
    programme_code: str,
) -> OnboardingApplication:
    """The onboarding application a business applies with: one the service heard of, the
    caller's own (for a business), not rejected or withdrawn, and of the programme's
    municipality (or of a municipality of the programme's prefecture)."""
    if found is None or (principal.role is Role.MSME and principal.tenant != str(found.msme_id)):
        raise UnknownOnboardingApplication(
            f"no onboarding application {application_id} is known"
            + (" for your business" if principal.role is Role.MSME else ""),
            invalid_params=[{"name": "body.application_id", "reason": "not known"}],
        )
    if found.status in ENDED:
        raise OnboardingApplicationEnded(
            f"onboarding application {application_id} was {found.status.value}"
        )
    if not covers(programme_code, found.municipality_code):
        raise OtherMunicipality(
            f"onboarding application {application_id} names municipality "
            f"{found.municipality_code}; the programme is {programme_code}'s",
            application_municipality=found.municipality_code,
            programme_municipality=programme_code,
        )
    return found


# -- reviewing ---------------------------------------------------------------------------


def check_reviewable(status: ApplicationStatus) -> None:
    """Sheets are filled in (and replaced) only while the application is ``applied``."""
    if status is not ApplicationStatus.APPLIED:
        raise NotUnderReview(f"the application is {status.value}")


def check_marks(criteria: Sequence[Criterion], keys: Sequence[str]) -> None:
    """A sheet marks every criterion of the programme exactly once, and nothing else."""
    wanted = {c.key for c in criteria}
    counted = Counter(keys)
    repeated = sorted(k for k, n in counted.items() if n > 1)
    missing = sorted(wanted - set(counted))
    unknown = sorted(set(counted) - wanted)
    faults = [
        f"{what}: {', '.join(names)}"
        for what, names in (("repeated", repeated), ("missing", missing), ("unknown", unknown))
        if names
    ]
    if faults:
        raise InvalidMarks(
            "; ".join(faults),
            invalid_params=[{"name": "body.marks", "reason": f} for f in faults],
        )


def score_centi(criteria: Sequence[Criterion], sheets: Sequence[Mapping[str, int]]) -> int | None:
    """The application's score in hundredths of a point (0 to 10000), rounded down:
    floor(sum over criteria of weight x the sum of the reviewers' marks / reviewers), i.e.
    the weighted mean over criteria of the reviewers' mean mark. None before any sheet."""
    if not sheets:
        return None
    total = sum(c.weight * sum(sheet[c.key] for sheet in sheets) for c in criteria)
    return total // len(sheets)


def has_passed(
    score: int | None, *, reviewers: int, reviewers_required: int, pass_mark: int
) -> bool:
    """Passed: enough reviewers scored it and the score reaches the pass mark (points)."""
    return score is not None and reviewers >= reviewers_required and score >= pass_mark * 100


def score_text(score: int | None) -> str | None:
    """A score in hundredths of a point as points with two decimals ("72.75")."""
    if score is None:
        return None
    return f"{score // 100}.{score % 100:02d}"


def ranks(scores: Sequence[int | None]) -> list[int | None]:
    """Each application's rank by score, best first (1, 2, 2, 4 for ties); unscored ones
    have none."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[int, int] = {}
    for position, score in enumerate(ordered, start=1):
        first.setdefault(score, position)
    return [None if s is None else first[s] for s in scores]


# -- declining ---------------------------------------------------------------------------


def check_declinable(status: ApplicationStatus) -> None:
    """Only an application still ``applied`` may be declined."""
    if status is not ApplicationStatus.APPLIED:
        raise NotUnderReview(f"the application is {status.value}")


# -- who sees what -----------------------------------------------------------------------


def may_read(principal: Principal, *, programme_code: str, msme_id: UUID) -> bool:
    """Staff, the programme's municipality and the applying business see an application;
    anyone else is told it does not exist."""
    if principal.is_staff():
        return True
    if principal.role is Role.MUNICIPALITY:
        return principal.tenant == programme_code
    return principal.role is Role.MSME and principal.tenant == str(msme_id)


def sees_sheets(principal: Principal) -> bool:
    """Reviewers' sheets and comments are for staff and the municipality, not the business."""
    return principal.role in (Role.STAFF, Role.MUNICIPALITY)
