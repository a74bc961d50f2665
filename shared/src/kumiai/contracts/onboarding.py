"""Events published by the onboarding service (topic ``kumiai.onboarding.events``).

No event carries personal data: people's names, phone numbers, e-mail or home
addresses stay in the onboarding database. Amounts are integers of the
currency's minor unit; rates are parts per million (3 % is 30000).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict, model_validator

from kumiai.events import EventPayload, registry
from kumiai.inputs import MAX_AMOUNT, StrictInt
from kumiai.money import CurrencyCode

Ppm = Annotated[
    int, Strict(), Field(ge=0, le=1_000_000, description="Parts per million: 3 % is 30000")
]
Yen = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT, description="Minor units")]


@registry.register
class FundOpenedV1(EventPayload):
    """A fund's terms are final and its offering may take subscriptions from ``offering_start``.

    Subject: the fund id. Superseded by ``FundOpened`` v2, which carries every
    term; consumers still accept v1 for events published before it.
    """

    event_type = "FundOpened"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode = "JPY"
    unit_price: int = Field(gt=0, description="Price of one unit, minor units")
    handling_fee_per_unit: int = Field(ge=0, description="Fee per unit on top of the price")
    units_offered: int = Field(gt=0, description="Upper limit of units on sale")
    formation_threshold_units: int = Field(
        gt=0, description="Units that must be confirmed for the fund to form"
    )
    max_units_per_investor: int = Field(gt=0)
    offering_start: datetime
    offering_end: datetime

    @model_validator(mode="after")
    def _consistent(self) -> FundOpenedV1:
        if self.formation_threshold_units > self.units_offered:
            raise ValueError("formation threshold exceeds units offered")
        if self.offering_end <= self.offering_start:
            raise ValueError("offering must end after it starts")
        if self.offering_start.tzinfo is None or self.offering_end.tzinfo is None:
            raise ValueError("offering window must be timezone-aware")
        return self


class _Terms(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Settlement(_Terms):
    """When the business reports sales and distributions are computed."""

    fiscal_year_end_month: StrictInt = Field(ge=1, le=12)
    periods_per_year: StrictInt = Field(ge=1, le=2, description="1: yearly, 2: half-yearly")


class RevenueShareV2(_Terms):
    """How distributions follow sales (``FundOpened`` v2: the threshold is per period)."""

    rate_before_recoup_ppm: Ppm
    rate_after_recoup_ppm: Ppm
    sales_threshold: Yen | None = Field(
        default=None,
        description="Sales below which nothing is distributed: each period's, or cumulative "
        "sales (FundOpened v3 threshold_basis)",
    )
    plan_sales: Yen | None = Field(
        default=None, gt=0, description="Cumulative sales of the business plan"
    )
    early_termination_at_plan_sales: bool = Field(
        default=False, description="The fund ends once cumulative sales reach plan_sales"
    )


class ThresholdBasis(StrEnum):
    """What the sales threshold applies to."""

    PER_PERIOD = "per_period"
    """Each period's sales: nothing is distributed of a period below the threshold."""
    CUMULATIVE = "cumulative"
    """Cumulative sales: only the part of cumulative sales above it is distributed."""


class RevenueShare(RevenueShareV2):
    """How distributions follow sales: one rate until recoup, another after it, nothing
    below the sales threshold (per period or on cumulative sales)."""

    threshold_basis: ThresholdBasis = Field(
        default=ThresholdBasis.PER_PERIOD,
        description="Whether sales_threshold applies per period or to cumulative sales",
    )


class FundFees(_Terms):
    """What the business pays the operator (DOMAIN.md, "Fees")."""

    arrangement_fee: Yen = Field(description="One-off; deducted from escrow at release")
    operation_fee_rate_ppm: Ppm = Field(description="Per year, on the amount raised")
    audit_fee_first_year: Yen
    audit_fee_later_years: Yen
    success_fee_rate_ppm: Ppm = Field(description="On sales beyond the investors' recoup")


@registry.register
class FundOpenedV2(EventPayload):
    """A fund's terms are final and its offering may take subscriptions from ``offering_start``.

    Subject: the fund id. ``unit_price`` includes ``donation_per_unit`` (hybrid
    funds); the handling fee is paid on top of the unit price. Superseded by
    ``FundOpened`` v3, whose revenue share says whether the sales threshold applies
    per period or to cumulative sales (v2: per period); consumers accept both.
    """

    event_type = "FundOpened"
    schema_version = 2

    fund_id: UUID
    msme_id: UUID
    application_id: UUID
    name: str = Field(min_length=1, max_length=200)
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    currency: CurrencyCode = "JPY"
    unit_price: int = Field(gt=0)
    handling_fee_per_unit: int = Field(ge=0)
    donation_per_unit: int = Field(ge=0, description="Part of the unit price never repaid")
    units_offered: int = Field(gt=0)
    formation_threshold_units: int = Field(gt=0)
    max_units_per_investor: int = Field(gt=0)
    offering_start: AwareDatetime
    offering_end: AwareDatetime
    term_months: int = Field(gt=0)
    settlement: Settlement
    revenue_share: RevenueShareV2
    fees: FundFees
    perks_per_unit: str | None = Field(default=None, max_length=500)
    subordinated: bool = Field(description="Investors rank after other creditors")
    terms_digest: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the frozen terms; what an investor acknowledges",
    )

    @model_validator(mode="after")
    def _consistent(self) -> FundOpenedV2:
        if self.formation_threshold_units > self.units_offered:
            raise ValueError("formation threshold exceeds units offered")
        if self.max_units_per_investor > self.units_offered:
            raise ValueError("maximum per investor exceeds units offered")
        if self.donation_per_unit >= self.unit_price:
            raise ValueError("the donation part must leave an investment part")
        if self.offering_end <= self.offering_start:
            raise ValueError("offering must end after it starts")
        if self.fees.arrangement_fee > self.formation_threshold_units * self.unit_price:
            raise ValueError("the arrangement fee exceeds what a formed fund raises at least")
        return self


