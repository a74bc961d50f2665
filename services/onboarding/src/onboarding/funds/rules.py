"""The rules of a fund (pure): its terms, its offering window, the yearly raise limit, its states.

Staff design one fund per application the investment committee approved; its
terms are editable as a draft and frozen when published (with their SHA-256
digest, what an investor acknowledges). Publishing needs the application ready
and keeps the business below its yearly raise limit. The offering opens at its
start, or at publication if that has passed, and must then last the minimum
offering period; a fund the opening timer reaches too late goes back to draft.
The subscription service closes the offering and announces the outcome.

The database holds some of these too (``onboarding.db.models.Fund``):
``ck_funds_status_known``, ``ck_funds_window_ordered``, ``ck_funds_target_positive``
and ``uq_funds_application_id``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from kumiai.contracts.onboarding import FundFees, RevenueShare, Settlement
from kumiai.contracts.subscription import FundOutcome
from kumiai.inputs import MAX_AMOUNT, Amount, AmountOrZero, Count, RequestBody, StrictInt
from kumiai.money import CurrencyCode
from kumiai.periods import in_past_year
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent
from onboarding.applications import rules as applications
from onboarding.applications.rules import Step


# Published in the OpenAPI document with this docstring as its description.
class FundStatus(StrEnum):
    """Where a fund stands; the ``funds.status`` CHECK lists the same values."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CANCELLED = "cancelled"
    CLOSED_SUCCEEDED = "closed_succeeded"
    CLOSED_FAILED = "closed_failed"


class FundTermsRejected(UnprocessableContent):
    problem = "fund-terms-invalid"
    title = "Fund terms break a rule"


class YearlyLimitRefused(UnprocessableContent):
    problem = "yearly-limit"
    title = "The business would raise too much within a year"


class FundStateConflict(Conflict):
    problem = "fund-state"
    title = "The fund is not in a state that allows this"


class FundExists(Conflict):
    problem = "fund-exists"
    title = "This application already has a fund"


# -- the terms ---------------------------------------------------------------------------


class InvalidFundTerms(FundTermsRejected):
    """The terms break a rule; ``problems`` maps each field (dotted path) to what is wrong.

    ``where`` prefixes the field names the answer gives (``body.terms.`` for a new fund).
    """

    def __init__(self, problems: dict[str, str], *, where: str = "") -> None:
        super().__init__(
            "; ".join(f"{k}: {v}" for k, v in problems.items()),
            invalid_params=[{"name": f"{where}{k}", "reason": v} for k, v in problems.items()],
        )
        self.problems = problems


