"""Response models of closing. Amounts are integers of the currency's minor unit."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ledger.books.rules import FundStatus


class SegregationReportOut(BaseModel):
    """A fund's escrow: what came in, what went out and why, and what is left."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                # 1,000 units of 10,500 released, 2 units refunded in cooling-off; fees
                # due: handling 500,000 and arrangement 900,000, no municipal grant:
                # paid_in = refunded + released_to_business + fees + balance.
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "status": "released",
                    "status_reason": None,
                    "currency": "JPY",
                    "paid_in": 10521000,
                    "refunded": 21000,
                    "released_to_business": 9100000,
                    "fees": 1400000,
                    "subsidy": 0,
                    "reversals_net": 0,
                    "balance": 0,
                    "agrees_with_postings": True,
                }
            ]
        }
    )

    fund_id: UUID
    status: FundStatus = Field(description="open, formed, released, closed_failed, release_held")
    status_reason: str | None
    currency: str
    paid_in: int
    refunded: int
    released_to_business: int
    fees: int = Field(description="Fees the business paid out of its escrow at the release")
    subsidy: int = Field(
        description="The municipality's share of the arrangement fee, booked at the release as "
        "owed by it instead of taken from the escrow"
    )
    reversals_net: int
    balance: int
    agrees_with_postings: bool = Field(
        description="The running totals equal the sum of the escrow's postings"
    )
