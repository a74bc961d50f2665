"""Request and response models of subscriptions and the investor's "My page".

Amounts are integers of minor units.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.contracts.ledger import RefundReason
from kumiai.inputs import RequestBody, StrictInt
from subscription.subscriptions.rules import SubscriptionStatus


class SubscriptionIn(RequestBody):
    units: StrictInt = Field(gt=0, le=100_000, description="A JSON integer")
    terms_digest: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[0-9a-f]{64}$",
        description="The offering's terms_digest: the investor acknowledges these terms",
    )


class SubscriptionOut(BaseModel):
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
    fund_id: UUID
    fund_name: str
    units: int
    amount_paid: int
    frozen: bool = Field(description="The fund formed; the register is final")