class FundTerms(RequestBody):
    """Everything an investor signs up to; frozen when the fund is published.

    Amounts are integers of the currency's minor unit; rates are parts per million.
    Every integer must arrive as a JSON integer: ``"10000"``, ``true`` or ``1e4`` are refused.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode = Field(default="JPY", max_length=3)
    unit_price: Amount = Field(description="Price of one unit, donation part included")
    handling_fee_per_unit: AmountOrZero = Field(description="Paid on top of the unit price")
    donation_per_unit: AmountOrZero = Field(default=0, description="Hybrid funds: never repaid")
    units_offered: Count = Field(description="Upper limit of units on sale")
    formation_threshold_units: Count = Field(description="Units needed for the fund to form")
    max_units_per_investor: Count
    offering_start: AwareDatetime = Field(
        description="When the offering opens; one already past opens it at publication"
    )
    offering_end: AwareDatetime
    term_months: StrictInt = Field(gt=0, le=600)
    settlement: Settlement
    revenue_share: RevenueShare
    fees: FundFees
    perks_per_unit: str | None = Field(default=None, max_length=500, description="In kind")
    subordinated: bool = Field(default=True, description="Investors rank after other creditors")

    @property
    def target_amount(self) -> int:
        """What the fund raises if every unit sells (unit prices; handling fees excluded)."""
        return self.unit_price * self.units_offered

    @property
    def investment_per_unit(self) -> int:
        """The investment part of a unit: its price less the donation part (hybrid funds)."""
        return self.unit_price - self.donation_per_unit

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the terms: what an investor acknowledges."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TermLimits:
    """The bounds the service's settings put on every fund's terms."""

    min_unit_price: int = 10_000
    max_unit_price: int = 50_000
    min_offering_days: int = 1
    max_offering_days: int = 365


def opening(terms: FundTerms, now: datetime) -> datetime:
    """When the offering opens if published at ``now``: its start, or ``now`` if that passed."""
    return max(terms.offering_start, now)


def opens_at_publication(terms: FundTerms, now: datetime) -> bool:
    """Whether a fund published at ``now`` opens at once: its start has come."""
    return terms.offering_start <= now


def window_too_short(
    terms: FundTerms, opens_at: datetime, *, min_days: int, grace: timedelta = timedelta(0)
) -> bool:
    """Whether an offering opening at ``opens_at`` would be open less than ``min_days``
    (less ``grace``), or not at all.

    The minimum counts from when the offering actually opens, so a start set in the
    past does not shorten it.
    """
    remaining = terms.offering_end - opens_at
    return remaining <= timedelta(0) or remaining < timedelta(days=min_days) - grace


def validate_terms(
    terms: FundTerms, limits: TermLimits, *, now: datetime | None = None, where: str = ""
) -> FundTerms:
    """``terms`` if they keep every rule; else refuse them, naming every field at fault at once.

    With ``now``, the offering must stay open ``min_offering_days`` from when it would
    open if published at ``now`` (its start, or ``now`` if the start has passed). The
    database holds the weakest form too: ``ck_funds_window_ordered`` (end after start),
    and ``ck_funds_target_positive``. ``where`` prefixes the names of the fields at fault.
    """
    problems: dict[str, str] = {}
    if not limits.min_unit_price <= terms.unit_price <= limits.max_unit_price:
        problems["unit_price"] = (
            f"must be between {limits.min_unit_price} and {limits.max_unit_price}"
        )
    if terms.donation_per_unit >= terms.unit_price:
        problems["donation_per_unit"] = "must be less than unit_price (an investment part remains)"
    if terms.formation_threshold_units > terms.units_offered:
        problems["formation_threshold_units"] = "must not exceed units_offered"
    if terms.max_units_per_investor > terms.units_offered:
        problems["max_units_per_investor"] = "must not exceed units_offered"
    if terms.target_amount > MAX_AMOUNT:
        problems["units_offered"] = (
            f"the target (unit_price x units_offered) must not exceed {MAX_AMOUNT}"
        )
    opens_at = terms.offering_start if now is None else opening(terms, now)
    window = terms.offering_end - opens_at
    if terms.offering_end <= terms.offering_start:
        problems["offering_end"] = "must be after offering_start"
    elif window_too_short(terms, opens_at, min_days=limits.min_offering_days):
        problems["offering_end"] = (
            f"the offering must last at least {limits.min_offering_days} day(s)"
            + ("" if opens_at == terms.offering_start else " from its opening (now)")
        )
    elif window > timedelta(days=limits.max_offering_days):
        problems["offering_end"] = f"the offering may last at most {limits.max_offering_days} days"
    share = terms.revenue_share
    if share.rate_before_recoup_ppm == 0 and share.rate_after_recoup_ppm == 0:
        problems["revenue_share"] = "returns must follow sales: a share rate must be positive"
    if share.early_termination_at_plan_sales and share.plan_sales is None:
        problems["revenue_share.plan_sales"] = "early termination needs plan sales"
    minimum_raised = terms.formation_threshold_units * terms.unit_price
    if terms.fees.arrangement_fee > minimum_raised:
        problems["fees.arrangement_fee"] = (
            f"must not exceed what a formed fund raises at least ({minimum_raised})"
        )
    if problems:
        raise InvalidFundTerms(problems, where=where)
    return terms


# -- capital-like debt (ECLDB) -----------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Whether a fund counts as capital-like debt, with the reason for each condition."""

    eligible: bool
    reasons: list[str]


ECLDB_MIN_TERM_MONTHS = 61


