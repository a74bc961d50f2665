"""The rules of awards (pure): who is awarded, how much, within which budget, and what
becomes of an award when it is revoked, paid, or its fund fails.

Staff or the programme's municipality award applications in score order once the
application window has closed: a passed application may be awarded only if no other
passed application still under review has a higher score (the awarder declines that one
first, with a reason, to pass over it). The award pays part of the arrangement fee of the
application's fund, which must be known (``FundOpened`` v2 or later) and neither failed
nor cancelled, and which no other live award already subsidises. Amount =
min(cap per award, floor(arrangement fee x coverage)). The budget is reserved at award:
neither the programme's budget nor its number of awards may ever be exceeded.

An award is ``granted``; ``paid`` once the municipality's transfer settled it
(``SubsidyPaid``); ``revoked`` when its owner withdraws it before payment (the budget is
released); ``repayment_due`` when withdrawn after payment (the business pays it back; the
budget stays used, the money was spent); ``lapsed`` when its fund failed and the programme
says grants lapse then, or its fund was cancelled (the budget is released).

The database holds these too (``subsidy.db.models.Award`` and migration
``2026_11_29_programmes.py``): the trigger ``awards_reserve_budget`` keeps
``programmes.reserved`` and ``programmes.awards_count`` and the CHECKs
``ck_programmes_within_budget`` and ``ck_programmes_within_award_count`` bound them;
``uq_awards_live_fund`` (one live award per fund), ``uq_awards_application`` (one award
per application), ``ck_awards_status_known``, ``ck_awards_amount_within_fee``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, NotFound
from subsidy.applications.rules import ApplicationStatus, has_passed, score_text
from subsidy.facts.rules import FundFacts, FundStatus
from subsidy.programmes.rules import PPM

MAX_NOTE = 500


class AwardStatus(StrEnum):
    """Where an award stands; ``ck_awards_status_known`` and the trigger
    ``awards_reserve_budget`` list the same."""

    GRANTED = "granted"
    PAID = "paid"
    REVOKED = "revoked"
    LAPSED = "lapsed"
    REPAYMENT_DUE = "repayment_due"


LIVE = frozenset({AwardStatus.GRANTED, AwardStatus.PAID, AwardStatus.REPAYMENT_DUE})
"""Awards that use their programme's budget and count towards its awards: the trigger
``awards_reserve_budget`` and the index ``uq_awards_live_fund`` list the same statuses."""

SUBSIDISING = frozenset({AwardStatus.GRANTED, AwardStatus.PAID})
"""Awards whose money went, or goes, to the fund: what leverage counts."""


# -- problems ----------------------------------------------------------------------------


class UnknownAward(NotFound):
    """The award does not exist, or the caller may not see it (``may_read``)."""

    problem = "unknown-award"
    title = "No such award"


class ApplicationsStillOpen(Conflict):
    problem = "applications-still-open"
    title = "Awards are made once the application window has closed"


class NotAwardable(Conflict):
    problem = "not-awardable"
    title = "The application cannot be awarded"


class NotInScoreOrder(Conflict):
    problem = "not-in-score-order"
    title = "A passed application with a higher score comes first"


class FundNotOpen(Conflict):
    problem = "fund-not-open"
    title = "The application's fund is not known to be open"


class FundAlreadySubsidised(Conflict):
    problem = "fund-already-subsidised"
    title = "The fund already has a live award"


class NothingToSubsidise(Conflict):
    problem = "nothing-to-subsidise"
    title = "The award would be zero"


class AwardsExhausted(Conflict):
    problem = "awards-exhausted"
    title = "The programme has made all the awards it may make"


class BudgetExhausted(Conflict):
    problem = "budget-exhausted"
    title = "The programme's budget left is smaller than the award"


class NotRevocable(Conflict):
    problem = "not-revocable"
    title = "The award is not granted or paid"


# -- awarding ----------------------------------------------------------------------------


def award_amount(arrangement_fee: int, coverage_ppm: int, cap_per_award: int) -> int:
    """What the programme pays of a fund's arrangement fee: the fee times the coverage
    (parts per million), rounded down to the yen, and at most the cap per award."""
    return min(cap_per_award, arrangement_fee * coverage_ppm // PPM)


def check_window_closed(close_at: datetime, now: datetime) -> None:
    """Selection begins once the application window has closed (409 before)."""
    if now < close_at:
        raise ApplicationsStillOpen(
            f"applications close at {close_at.isoformat()}", closes_at=close_at.isoformat()
        )


def check_awardable(
    status: ApplicationStatus,
    *,
    score: int | None,
    reviewers: int,
    reviewers_required: int,
    pass_mark: int,
) -> int:
    """Only an application still ``applied`` that passed (enough reviewers, score at the
    pass mark) may be awarded; returns its score."""
    if status is not ApplicationStatus.APPLIED:
        raise NotAwardable(f"the application is {status.value}")
    if reviewers < reviewers_required:
        raise NotAwardable(
            f"{reviewers} of the {reviewers_required} reviewers required have scored it"
        )
    if not has_passed(
        score, reviewers=reviewers, reviewers_required=reviewers_required, pass_mark=pass_mark
    ):
        raise NotAwardable(f"its score {score_text(score)} is below the pass mark {pass_mark}")
    assert score is not None
    return score


@dataclass(frozen=True)
class Contender:
    """Another passed application of the programme still under review."""

    programme_application_id: UUID
    score: int


def check_score_order(score: int, contenders: Sequence[Contender]) -> None:
    """Awards follow the score: no passed application still under review may have a
    strictly higher score (equal scores may be awarded in any order). To pass over one,
    the awarder declines it first, with a reason."""
    higher = sorted(
        (c for c in contenders if c.score > score),
        key=lambda c: (-c.score, str(c.programme_application_id)),
    )
    if higher:
        best = higher[0]
        raise NotInScoreOrder(
            f"application {best.programme_application_id} scored {score_text(best.score)}, "
            f"more than {score_text(score)}: award or decline it first",
            higher=[str(c.programme_application_id) for c in higher[:10]],
        )


def fund_to_subsidise(application_id: UUID, funds: Sequence[FundFacts]) -> FundFacts:
    """The fund of the onboarding application that an award pays into: one told by
    ``FundOpened`` (v2 or later) and neither failed nor cancelled, the latest if several.
    409 ``fund-not-open`` saying why otherwise."""
    known = [f for f in funds if f.application_id == application_id]
    usable = [f for f in known if f.status in (FundStatus.OPEN, FundStatus.FORMED)]
    if usable:
        return max(usable, key=_opened)
    if not known:
        raise FundNotOpen(
            f"no fund of onboarding application {application_id} has opened yet "
            "(FundOpened not heard): award once its fund is open"
        )
    latest = max(known, key=_opened)
    raise FundNotOpen(
        f"the fund {latest.fund_id} of onboarding application {application_id} "
        f"is {latest.status.value}",
        fund_id=str(latest.fund_id),
        fund_status=latest.status.value,
    )


def _opened(fund: FundFacts) -> tuple[datetime | None, str]:
    return (fund.opened_at, str(fund.fund_id))


def check_fund_free(fund_id: UUID, *, has_live_award: bool) -> None:
    """A fund has at most one live award (``uq_awards_live_fund`` holds it too)."""
    if has_live_award:
        raise FundAlreadySubsidised(f"the fund {fund_id} already has a live award")


def check_amount(amount: int) -> None:
    """An award pays something (an arrangement fee of zero leaves nothing to subsidise)."""
    if amount <= 0:
        raise NothingToSubsidise("the fund's arrangement fee leaves nothing to subsidise")


def check_room(
    *, reserved: int, awards_count: int, budget: int, max_awards: int, amount: int
) -> None:
    """An award fits its programme: one more award stays within ``max_awards`` and the
    amount within what is left of the budget. Checked here for a clear answer; the
    database enforces the same under any concurrency: the trigger ``awards_reserve_budget``
    adds every live award to ``programmes.reserved`` and ``programmes.awards_count``, which
    the CHECKs ``ck_programmes_within_award_count`` and ``ck_programmes_within_budget``
    bound (a violation is answered as here)."""
    if awards_count + 1 > max_awards:
        raise AwardsExhausted(f"all {max_awards} awards of the programme are made")
    if reserved + amount > budget:
        raise BudgetExhausted(
            f"{budget - reserved} of the budget is left; the award is {amount}",
            budget_left=budget - reserved,
        )


# -- after the award ---------------------------------------------------------------------


def revoked_status(status: AwardStatus) -> AwardStatus:
    """Revoking a granted award releases its budget (``revoked``); a paid one becomes
    ``repayment_due`` (the business pays it back; the budget stays used). Anything else is
    409 ``not-revocable``."""
    if status is AwardStatus.GRANTED:
        return AwardStatus.REVOKED
    if status is AwardStatus.PAID:
        return AwardStatus.REPAYMENT_DUE
    raise NotRevocable(f"the award is {status.value}")


@dataclass(frozen=True)
class PaymentEffect:
    """What the municipality's payment (``SubsidyPaid``) does to an award."""

    status: AwardStatus
    recorded: bool
    """Whether the payment is recorded (paid_at, value date, deposit)."""
    repayment_due: bool
    """Whether the business must now pay the amount back."""


