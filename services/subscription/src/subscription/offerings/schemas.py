"""Request and response models of offerings. Amounts are integers of minor units."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from subscription.offerings.rules import OfferingPhase, OfferingStatus


class OfferingOut(BaseModel):
    """A fund on offer and its public progress."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "name": "Hakodate Craft Brewery Fund 2027",
                    "currency": "JPY",
                    "unit_price": 10000,
                    "handling_fee_per_unit": 500,
                    "donation_per_unit": 0,
                    "price_per_unit_with_fee": 10500,
                    "units_offered": 1000,
                    "units_sold": 640,
                    "units_confirmed": 600,
                    "investors": 214,
                    "formation_threshold_units": 500,
                    "max_units_per_investor": 50,
                    "offering_start": "2027-01-10T10:00:00+09:00",
                    "offering_end": "2027-02-28T23:59:59+09:00",
                    "terms_digest": (
                        "ec54a52a2474c58de57d99570af5547e08d29abec4e108d10401329e5f7e1746"
                    ),
                    "status": "open",
                    "phase": "open",
                    "days_left": 12,
                }
            ]
        }
    )

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
    status: OfferingStatus = Field(description="open, closed_succeeded, closed_failed or cancelled")
    phase: OfferingPhase
    days_left: int


class OfferingCancelIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "The business withdrew the project during the offering"}]
        }
    )

    reason: str = Field(min_length=3, max_length=500)