@registry.register
class FundOpened(FundOpenedV2):
    """A fund's terms are final and its offering may take subscriptions from ``offering_start``.

    Subject: the fund id. ``unit_price`` includes ``donation_per_unit`` (hybrid
    funds); the handling fee is paid on top of the unit price; the revenue share
    says whether its sales threshold applies per period or to cumulative sales.
    """

    event_type = "FundOpened"
    schema_version = 3

    revenue_share: RevenueShare


AnyFundOpened = FundOpenedV1 | FundOpenedV2 | FundOpened
"""What a consumer of ``FundOpened`` accepts while older events may still be replayed
(``FundOpened`` is a ``FundOpenedV2`` with more: test for the terms with ``FundOpenedV2``)."""


@registry.register
class FundCancelled(EventPayload):
    """Staff cancelled a fund before its offering opened. Subject: the fund id."""

    event_type = "FundCancelled"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    application_id: UUID
    reason: str = Field(min_length=1, max_length=500)
    cancelled_at: AwareDatetime


@registry.register
class MsmeRegistered(EventPayload):
    """A business was registered on the platform. Subject: the MSME id.

    Only public business facts: the Corporate Number and company name are
    published by the National Tax Agency.
    """

    event_type = "MsmeRegistered"
    schema_version = 1

    msme_id: UUID
    corporate_number: str = Field(pattern=r"^[0-9]{13}$")
    company_name: str = Field(min_length=1, max_length=200)
    prefecture_code: str = Field(pattern=r"^[0-9]{2}$")
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    industry: str = Field(pattern=r"^[A-T]$", description="JSIC major division")
    referred_by_bank: str | None = Field(default=None, description="Partner bank id, if referred")
    registered_at: AwareDatetime


class Referrer(StrEnum):
    """Who introduced an application (the screening's partner introduction)."""

    BANK = "bank"
    MUNICIPALITY = "municipality"


@registry.register
class ApplicationSubmitted(EventPayload):
    """A business applied to raise money for a project. Subject: the application id."""

    event_type = "ApplicationSubmitted"
    schema_version = 1

    application_id: UUID
    msme_id: UUID
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    amount_sought: int = Field(gt=0)
    currency: CurrencyCode = "JPY"
    referred_by: Referrer | None = None
    referrer_id: str | None = Field(default=None, description="Bank id or municipality code")
    submitted_at: AwareDatetime


class ApplicationOutcome(StrEnum):
    APPROVED = "approved"
    """The investment committee approved it; the fund may be designed."""
    REJECTED = "rejected"
    """Refused at a screening step or by the committee."""
    WITHDRAWN = "withdrawn"
    """The business (or staff on its behalf) withdrew it."""


@registry.register
class ApplicationDecided(EventPayload):
    """An application was approved, rejected or withdrawn. Subject: the application id."""

    event_type = "ApplicationDecided"
    schema_version = 1

    application_id: UUID
    msme_id: UUID
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    outcome: ApplicationOutcome
    at_step: str = Field(description="The pipeline step the application was in")
    decided_at: AwareDatetime


class PartnerKind(StrEnum):
    """The partners that call the platform with tokens of their own."""

    BANK = "bank"
    MUNICIPALITY = "municipality"


class PartnerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Its tokens are refused until staff reinstate it."""


PARTNER_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
"""A partner's id, the tenant of its tokens: a slug such as ``hokkaido-bank``, or for
a municipality its six-digit local government code."""


@registry.register
class PartnerRegistered(EventPayload):
    """Staff registered a partner bank or municipality; its tokens are accepted from now.

    Subject: the partner id. Organisations only: no person's data.
    """

    event_type = "PartnerRegistered"
    schema_version = 1

    partner_id: str = Field(pattern=PARTNER_ID)
    kind: PartnerKind
    name: str = Field(min_length=1, max_length=200)
    zengin_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$", description="Banks")
    registered_at: AwareDatetime


@registry.register
class PartnerStatusChanged(EventPayload):
    """Staff suspended or reinstated a partner. Subject: the partner id."""

    event_type = "PartnerStatusChanged"
    schema_version = 1

    partner_id: str = Field(pattern=PARTNER_ID)
    kind: PartnerKind
    status: PartnerStatus
    reason: str = Field(min_length=1, max_length=500)
    changed_at: AwareDatetime
