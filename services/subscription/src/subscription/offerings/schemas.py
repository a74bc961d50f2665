"""Request and response models of offerings. Amounts are integers of minor units."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.inputs import RequestBody
from subscription.offerings.rules import OfferingPhase


class OfferingOut(BaseModel):
    """A fund on offer and its public progress."""

    fund_id: UUID
    msme_id: UUID
    name: str
    currency: str
    unit_price: int = Field(description="Minor units")
    handling_fee_per_unit: int
    donation_per_unit: int = Field(description="Part of the unit price never repaid")
    price_per_unit_with_fee: int
    units_offered: int
    units_sold: int = Field(description="Units reserved or paid")
    units_confirmed: int = Field(description="Units paid for")
    investors: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime
    terms_digest: str | None = Field(description="Acknowledge it when subscribing")
    status: str = Field(description="open, closed_succeeded, closed_failed or cancelled")
    phase: OfferingPhase
    days_left: int


class OfferingCancelIn(RequestBody):
    reason: str = Field(min_length=3, max_length=500)
