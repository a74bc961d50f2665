"""Subscription's response models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from subscription.domain.offerings import OfferingPhase


class OfferingOut(BaseModel):
    """A fund on offer and its public progress."""

    fund_id: UUID
    msme_id: UUID
    name: str
    currency: str
    unit_price: int = Field(description="Minor units")
    handling_fee_per_unit: int
    price_per_unit_with_fee: int
    units_offered: int
    units_sold: int
    investors: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime
    phase: OfferingPhase
    days_left: int


class OfferingPage(BaseModel):
    items: list[OfferingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
