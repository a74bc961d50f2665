"""Request and response models of awards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.inputs import RequestBody
from subsidy.awards.rules import MAX_NOTE, AwardStatus


class RevokeIn(RequestBody):
    """Why the award is withdrawn."""

    note: str = Field(min_length=1, max_length=MAX_NOTE)


class AwardOut(BaseModel):
    """A grant of a programme to one business's fund."""

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
