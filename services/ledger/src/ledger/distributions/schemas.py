"""Response models of distributions. Amounts are integers of the currency's minor unit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field


class FeeBookedOut(BaseModel):
    """An operation or audit fee booked as receivable from the business."""

    kind: str = Field(description="operation or audit")
    fiscal_year: int = Field(description="The calendar year the fund's fiscal year ends in")
    period_number: int = Field(description="The declaration that charged it")
    amount: int


class DistributionOut(BaseModel):
    """A declared distribution as the ledger collects and pays it."""

    fund_id: UUID
    period_number: int
    status: str = Field(description="declared (awaiting payment), funded or paid")
    currency: str
    business_owes: int = Field(description="fees_total + total_gross + success_fee")
    fees_total: int
    success_fee: int
    total_gross: int
    total_tax: int
    total_net: int
    investor_count: int
    payment_reference: str | None = Field(description="To quote on the business's transfer")
    payment_due: date | None
    bank_id: str | None = Field(description="The bank the business paid through")
    batches: int
    batches_posted: int
    payout_count: int
    declared_at: datetime
    funded_at: datetime | None
    paid_at: datetime | None


class FundDistributionsOut(BaseModel):
    """A fund's distributions and the fees booked over its term."""

    fund_id: UUID
    distributions: list[DistributionOut]
    fees: list[FeeBookedOut]
