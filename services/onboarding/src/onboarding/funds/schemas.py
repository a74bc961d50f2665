"""Request and response models of funds (the terms themselves are ``rules.FundTerms``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from onboarding.funds.rules import FundStatus, FundTerms

TERMS_EXAMPLE: dict[str, Any] = {
    "name": "Hakodate Craft Brewery Fund 2027",
    "currency": "JPY",
    "unit_price": 10000,
    "handling_fee_per_unit": 500,
    "donation_per_unit": 0,
    "units_offered": 1000,
    "formation_threshold_units": 500,
    "max_units_per_investor": 50,
    "offering_start": "2027-01-10T10:00:00+09:00",
    "offering_end": "2027-02-28T23:59:59+09:00",
    "term_months": 36,
    "settlement": {"fiscal_year_end_month": 3, "periods_per_year": 2},
    "revenue_share": {
        "rate_before_recoup_ppm": 30000,
        "rate_after_recoup_ppm": 10000,
        "sales_threshold": 5000000,
        "plan_sales": 15000000,
        "early_termination_at_plan_sales": True,
        "threshold_basis": "per_period",
    },
    "fees": {
        "arrangement_fee": 900000,
        "operation_fee_rate_ppm": 20000,
        "audit_fee_first_year": 150000,
        "audit_fee_later_years": 100000,
        "success_fee_rate_ppm": 80000,
    },
    "perks_per_unit": None,
    "subordinated": False,
}
"""The terms of a realistic fund: JPY 10,000 units, the arrangement fee 900,000."""


class FundIn(RequestBody):
    """A fund designed for an approved application; editable until published."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "terms": TERMS_EXAMPLE,
                }
            ]
        }
    )

    application_id: UUID
    terms: FundTerms


class EligibilityOut(BaseModel):
    eligible: bool
    reasons: list[str]


class FundOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "application_id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "status": "open",
                    "terms": TERMS_EXAMPLE,
                    "target_amount": 10000000,
                    "investment_per_unit": 10000,
                    "capital_like_debt": {
                        "eligible": False,
                        "reasons": [
                            "term of 36 months is not over five years",
                            "returns follow the business's sales",
                            "investors are not subordinated",
                        ],
                    },
                    # FundTerms(**TERMS_EXAMPLE).digest()
                    "terms_digest": (
                        "ec54a52a2474c58de57d99570af5547e08d29abec4e108d10401329e5f7e1746"
                    ),
                    "amount_raised": None,
                    "status_reason": None,
                    "created_at": "2026-11-25T13:40:00+09:00",
                    "published_at": "2027-01-05T11:00:00+09:00",
                    "opened_at": "2027-01-10T10:00:00+09:00",
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "The business postponed the project to next year"}]
        }
    )

    reason: str = Field(min_length=3, max_length=500)