def payment_effect(status: AwardStatus, *, already_paid: bool) -> PaymentEffect:
    """A granted award becomes ``paid``. A payment that crossed the award's revocation or
    lapse leaves it ended but recorded, and the business owes the amount back. A payment
    heard again changes nothing."""
    if already_paid:
        return PaymentEffect(status, recorded=False, repayment_due=False)
    if status is AwardStatus.GRANTED:
        return PaymentEffect(AwardStatus.PAID, recorded=True, repayment_due=False)
    if status in (AwardStatus.REVOKED, AwardStatus.LAPSED):
        return PaymentEffect(status, recorded=True, repayment_due=True)
    return PaymentEffect(status, recorded=False, repayment_due=False)


def lapses_when_fund_fails(status: AwardStatus, *, lapses_if_fund_fails: bool) -> bool:
    """A failed fund lapses its granted award when the programme says so; otherwise the
    award stays granted (the municipality still owes its share)."""
    return status is AwardStatus.GRANTED and lapses_if_fund_fails


def lapses_when_fund_cancelled(status: AwardStatus) -> bool:
    """A cancelled fund always lapses its granted award."""
    return status is AwardStatus.GRANTED


# -- what the database refused ----------------------------------------------------------

WITHIN_BUDGET = "ck_programmes_within_budget"
WITHIN_AWARD_COUNT = "ck_programmes_within_award_count"
LIVE_FUND = "uq_awards_live_fund"
ONE_PER_APPLICATION = "uq_awards_application"

