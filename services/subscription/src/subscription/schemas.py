"""Subscription's request and response models. Amounts are integers of minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field

from kumiai.auth import TENANT
from kumiai.contracts.ledger import RefundReason
from kumiai.inputs import RequestBody, StrictInt
from subscription.domain.offerings import OfferingPhase
from subscription.domain.subscriptions import SubscriptionStatus


class OfferingOut(BaseModel):
    """A fund on offer and its public progress."""

    fund_id: UUID
    msme_id: UUID
    name: str
    currency: str
    unit_price: int = Field(description="Minor units")
    handling_fee_per_unit: int
    donation_per_unit: int = Field(description="Part of the unit price never repaid")
    price_per_unit_with_fee: int
    units_offered: int
    units_sold: int = Field(description="Units reserved or paid")
    units_confirmed: int = Field(description="Units paid for")
    investors: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime
    terms_digest: str | None = Field(description="Acknowledge it when subscribing")
    status: str = Field(description="open, closed_succeeded, closed_failed or cancelled")
    phase: OfferingPhase
    days_left: int


class OfferingCancelIn(RequestBody):
    reason: str = Field(min_length=3, max_length=500)


# -- Investors ---------------------------------------------------------------------------

AccountType = Literal["ordinary", "current", "savings"]


class PayoutAccount(RequestBody):
    bank_code: str = Field(max_length=4, pattern=r"^[0-9]{4}$", description="Zengin bank code")
    branch_code: str = Field(max_length=3, pattern=r"^[0-9]{3}$")
    account_type: AccountType
    account_number: str = Field(max_length=7, pattern=r"^[0-9]{7}$")
    account_holder: str = Field(min_length=1, max_length=100, description="As the bank has it")


class PersonalDetails(RequestBody):
    """Personal data: stored encrypted, shown only to the investor and staff."""

    full_name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=3, max_length=300)
    phone: str = Field(max_length=20, pattern=r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$")
    email: EmailStr = Field(max_length=254)
    payout_account: PayoutAccount


class InvestorIn(RequestBody):
    personal: PersonalDetails
    verifying_bank_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=TENANT.pattern,
        description="The partner bank you ask to check your identity (a registered, "
        "active bank); only it, and platform staff, may verify you",
    )


# Answers carry what was stored, never re-checked against today's input rules.
class PayoutAccountOut(BaseModel):
    bank_code: str = Field(description="Zengin bank code")
    branch_code: str
    account_type: AccountType
    account_number: str
    account_holder: str


class PersonalDetailsOut(BaseModel):
    full_name: str
    address: str
    phone: str
    email: str
    payout_account: PayoutAccountOut


class InvestorOut(BaseModel):
    id: UUID
    verifying_bank_id: str | None = Field(
        description="The partner bank the investor chose to check its identity"
    )
    verification: str = Field(description="unverified, pending, verified or rejected")
    verified_by: str | None
    verified_at: datetime | None
    risk_notice_version: str | None = Field(description="The version acknowledged, if any")
    risk_acknowledged_at: datetime | None
    created_at: datetime
    personal: PersonalDetailsOut | None = Field(
        default=None, description="Only for the investor and staff"
    )


class InvestorPayoutAccountOut(PayoutAccountOut):
    """Where payouts to an investor go; every read is recorded."""

    investor_id: UUID
    payout_id: UUID | None = Field(
        description="The payout this read was recorded for (always set for a bank)"
    )


class VerificationIn(RequestBody):
    status: Literal["pending", "verified", "rejected"]
    note: str = Field(min_length=3, max_length=500, description="How it was verified, or why not")


class RiskNoticeOut(BaseModel):
    version: str
    text: str


class RiskAcknowledgementIn(RequestBody):
    version: str = Field(min_length=1, max_length=50)


# -- Subscriptions -----------------------------------------------------------------------


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
