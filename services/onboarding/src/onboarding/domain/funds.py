"""Fund terms, the rules they must satisfy, and what is derived from them (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kumiai.contracts.onboarding import FundFees, RevenueShare, Settlement
from kumiai.money import CurrencyCode


class InvalidFundTerms(ValueError):
    """The terms break a rule; ``problems`` maps each field (dotted path) to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class FundTerms(BaseModel):
    """Everything an investor signs up to; frozen when the fund is published.

    Amounts are integers of the currency's minor unit; rates are parts per million.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode = "JPY"
    unit_price: int = Field(gt=0, description="Price of one unit, donation part included")
    handling_fee_per_unit: int = Field(ge=0, description="Paid on top of the unit price")
    donation_per_unit: int = Field(default=0, ge=0, description="Hybrid funds: never repaid")
    units_offered: int = Field(gt=0, description="Upper limit of units on sale")
    formation_threshold_units: int = Field(gt=0, description="Units needed for the fund to form")
    max_units_per_investor: int = Field(gt=0)
    offering_start: AwareDatetime
    offering_end: AwareDatetime
    term_months: int = Field(gt=0, le=600)
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


def validate_terms(terms: FundTerms, limits: TermLimits) -> None:
    """Refuse terms that break a rule, naming every field at fault at once."""
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
    window = terms.offering_end - terms.offering_start
    if window < timedelta(days=limits.min_offering_days):
        problems["offering_end"] = (
            f"the offering must last at least {limits.min_offering_days} day(s)"
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


def check_yearly_limit(
    terms: FundTerms, others: Sequence[RaisedFund], *, limit: int, window_days: int = 365
) -> None:
    """A business raises less than ``limit`` per rolling year across all its funds.

    Counted: every other fund whose offering starts within ``window_days`` of
    this one's (either side), at its upper limit until it has closed, then at
    what it raised. Counting both sides is stricter than any single window.
    """
    if limit <= 0:
        return
    near = timedelta(days=window_days)
    counted = sum(f.amount for f in others if abs(f.offering_start - terms.offering_start) < near)
    if counted + terms.target_amount >= limit:
        raise YearlyLimitExceeded(limit=limit, counted=counted, this_fund=terms.target_amount)
