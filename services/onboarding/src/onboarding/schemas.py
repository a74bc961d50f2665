"""Onboarding's request and response models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kumiai.money import CurrencyCode


class FundTermsIn(BaseModel):
    """Terms of a fund to publish. Amounts are integers of the currency's minor unit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "msme_id": "6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11",
                    "name": "Hokkaido craft brewery: new fermentation tanks",
                    "currency": "JPY",
                    "unit_price": 10000,
                    "handling_fee_per_unit": 500,
                    "units_offered": 1000,
                    "formation_threshold_units": 300,
                    "max_units_per_investor": 50,
                    "offering_start": "2026-12-01T10:00:00+09:00",
                    "offering_end": "2027-01-31T23:59:59+09:00",
                }
            ]
        },
    )

    msme_id: UUID
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode = "JPY"
    unit_price: int = Field(gt=0)
    handling_fee_per_unit: int = Field(ge=0)
    units_offered: int = Field(gt=0, le=10_000_000)
    formation_threshold_units: int = Field(gt=0)
    max_units_per_investor: int = Field(gt=0)
    offering_start: AwareDatetime
    offering_end: AwareDatetime


class FundOut(BaseModel):
    """A published fund."""

    id: UUID
    msme_id: UUID
    name: str
    currency: str
    unit_price: int
    handling_fee_per_unit: int
    units_offered: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime
    target_amount: int = Field(description="unit_price x units_offered")
    status: str
    published_at: datetime | None = None
