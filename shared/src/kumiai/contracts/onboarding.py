"""Events published by the onboarding service (topic ``kumiai.onboarding.events``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, model_validator

from kumiai.events import EventPayload, registry
from kumiai.money import CurrencyCode


@registry.register
class FundOpened(EventPayload):
    """A fund's terms are final and its offering may take subscriptions from ``offering_start``.

    Subject: the fund id. Amounts are integers of the currency's minor unit.
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
    def _consistent(self) -> FundOpened:
        if self.formation_threshold_units > self.units_offered:
            raise ValueError("formation threshold exceeds units offered")
        if self.offering_end <= self.offering_start:
            raise ValueError("offering must end after it starts")
        if self.offering_start.tzinfo is None or self.offering_end.tzinfo is None:
            raise ValueError("offering window must be timezone-aware")
        return self
