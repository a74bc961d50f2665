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
        json_schema_extra={"examples": [{"note": "Confirmed with the business by phone"}]}
    )

    note: str = Field(min_length=1, max_length=MAX_NOTE)


class AwardOut(BaseModel):
    """A grant of a programme to one business's fund."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "programme_id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
                    "programme_application_id": "5757d112-c5f9-5fd3-b6b7-69c099ee6b6a",
                    "application_id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "municipality_code": "012025",
                    "currency": "JPY",
                    "arrangement_fee": 900000,
                    "amount": 10000,
                    "status": "granted",
                    "payment_reference": "KM7Q2XH9A4",
                    "granted_by": "staff-0001",
                    "granted_at": "2026-11-20T10:15:00+09:00",
                    "revoked_by": None,
                    "revoked_at": None,
                    "revocation_note": None,
                    "lapsed_at": None,
                    "paid_at": "2026-11-20T10:15:00+09:00",
                    "value_date": "2026-11-20",
                    "deposit_id": None,
                    "repayment_due": 1000000,
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
