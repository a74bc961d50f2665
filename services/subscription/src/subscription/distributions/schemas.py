"""Request and response models of the distribution simulation, the investors' statements
and the yearly payment records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, Strict, model_validator

from kumiai.inputs import MAX_AMOUNT, AmountOrZero, BodyPart, Count, RequestBody
from subscription.distributions.payment_records import PaymentStatus
from subscription.distributions.rules import PPM, WITHHOLDING_PPM, ThresholdBasis

Ppm = Annotated[int, Strict(), Field(ge=0, le=PPM, description="Parts per million: 3 % is 30000")]
MAX_HOLDERS = 1_000
MAX_PERIODS = 100
MAX_LINES = 20_000
"""Holders x periods one simulation answers (the answer stays a few megabytes)."""


class TermsIn(BodyPart):
    """The terms the calculation follows (the fund's, or the ones being considered)."""

    unit_price: Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT)] = Field(
        description="Price of one unit, donation part included"
    )
    handling_fee_per_unit: AmountOrZero = 0
    donation_per_unit: AmountOrZero = Field(default=0, description="Hybrid funds: never repaid")
    rate_before_recoup_ppm: Annotated[int, Strict(), Field(gt=0, le=PPM)]
    rate_after_recoup_ppm: Ppm
    sales_threshold: AmountOrZero = 0
    threshold_basis: ThresholdBasis = ThresholdBasis.PER_PERIOD
    plan_sales: Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT)] | None = None
    early_termination_at_plan_sales: bool = False
    success_fee_rate_ppm: Ppm = 0
    perks_per_unit: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> TermsIn:
        if self.donation_per_unit >= self.unit_price:
            raise ValueError("the donation part must leave an investment part")
        if self.early_termination_at_plan_sales and self.plan_sales is None:
            raise ValueError("early termination needs plan_sales")
        return self


class HolderIn(BodyPart):
    holder: str = Field(min_length=1, max_length=64, description="Any label, e.g. an investor id")
    units: Count


class PeriodIn(BodyPart):
    sales: AmountOrZero = Field(description="The period's sales excluding consumption tax")
    adjustment: Annotated[int, Strict(), Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)] = Field(
        default=0, description="Signed correction of earlier periods' sales"
    )


class SimulationIn(RequestBody):
    """Terms, a register (or just the number of units, held by one holder) and the sales of
    each period in order."""

    terms: TermsIn
    holders: list[HolderIn] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_HOLDERS,
        description="The register: each holder and its units",
    )
    units: Count | None = Field(default=None, description="Instead of a register: one holder")
    periods: list[PeriodIn] = Field(min_length=1, max_length=MAX_PERIODS)

    @model_validator(mode="after")
    def _one_register(self) -> SimulationIn:
        if (self.holders is None) == (self.units is None):
            raise ValueError("give either holders or units")
        if self.holders is not None:
            names = [h.holder for h in self.holders]
            if len(set(names)) != len(names):
                raise ValueError("each holder appears once")
            if len(names) * len(self.periods) > MAX_LINES:
                raise ValueError(f"at most {MAX_LINES} holder-periods in one simulation")
        return self


class HolderOut(BaseModel):
    holder: str
    units: int
    gross: int
    tax: int = Field(description=f"Withheld at {WITHHOLDING_PPM / 10_000} % on the profit part")
    net: int
    cumulative_gross: int
    cumulative_tax: int
    remaining_to_recoup: int = Field(description="Paid in (investment part and fee) not yet back")
    perk: str | None


class PeriodOut(BaseModel):
    number: int
    sales: int
    adjustment: int
    cumulative_sales: int
    distributable_sales: int = Field(description="Sales above the threshold this period")
    below_recoup: int = Field(description="Part of the distributable sales at the first rate")
    above_recoup: int = Field(description="Part at the rate after recoup")
    distributable_amount: int
    per_unit: int
    retained: int = Field(description="What does not divide by the units: stays with the business")
    success_fee: int
    total_gross: int
    total_tax: int
    total_net: int
    last: bool = Field(description="The fund matures after this period (plan sales reached)")
    holders: list[HolderOut]


class SimulationOut(BaseModel):
    units: int
    recoup_sales: int = Field(
        description="Cumulative distributable sales at which investors recoup their investment"
    )
    matured_at_period: int | None
    periods: list[PeriodOut]


class StatementLine(BaseModel):
    """One period's distribution to the investor: what it holds, gets, and has left to recoup."""

    fund_id: UUID
    fund_name: str
    period_number: int
    period_start: date
    period_end: date
    units: int
    per_unit: int
    gross: int
    tax: int = Field(description="Withheld at 20.42 % on the profit part")
    net: int
    cumulative_gross: int
    cumulative_tax: int
    remaining_to_recoup: int
    perk: str | None
    declared_at: datetime
    paid_on: date | None = Field(description="The day in Japan it was paid out; null until then")
    payment_status: PaymentStatus = Field(description="declared, then paid")


class PaymentTotalsOut(BaseModel):
    payments: int = Field(description="Distributions paid (periods with something to pay)")
    gross: int
    tax: int = Field(description="Withheld at 20.42 % on the profit part")
    net: int


class FundPaymentsOut(PaymentTotalsOut):
    """What one fund paid the investor in the year."""

    fund_id: UUID
    fund_name: str
    msme_id: UUID = Field(description="The business the fund invests in")


class PaymentRecordOut(BaseModel):
    """What an investor was paid in a calendar year (by the day in Japan it was paid), per
    fund and in total: for the investor's tax return and records."""

    investor_id: UUID
    year: int
    available_from: date = Field(description="The day the record became final (1 January after)")
    funds: list[FundPaymentsOut]
    totals: PaymentTotalsOut
