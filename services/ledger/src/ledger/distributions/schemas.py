"""Response models of distributions. Amounts are integers of the currency's minor unit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.contracts.subscription import FeeKind
from ledger.books.rules import DistributionStatus


class FeeBookedOut(BaseModel):
    """An operation or audit fee booked as receivable from the business."""

    kind: FeeKind
    fiscal_year: int = Field(description="The calendar year the fund's fiscal year ends in")
    period_number: int = Field(description="The declaration that charged it")
    amount: int


class DistributionOut(BaseModel):
    """A declared distribution as the ledger collects and pays it."""

    fund_id: UUID
    period_number: int
    status: DistributionStatus = Field(description="declared (awaiting payment), funded or paid")
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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    # Formed on 28 February 2027 with 1,000 units among 300 investors:
                    # period 1 (to 31 March) distributed nothing but charged the first fiscal
                    # year's fees; period 2 distributed 210 a unit.
                    "distributions": [
                        {
                            "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                            "period_number": 1,
                            "status": "paid",
                            "currency": "JPY",
                            "business_owes": 167534,
                            "fees_total": 167534,
                            "success_fee": 0,
                            "total_gross": 0,
                            "total_tax": 0,
                            "total_net": 0,
                            "investor_count": 300,
                            "payment_reference": "KM9TV0M4C7ZEP",
                            "payment_due": "2027-06-23",
                            "bank_id": "hokkaido-bank",
                            "batches": 1,
                            "batches_posted": 1,
                            "payout_count": 0,
                            "declared_at": "2027-05-24T10:00:00+09:00",
                            "funded_at": "2027-06-10T11:20:00+09:00",
                            "paid_at": "2027-06-10T11:20:00+09:00",
                        },
                        {
                            "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                            "period_number": 2,
                            "status": "paid",
                            "currency": "JPY",
                            "business_owes": 210000,
                            "fees_total": 0,
                            "success_fee": 0,
                            "total_gross": 210000,
                            "total_tax": 0,
                            "total_net": 210000,
                            "investor_count": 300,
                            "payment_reference": "KM3D8RW5N1KPD",
                            "payment_due": "2027-12-24",
                            "bank_id": "hokkaido-bank",
                            "batches": 1,
                            "batches_posted": 1,
                            "payout_count": 300,
                            "declared_at": "2027-11-24T10:00:00+09:00",
                            "funded_at": "2027-12-20T10:00:00+09:00",
                            "paid_at": "2027-12-20T10:00:00+09:00",
                        },
                    ],
                    "fees": [
                        {
                            "kind": "operation",
                            "fiscal_year": 2027,
                            "period_number": 1,
                            "amount": 17534,
                        },
                        {
                            "kind": "audit",
                            "fiscal_year": 2027,
                            "period_number": 1,
                            "amount": 150000,
                        },
                    ],
                }
            ]
        }
    )

    fund_id: UUID
    distributions: list[DistributionOut]
    fees: list[FeeBookedOut]
