"""Request and response models of deposits. Amounts are integers of the currency's minor
unit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import Amount, Day, RequestBody
from kumiai.money import CurrencyCode
from ledger.deposits.rules import DepositStatus


class DepositIn(RequestBody):
    """A credit a partner bank received into the platform's account."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bank_transaction_id": "20270113-000123",
                    "amount": 31500,
                    "currency": "JPY",
                    "value_date": "2027-01-13",
                    "payment_reference": "KM7Q2XH9A4B61",
                }
            ]
        },
    )

    bank_transaction_id: str = Field(
        min_length=1, max_length=100, description="The bank's own id; reporting it again is safe"
    )
    amount: Amount
    currency: CurrencyCode = "JPY"
    value_date: Day = Field(
        description="Day the bank booked the credit: from a year ago to tomorrow, Japan time"
    )
    payment_reference: str = Field(min_length=1, max_length=64, description="As the payer wrote it")


class DepositOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "bank_id": "hokkaido-bank",
                    "bank_transaction_id": "20270113-000123",
                    "amount": 31500,
                    "currency": "JPY",
                    "value_date": "2027-01-13",
                    "payment_reference": "KM7Q2XH9A4B61",
                    "status": "matched",
                    "reason": None,
                    "subscription_id": "67a57697-7037-5fb0-8ffe-4591a60ef42c",
                    "entry_id": "d373ebb2-7272-5cc3-a540-b88a6b854ca9",
                    "created_at": "2027-01-13T09:01:00+09:00",
                }
            ]
        }
    )

    id: UUID
    bank_id: str
    bank_transaction_id: str
    amount: int
    currency: str
    value_date: date
    payment_reference: str
    status: DepositStatus = Field(description="suspense: awaiting staff (or its payment)")
    reason: str | None = Field(description="Why it is in suspense")
    subscription_id: UUID | None
    entry_id: UUID
    created_at: datetime


class SuspenseMatchIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscription_id": "67a57697-7037-5fb0-8ffe-4591a60ef42c",
                    "note": "The investor left out the reference's check character; amount "
                    "and name agree",
                }
            ]
        }
    )

    subscription_id: UUID
    note: str = Field(min_length=3, max_length=500, description="Why staff matched it")
