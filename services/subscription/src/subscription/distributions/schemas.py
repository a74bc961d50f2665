"""Request and response models of the distribution simulation, the investors' statements
and the yearly payment records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "terms": {
                        "unit_price": 10000,
                        "handling_fee_per_unit": 500,
                        "donation_per_unit": 0,
                        "rate_before_recoup_ppm": 30000,
                        "rate_after_recoup_ppm": 10000,
                        "sales_threshold": 5000000,
                        "threshold_basis": "per_period",
                        "plan_sales": 15000000,
                        "early_termination_at_plan_sales": True,
                        "success_fee_rate_ppm": 80000,
                        "perks_per_unit": None,
                    },
                    "holders": [
                        {"holder": "スズキ イチロウ", "units": 3},
                        {"holder": "other investors", "units": 997},
                    ],
                    "units": None,
                    "periods": [
                        {"sales": 12000000, "adjustment": 0},
                        {"sales": 9000000, "adjustment": -300000},
                    ],
                }
            ]
        }
    )

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


SIMULATION_EXAMPLE: dict[str, Any] = {
    "units": 1000,
    "recoup_sales": 333333334,
    "matured_at_period": 2,
    "periods": [
        {
            "number": 1,
            "sales": 12000000,
            "adjustment": 0,
            "cumulative_sales": 12000000,
            "distributable_sales": 7000000,
            "below_recoup": 7000000,
            "above_recoup": 0,
            "distributable_amount": 210000,
            "per_unit": 210,
            "retained": 0,
            "success_fee": 0,
            "total_gross": 210000,
            "total_tax": 0,
            "total_net": 210000,
            "last": False,
            "holders": [
                {
                    "holder": "other investors",
                    "units": 997,
                    "gross": 209370,
                    "tax": 0,
                    "net": 209370,
                    "cumulative_gross": 209370,
                    "cumulative_tax": 0,
                    "remaining_to_recoup": 10259130,
                    "perk": None,
                },
                {
                    "holder": "スズキ イチロウ",
                    "units": 3,
                    "gross": 630,
                    "tax": 0,
                    "net": 630,
                    "cumulative_gross": 630,
                    "cumulative_tax": 0,
                    "remaining_to_recoup": 30870,
                    "perk": None,
                },
            ],
        },
        {
            "number": 2,
            "sales": 9000000,
            "adjustment": -300000,
            "cumulative_sales": 20700000,
            "distributable_sales": 3700000,
            "below_recoup": 3700000,
            "above_recoup": 0,
            "distributable_amount": 111000,
            "per_unit": 111,
            "retained": 0,
            "success_fee": 0,
            "total_gross": 111000,
            "total_tax": 0,
            "total_net": 111000,
            "last": True,
            "holders": [
                {
                    "holder": "other investors",
                    "units": 997,
                    "gross": 110667,
                    "tax": 0,
                    "net": 110667,
                    "cumulative_gross": 320037,
                    "cumulative_tax": 0,
                    "remaining_to_recoup": 10148463,
                    "perk": None,
                },
                {
                    "holder": "スズキ イチロウ",
                    "units": 3,
                    "gross": 333,
                    "tax": 0,
                    "net": 333,
                    "cumulative_gross": 963,
                    "cumulative_tax": 0,
                    "remaining_to_recoup": 30537,
                    "perk": None,
                },
            ],
        },
    ],
}
"""What ``simulate`` answers to ``SimulationIn``'s example (the terms' plan sales are reached
in period 2, so the fund matures then)."""


class SimulationOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SIMULATION_EXAMPLE]})

    units: int
    recoup_sales: int = Field(
        description="Cumulative distributable sales at which investors recoup their investment"
    )
    matured_at_period: int | None
    periods: list[PeriodOut]


class StatementLine(BaseModel):
    """One period's distribution to the investor: what it holds, gets, and has left to recoup."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "fund_name": "Hakodate Craft Brewery Fund 2027",
                    # Period 1 (from formation to 31 March) stayed below the threshold.
                    "period_number": 2,
                    "period_start": "2027-04-01",
                    "period_end": "2027-09-30",
                    "units": 3,
                    "per_unit": 210,
                    "gross": 630,
                    "tax": 0,
                    "net": 630,
                    "cumulative_gross": 630,
                    "cumulative_tax": 0,
                    "remaining_to_recoup": 30870,
                    "perk": None,
                    "declared_at": "2027-11-24T10:00:00+09:00",
                    "paid_on": "2027-12-20",
                    "payment_status": "paid",
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "investor_id": "fd717220-2d46-5093-b414-ac86a9302ddb",
                    "year": 2027,
                    "available_from": "2028-01-01",
                    "funds": [
                        {
                            "payments": 1,
                            "gross": 630,
                            "tax": 0,
                            "net": 630,
                            "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                            "fund_name": "Hakodate Craft Brewery Fund 2027",
                            "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                        }
                    ],
                    "totals": {"payments": 1, "gross": 630, "tax": 0, "net": 630},
                }
            ]
        }
    )

    investor_id: UUID
    year: int
    available_from: date = Field(description="The day the record became final (1 January after)")
    funds: list[FundPaymentsOut]
    totals: PaymentTotalsOut
