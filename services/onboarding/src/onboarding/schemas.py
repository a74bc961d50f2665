"""Onboarding's request and response models. Amounts are integers of minor units."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from kumiai.contracts.onboarding import PARTNER_ID, PartnerKind, PartnerStatus
from kumiai.inputs import Amount, RequestBody
from kumiai.money import CurrencyCode
from onboarding.domain.funds import FundStatus, FundTerms
from onboarding.domain.pipeline import Step, Vote

# -- MSMEs -------------------------------------------------------------------------------


class MsmeIn(RequestBody):
    """A business registering on the platform (by itself, by staff, or referred by a bank)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "corporate_number": "7000012050002",
                    "company_name": "Hakodate Craft Brewery Co., Ltd.",
                    "prefecture_code": "01",
                    "municipality_code": "012025",
                    "industry": "E",
                    "head_office_address": "1-2-3 Motomachi, Hakodate, Hokkaido",
                    "representative_name": "Taro Yamada",
                    "contact_name": "Hanako Sato",
                    "contact_email": "finance@example.jp",
                    "contact_phone": "+81-138-00-0000",
                }
            ]
        },
    )

    corporate_number: str = Field(max_length=13, description="13 digits, check digit first")
    company_name: str = Field(min_length=1, max_length=200)
    prefecture_code: str = Field(max_length=2, description="JIS X 0401, two digits")
    municipality_code: str = Field(max_length=6, description="Local government code, six digits")
    industry: str = Field(max_length=1, description="JSIC major division, A-T")
    head_office_address: str = Field(min_length=3, max_length=300)
    representative_name: str = Field(min_length=1, max_length=100, description="Personal data")
    contact_name: str = Field(min_length=1, max_length=100, description="Personal data")
    contact_email: EmailStr = Field(max_length=254, description="Personal data")
    contact_phone: str = Field(
        max_length=20, pattern=r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$", description="Personal data"
    )


class MsmeContactOut(BaseModel):
    """Personal data: shown to the business itself and to staff only."""

    representative_name: str
    contact_name: str
    contact_email: str
    contact_phone: str


class MsmeOut(BaseModel):
    id: UUID
    corporate_number: str
    company_name: str
    prefecture_code: str
    prefecture_name: str
    municipality_code: str
    industry: str
    head_office_address: str
    referred_by_bank: str | None
    created_at: datetime
    contact: MsmeContactOut | None = Field(
        description="Personal data; null for partner banks", default=None
    )


# -- Applications ------------------------------------------------------------------------


class ApplicationIn(RequestBody):
    purpose: str = Field(min_length=3, max_length=500, description="The project to fund")
    amount_sought: Amount
    currency: CurrencyCode = Field(default="JPY", max_length=3)
    use_of_funds: str = Field(min_length=3, max_length=2_000)
    business_plan_summary: str = Field(min_length=3, max_length=5_000)
    municipality_code: str = Field(
        max_length=6, description="The municipality the project belongs to"
    )
    introduced_by_municipality: bool = Field(
        default=False,
        description="Staff only: the municipality introduced the business (partner introduction)",
    )


class StepOut(BaseModel):
    from_step: Step | None
    to_step: Step
    actor: str
    actor_role: str
    note: str
    at: datetime


class VoteOut(BaseModel):
    member: str
    vote: Vote
    reason: str
    at: datetime


class ApplicationOut(BaseModel):
    id: UUID
    msme_id: UUID
    purpose: str
    amount_sought: int
    currency: str
    use_of_funds: str
    business_plan_summary: str
    municipality_code: str
    referred_by: str | None = Field(description="bank or municipality, when introduced")
    referrer_id: str | None
    step: Step
    step_entered_at: datetime
    target_days: int | None = Field(description="Target days for the current step")
    overdue_days: int | None = Field(description="Days past the step's target, if late")
    allowed_moves: list[Step]
    missing_documents: list[str]
    created_at: datetime
    history: list[StepOut] | None = Field(default=None, description="In the detailed view")
    committee_votes: list[VoteOut] | None = Field(default=None, description="Detailed view")


class TransitionIn(RequestBody):
    to: Step
    note: str = Field(min_length=3, max_length=2_000, description="What happened, in words")


class VoteIn(RequestBody):
    member: str = Field(min_length=1, max_length=100)
    vote: Vote
    reason: str = Field(min_length=3, max_length=2_000)


class DecisionIn(RequestBody):
    """The investment committee's votes; the outcome follows from them."""

    votes: list[VoteIn] = Field(min_length=1, max_length=50)
    note: str = Field(min_length=3, max_length=2_000)


# -- Documents ---------------------------------------------------------------------------


class DocumentOut(BaseModel):
    id: UUID
    kind: str
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str
    review_reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    uploaded_by: str
    uploaded_at: datetime


class ChecklistItemOut(BaseModel):
    kind: str
    title: str
    required: bool
    current: DocumentOut | None = Field(description="The latest version, if any")


class ChecklistOut(BaseModel):
    items: list[ChecklistItemOut]
    missing: list[str] = Field(description="Required kinds not yet accepted")
    complete: bool


class ReviewIn(RequestBody):
    decision: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None, max_length=2_000, description="Required when rejecting"
    )


# -- Funds -------------------------------------------------------------------------------


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


# -- Partners ----------------------------------------------------------------------------


class PartnerIn(RequestBody):
    """A partner bank or municipality whose tokens the platform will accept."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "hokkaido-bank",
                    "kind": "bank",
                    "name": "Hokkaido Bank",
                    "zengin_code": "0116",
                },
                {"partner_id": "012025", "kind": "municipality", "name": "Hakodate City"},
            ]
        }
    )

    partner_id: str = Field(
        min_length=2,
        max_length=63,
        pattern=PARTNER_ID,
        description="The tenant its tokens carry: a bank's slug, a municipality's "
        "six-digit local government code",
    )
    kind: PartnerKind
    name: str = Field(min_length=1, max_length=200)
    zengin_code: str | None = Field(
        default=None, max_length=4, description="Banks only: the four-digit Zengin bank code"
    )


class PartnerStatusIn(RequestBody):
    reason: str = Field(
        min_length=3, max_length=500, description="Why; kept in the audit trail and the event"
    )


class PartnerOut(BaseModel):
    partner_id: str
    kind: PartnerKind
    name: str
    zengin_code: str | None
    status: PartnerStatus
    version: int = Field(description="Sequence of the last event about this partner")
    registered_at: datetime


# -- Audit -------------------------------------------------------------------------------


class AuditEntity(StrEnum):
    MSME = "msme"
    APPLICATION = "application"
    FUND = "fund"
    PARTNER = "partner"


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any]
