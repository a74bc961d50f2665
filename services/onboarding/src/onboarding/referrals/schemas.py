"""Response models of a partner bank's referrals: the businesses it referred, where their
latest application stands, and each fund with its capital-like debt (ECLDB) eligibility."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.money import CurrencyCode
from onboarding.applications.rules import Step
from onboarding.funds.rules import FundStatus
from onboarding.referrals.rules import Eligibility, ReasonCode


class ReasonOut(BaseModel):
    """One condition of capital-like debt and how the fund stands on it."""

    code: ReasonCode
    met: bool = Field(description="Whether the condition is met")
    text: str


class EcldbOut(BaseModel):
    """Whether the fund may count as capital-like debt (資本性借入金) at the reporting date.

    A screening aid, not legal advice: the bank decides under the Financial Services
    Agency's conditions and the contract.
    """

    eligible: bool
    reasons: list[ReasonOut] = Field(description="One per condition, the unmet ones first")


class ReferredFundOut(BaseModel):
    id: UUID
    name: str
    status: FundStatus
    amount_raised: int | None = Field(
        description="Minor units (yen) raised when the offering closed; null until then"
    )
    currency: CurrencyCode
    term_months: int = Field(description="The term in months, running from formation")
    formed_on: date | None = Field(
        description="The day (Japan) the offering closed with its threshold reached"
    )
    term_ends_on: date | None = Field(description="formed_on + term_months calendar months")
    remaining_term_months: int | None = Field(
        description="Whole months of the term left at the reporting date, rounded down"
    )
    subordinated: bool = Field(description="Investors rank after other creditors")
    ecldb: EcldbOut


class LatestApplicationOut(BaseModel):
    """The business's latest application: where it stands in the pipeline."""

    id: UUID
    step: Step
    step_entered_at: datetime


REFERRAL_EXAMPLE: dict[str, Any] = {
    "msme_id": "0b1e5d3c-6a8f-4c2e-9f7d-1a2b3c4d5e6f",
    "company_name": "Hakodate Craft Brewery Co., Ltd.",
    "corporate_number": "7000012050002",
    "municipality_code": "012025",
    "latest_application": {
        "id": "3c9a7e52-8d41-4f0b-9a6e-2b5d7c1e8f30",
        "step": "ready",
        "step_entered_at": "2026-09-01T01:00:00Z",
    },
    "funds": [
        {
            "id": "5d2f8a61-7c3b-4e9d-8f1a-6b4c2e7d9a10",
            "name": "Craft brewery: new fermentation tanks",
            "status": "closed_succeeded",
            "amount_raised": 8_000_000,
            "currency": "JPY",
            "term_months": 72,
            "formed_on": "2026-10-15",
            "term_ends_on": "2032-10-15",
            "remaining_term_months": 70,
            "subordinated": True,
            "ecldb": {
                "eligible": True,
                "reasons": [
                    {
                        "code": "formed",
                        "met": True,
                        "text": "the fund formed on 2026-10-15",
                    },
                    {
                        "code": "long_term",
                        "met": True,
                        "text": "70 whole months of its 72-month term remain on 2026-11-29 "
                        "(it ends on 2032-10-15); over 60 months (five years)",
                    },
                    {
                        "code": "subordinated",
                        "met": True,
                        "text": "investors rank after other creditors in bankruptcy",
                    },
                    {
                        "code": "performance_linked",
                        "met": True,
                        "text": "returns are a share of the business's sales: low when the "
                        "business does badly",
                    },
                    {
                        "code": "no_collateral",
                        "met": True,
                        "text": "investors hold no collateral from the business",
                    },
                ],
            },
        }
    ],
}


EXAMPLE_DATE = date(2026, 11, 29)
"""The reporting date of the example (its remaining months count from it)."""


class ReferralOut(BaseModel):
    """A business the bank referred: who it is, its latest application and its funds."""

    model_config = ConfigDict(json_schema_extra={"examples": [REFERRAL_EXAMPLE]})

    msme_id: UUID
    company_name: str
    corporate_number: str = Field(description="13 digits, check digit first")
    municipality_code: str = Field(description="Local government code, six digits")
    latest_application: LatestApplicationOut | None = Field(
        description="Null while the business has applied for nothing"
    )
    funds: list[ReferredFundOut] = Field(description="Oldest first")


def ecldb_out(eligibility: Eligibility) -> EcldbOut:
    """Eligibility as the API answers it."""
    return EcldbOut(
        eligible=eligibility.eligible,
        reasons=[ReasonOut(code=r.code, met=r.met, text=r.text) for r in eligibility.reasons],
    )
