"""Request and response models of investors. Personal details are answered only to the
investor itself and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field

from kumiai.auth import TENANT
from kumiai.inputs import RequestBody

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
