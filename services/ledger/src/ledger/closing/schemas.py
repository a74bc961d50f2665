"""Response models of closing. Amounts are integers of the currency's minor unit."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field


class SegregationReportOut(BaseModel):
    """A fund's escrow: what came in, what went out and why, and what is left."""

    fund_id: UUID
    status: str = Field(description="open, released, closed_failed, release_held")
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