def capital_like_debt(terms: FundTerms) -> Eligibility:
    """Whether partner banks may count the fund as capital-like debt (ECLDB), and why."""
    reasons = []
    checks = [
        (
            terms.term_months >= ECLDB_MIN_TERM_MONTHS,
            f"term of {terms.term_months} months "
            + ("is over" if terms.term_months >= ECLDB_MIN_TERM_MONTHS else "is not over")
            + " five years",
        ),
        (
            terms.revenue_share.rate_before_recoup_ppm > 0
            or terms.revenue_share.rate_after_recoup_ppm > 0,
            "returns follow the business's sales",
        ),
        (
            terms.subordinated,
            "investors rank after other creditors"
            if terms.subordinated
            else "investors are not subordinated",
        ),
    ]
    for _, reason in checks:
        reasons.append(reason)
    return Eligibility(eligible=all(ok for ok, _ in checks), reasons=reasons)


# -- the yearly raise limit --------------------------------------------------------------


@dataclass(frozen=True)
class RaisedFund:
    """Another fund of the same business that counts towards the yearly limit."""

    offering_start: datetime
    """When it opened, or is scheduled to open."""
    amount: int


class YearlyLimitExceeded(YearlyLimitRefused):
    """The business would raise its yearly limit or more; the answer carries the figures."""

    def __init__(self, *, limit: int, counted: int, this_fund: int) -> None:
        super().__init__(
            f"the business would raise {counted + this_fund} within a year "
            f"({counted} in its other funds + {this_fund} in this one); "
            f"the limit is below {limit}",
            limit=limit,
            counted=counted,
            this_fund=this_fund,
        )
        self.limit = limit
        self.counted = counted
        self.this_fund = this_fund


def within_a_year(one: datetime, other: datetime) -> bool:
    """Whether two openings lie less than a year apart (``kumiai.periods.in_past_year``)."""
    return in_past_year(other, at=one) or in_past_year(one, at=other)


COUNTED_TOWARDS_LIMIT = frozenset(
    {FundStatus.SCHEDULED, FundStatus.OPEN, FundStatus.CLOSED_SUCCEEDED}
)
"""The business's funds that count towards its yearly limit: published and not failed."""


class Counted(Protocol):
    """What the yearly limit reads of another fund of the business."""

    @property
    def status(self) -> str: ...

    @property
    def opened_at(self) -> datetime | None: ...

    @property
    def offering_start(self) -> datetime: ...

    @property
    def target_amount(self) -> int: ...

    @property
    def amount_raised(self) -> int | None: ...


def raised_fund(fund: Counted, now: datetime) -> RaisedFund:
    """How another fund counts towards the limit: at its opening, for its target until it
    closed, then for what it raised."""
    succeeded = FundStatus(fund.status) is FundStatus.CLOSED_SUCCEEDED
    return RaisedFund(
        offering_start=fund.opened_at or max(fund.offering_start, now),
        amount=fund.amount_raised
        if succeeded and fund.amount_raised is not None
        else fund.target_amount,
    )


def check_yearly_limit(
    terms: FundTerms,
    others: Sequence[RaisedFund],
    *,
    limit: int,
    opens_at: datetime | None = None,
) -> None:
    """A business raises less than ``limit`` per rolling year across all its funds.

    Counted: every other fund opening less than a year (``kumiai.periods``, Japan
    time) before or after this one's opening (``opens_at``, its start by default),
    at its upper limit until it has closed, then at what it raised. Counting both
    sides is stricter than any single window. Publications of one business take
    turns on its row (``onboarding.funds.store.lock_business``), so two funds cannot
    both fit the same room under the limit.
    """
    if limit <= 0:
        return
    this = terms.offering_start if opens_at is None else opens_at
    counted = sum(f.amount for f in others if within_a_year(this, f.offering_start))
    if counted + terms.target_amount >= limit:
        raise YearlyLimitExceeded(limit=limit, counted=counted, this_fund=terms.target_amount)


# -- the states of a fund ----------------------------------------------------------------


