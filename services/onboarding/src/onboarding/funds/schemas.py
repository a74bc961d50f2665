"""Request and response models of funds (the terms themselves are ``rules.FundTerms``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.inputs import RequestBody
from onboarding.funds.rules import FundStatus, FundTerms


class FundIn(RequestBody):
    """A fund designed for an approved application; editable until published."""

    application_id: UUID
    terms: FundTerms


class EligibilityOut(BaseModel):
    eligible: bool
    reasons: list[str]


class FundOut(BaseModel):
    id: UUID
    application_id: UUID
    msme_id: UUID
    status: FundStatus
    terms: FundTerms
    target_amount: int = Field(description="unit_price x units_offered")
    investment_per_unit: int = Field(description="unit_price less the donation part")
    capital_like_debt: EligibilityOut
    terms_digest: str | None = Field(description="Set when published")
    amount_raised: int | None
    status_reason: str | None
    created_at: datetime
    published_at: datetime | None
    opened_at: datetime | None


class CancelIn(RequestBody):
    reason: str = Field(min_length=3, max_length=500)
