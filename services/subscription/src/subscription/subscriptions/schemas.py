"""Request and response models of subscriptions and the investor's "My page".

Amounts are integers of minor units.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.contracts.ledger import RefundReason
from kumiai.inputs import RequestBody, StrictInt
from subscription.subscriptions.rules import SubscriptionStatus


class SubscriptionIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "units": 3,
                    "terms_digest": (
                        "ec54a52a2474c58de57d99570af5547e08d29abec4e108d10401329e5f7e1746"
                    ),
                }
            ]
        }
    )

    units: StrictInt = Field(gt=0, le=100_000, description="A JSON integer")
    terms_digest: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[0-9a-f]{64}$",
        description="The offering's terms_digest: the investor acknowledges these terms",
    )


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "67a57697-7037-5fb0-8ffe-4591a60ef42c",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "investor_id": "fd717220-2d46-5093-b414-ac86a9302ddb",
                    "units": 3,
                    "unit_price": 10000,
                    "handling_fee_per_unit": 500,
                    "amount_due": 31500,
                    "currency": "JPY",
                    "payment_reference": "KM7Q2XH9A4B61",
                    "payment_deadline": "2027-01-19T10:15:00+09:00",
                    "cooling_off_until": "2027-01-20T00:00:00+09:00",
                    "status": "confirmed",
                    "amount_paid": 31500,
                    "cancel_reason": None,
                    "refund_reason": None,
                    "placed_at": "2027-01-12T10:15:00+09:00",
                    "confirmed_at": "2027-01-13T09:02:00+09:00",
                    "cancelled_at": None,
                    "refunded_at": None,
                }
            ]
        }
    )

    id: UUID
    fund_id: UUID
    investor_id: UUID
    units: int
    unit_price: int
    handling_fee_per_unit: int
    amount_due: int = Field(description="units x (unit_price + handling_fee_per_unit)")
    currency: str
    payment_reference: str = Field(description="Quote it on the bank transfer")
    payment_deadline: datetime
    cooling_off_until: datetime
    status: SubscriptionStatus
    amount_paid: int | None
    cancel_reason: str | None
    refund_reason: RefundReason | None = Field(description="Set when the status is refunded")
    placed_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None


class CancelIn(RequestBody):
    note: str | None = Field(default=None, max_length=500)


class HoldingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "fund_name": "Hakodate Craft Brewery Fund 2027",
                    "units": 3,
                    "amount_paid": 31500,
                    "frozen": False,
                }
            ]
        }
    )

    fund_id: UUID
    fund_name: str
    units: int
    amount_paid: int
    frozen: bool = Field(description="The fund formed; the register is final")