_REFUSALS: dict[str, tuple[type[Conflict], str]] = {
    WITHIN_AWARD_COUNT: (AwardsExhausted, "all the programme's awards were made meanwhile"),
    WITHIN_BUDGET: (BudgetExhausted, "the budget left was reserved by another award meanwhile"),
    LIVE_FUND: (FundAlreadySubsidised, "another award of the fund was made meanwhile"),
    ONE_PER_APPLICATION: (NotAwardable, "the application was awarded meanwhile"),
}

DATABASE_GUARDS = tuple(_REFUSALS)
"""The constraints that refuse an award a concurrent one made impossible."""


def refusal(constraint: str) -> Conflict:
    """The answer to an award the database refused by ``constraint``: the same problem
    ``check_room``, ``check_fund_free`` or ``check_awardable`` gives when it sees it first."""
    problem, detail = _REFUSALS[constraint]
    return problem(detail)


# -- who sees what -----------------------------------------------------------------------


def may_read(principal: Principal, *, programme_code: str, msme_id: UUID) -> bool:
    """Staff, the programme's municipality and the awarded business see an award; anyone
    else is told it does not exist."""
    if principal.is_staff():
        return True
    if principal.role is Role.MUNICIPALITY:
        return principal.tenant == programme_code
    return principal.role is Role.MSME and principal.tenant == str(msme_id)


@dataclass(frozen=True)
class ListScope:
    """Which awards a list shows a caller (the same as ``may_read``)."""

    municipality_code: str | None = None
    msme_id: UUID | None = None
    nothing: bool = False


def list_scope(principal: Principal) -> ListScope:
    """Staff list every award, a municipality its programmes', a business its own."""
    if principal.is_staff():
        return ListScope()
    if principal.role is Role.MUNICIPALITY:
        return ListScope(municipality_code=principal.tenant)
    if principal.role is Role.MSME:
        try:
            return ListScope(msme_id=UUID(principal.tenant))
        except ValueError:
            return ListScope(nothing=True)
    return ListScope(nothing=True)