def check_staff(principal: Principal) -> None:
    """Only staff design, publish and cancel funds."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff design and publish funds")


def check_designable(step: Step) -> None:
    """A fund is designed only for an application the investment committee approved."""
    if not step.approved:
        raise FundStateConflict(
            f"the application is at {step.value}; the committee has not approved it"
        )


def check_first_fund(existing: UUID | None) -> None:
    """An application has one fund at most (``uq_funds_application_id`` holds it too)."""
    if existing is not None:
        raise FundExists(
            f"fund {existing} belongs to this application", existing=f"/funds/{existing}"
        )


def check_editable(status: FundStatus) -> None:
    """Only a draft's terms change; published terms are frozen."""
    if status is not FundStatus.DRAFT:
        raise FundStateConflict(f"the fund is {status.value}; its terms are frozen")


def check_publishable(status: FundStatus) -> None:
    """Only a draft is published."""
    if status is not FundStatus.DRAFT:
        raise FundStateConflict(f"the fund is already {status.value}")


def check_ready(step: Step) -> None:
    """A fund is published only once its application is ready (the business confirmed)."""
    if step is not Step.READY:
        raise FundStateConflict(
            f"the application is at {step.value}; the business must confirm first"
        )


def _days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):.2f}"


def unscheduled_reason(terms: FundTerms, now: datetime, min_offering_days: int) -> str:
    """Why a fund the opening timer reached too late went back to draft, and what to do."""
    remaining = max(terms.offering_end - now, timedelta(0))
    return (
        f"not opened: when the offering could open ({now.isoformat(timespec='seconds')}) "
        f"{_days(remaining)} day(s) of it remained, less than the minimum of "
        f"{min_offering_days}; set a new window and publish again"
    )


def cancellation(status: FundStatus) -> bool:
    """Whether cancelling a fund in ``status`` is announced (it was published); only a draft or
    a scheduled fund is cancelled here: an open offering is the subscription service's."""
    if status not in (FundStatus.DRAFT, FundStatus.SCHEDULED):
        raise FundStateConflict(
            f"the fund is {status.value}; an open offering is cancelled by the subscription service"
        )
    return status is FundStatus.SCHEDULED


def closing(
    current: FundStatus, outcome: FundOutcome, amount_raised: int
) -> tuple[FundStatus, int] | None:
    """The fund's state and what it raised once its offering closed; ``None`` if already closed.

    A failed fund raised nothing. A repeated announcement changes nothing.
    """
    if current in (FundStatus.CLOSED_SUCCEEDED, FundStatus.CLOSED_FAILED):
        return None
    if outcome is FundOutcome.SUCCEEDED:
        return FundStatus.CLOSED_SUCCEEDED, amount_raised
    return FundStatus.CLOSED_FAILED, 0


# -- who sees what -----------------------------------------------------------------------


def may_read(
    principal: Principal,
    application: applications.Introduced,
    msme: applications.ReferredBusiness,
) -> bool:
    """A fund is seen by whoever may see its application: staff, the business, its bank."""
    return applications.may_read(principal, application, msme)


@dataclass(frozen=True)
class Listing:
    """Which funds a list may show its caller, before the caller's own filters."""

    only_business: bool = False
    """A business's token: only the funds of ``msme_id`` (none if the token names no business)."""
    msme_id: UUID | None = None
    referring_bank: str | None = None
    """A bank's token: only the funds of the businesses it referred."""


def listing(principal: Principal, *, msme_id: UUID | None) -> Listing:
    """A business lists its own funds, a bank those of the businesses it referred; staff all.

    Refuses every other role, and a business asking for another's funds.
    """
    if principal.role is Role.MSME:
        own = _uuid_or_none(principal.tenant)
        if msme_id not in (None, own):
            raise Forbidden("a business sees only its own funds")
        return Listing(only_business=True, msme_id=own)
    if principal.role is Role.BANK:
        return Listing(referring_bank=principal.tenant)
    if not principal.is_staff():
        raise Forbidden("this role does not list funds")
    return Listing()


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
