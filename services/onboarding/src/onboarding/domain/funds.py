"""Fund terms, the rules they must satisfy, and what is derived from them (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field

from kumiai.contracts.onboarding import FundFees, RevenueShare, Settlement
from kumiai.inputs import MAX_AMOUNT, Amount, AmountOrZero, Count, RequestBody, StrictInt
from kumiai.money import CurrencyCode
from kumiai.periods import in_past_year


class FundStatus(StrEnum):
    """Where a fund stands; the ``funds.status`` CHECK lists the same values."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CANCELLED = "cancelled"
    CLOSED_SUCCEEDED = "closed_succeeded"
    CLOSED_FAILED = "closed_failed"


class InvalidFundTerms(ValueError):
    """The terms break a rule; ``problems`` maps each field (dotted path) to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
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
        return self.unit_price - self.donation_per_unit

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the terms: what an investor acknowledges."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TermLimits:
    min_unit_price: int = 10_000
    max_unit_price: int = 50_000
    min_offering_days: int = 1
    max_offering_days: int = 365


def opening(terms: FundTerms, now: datetime) -> datetime:
    """When the offering opens if published at ``now``: its start, or ``now`` if that passed."""
    return max(terms.offering_start, now)


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


def validate_terms(terms: FundTerms, limits: TermLimits, *, now: datetime | None = None) -> None:
    """Refuse terms that break a rule, naming every field at fault at once.

    With ``now``, the offering must stay open ``min_offering_days`` from when it would
    open if published at ``now`` (its start, or ``now`` if the start has passed). The
    database holds the weakest form too: ``ck_funds_window_ordered`` (end after start).
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
        raise InvalidFundTerms(problems)


@dataclass(frozen=True)
class Eligibility:
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


@dataclass(frozen=True)
class RaisedFund:
    """Another fund of the same business that counts towards the yearly limit."""

    offering_start: datetime
    """When it opened, or is scheduled to open."""
    amount: int


class YearlyLimitExceeded(ValueError):
    def __init__(self, *, limit: int, counted: int, this_fund: int) -> None:
        super().__init__(
            f"the business would raise {counted + this_fund} within a year "
            f"({counted} in its other funds + {this_fund} in this one); "
            f"the limit is below {limit}"
        )
        self.limit = limit
        self.counted = counted
        self.this_fund = this_fund


def within_a_year(one: datetime, other: datetime) -> bool:
    """Whether two openings lie less than a year apart (``kumiai.periods.in_past_year``)."""
    return in_past_year(other, at=one) or in_past_year(one, at=other)


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
    sides is stricter than any single window.
    """
    if limit <= 0:
        return
    this = terms.offering_start if opens_at is None else opens_at
    counted = sum(f.amount for f in others if within_a_year(this, f.offering_start))
    if counted + terms.target_amount >= limit:
        raise YearlyLimitExceeded(limit=limit, counted=counted, this_fund=terms.target_amount)
