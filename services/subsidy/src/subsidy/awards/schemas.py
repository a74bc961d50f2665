"""Request and response models of awards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from subsidy.awards.rules import MAX_NOTE, AwardStatus


class RevokeIn(RequestBody):
    """Why the award is withdrawn."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"note": "The business gave up the project before its fund opened"}]
        }
    )

    note: str = Field(min_length=1, max_length=MAX_NOTE)


class AwardOut(BaseModel):
    """A grant of a programme to one business's fund."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    # K City pays 800,000 of a 900,000 fee (90 %, capped), and paid it.
                    "id": "a10d09b8-b49b-5c8f-84e6-496a22adfcd5",
                    "programme_id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
                    "programme_application_id": "5757d112-c5f9-5fd3-b6b7-69c099ee6b6a",
                    "application_id": "a5c7e9b1-3d5f-4a7b-8c9d-1e2f3a4b5c6d",
                    "fund_id": "7e1f3a5c-9b2d-4c6e-8f0a-2b4d6f8a0c13",
                    "msme_id": "d2b4f6a8-0c1e-4f3a-9b5d-7e9f1a3c5e70",
                    "municipality_code": "012068",
                    "currency": "JPY",
                    "arrangement_fee": 900000,
                    "amount": 800000,
                    "status": "paid",
                    "payment_reference": "KM5HQ2W8ZR1TB",
                    "granted_by": "k-city-officer-01",
                    "granted_at": "2015-08-10T10:00:00+09:00",
                    "revoked_by": None,
                    "revoked_at": None,
                    "revocation_note": None,
                    "lapsed_at": None,
                    "paid_at": "2015-10-20T14:05:00+09:00",
                    "value_date": "2015-10-20",
                    "deposit_id": "3f8a1c5e-7b9d-4e2f-a6c8-0d2e4f6a8b1c",
                    "repayment_due": None,
                }
            ]
        }
    )

    id: UUID
    programme_id: UUID
    programme_application_id: UUID
    application_id: UUID = Field(description="The business's onboarding application")
    fund_id: UUID
    msme_id: UUID
    municipality_code: str = Field(description="The programme's: who pays")
    currency: Literal["JPY"] = "JPY"
    arrangement_fee: int = Field(description="The fund's, yen")
    amount: int = Field(description="min(cap per award, floor(arrangement fee x coverage)), yen")
    status: AwardStatus
    payment_reference: str = Field(description="What the municipality's transfer quotes")
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    revocation_note: str | None
    lapsed_at: datetime | None
    paid_at: datetime | None = Field(description="When the municipality's transfer settled it")
    value_date: date | None
    deposit_id: UUID | None
    repayment_due: int | None = Field(
        description="What the business must pay back to the municipality (a paid award that "
        "was withdrawn), yen"
    )
