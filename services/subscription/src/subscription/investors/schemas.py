"""Request and response models of investors. Personal details are answered only to the
investor itself and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from kumiai.auth import TENANT
from kumiai.inputs import RequestBody
from subscription.investors.rules import RISK_NOTICE, VerificationStatus

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "personal": {
                        "full_name": "Ichiro Suzuki",
                        "address": "4-5-6 Suehiro-cho, Hakodate, Hokkaido",
                        "phone": "+81-90-0000-0000",
                        "email": "ichiro.suzuki@example.jp",
                        "payout_account": {
                            "bank_code": "0116",
                            "branch_code": "101",
                            "account_type": "ordinary",
                            "account_number": "1234567",
                            "account_holder": "スズキ イチロウ",
                        },
                    },
                    "verifying_bank_id": "hokkaido-bank",
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "fd717220-2d46-5093-b414-ac86a9302ddb",
                    "verifying_bank_id": "hokkaido-bank",
                    "verification": "verified",
                    "verified_by": "bank:hokkaido-bank",
                    "verified_at": "2026-11-21T14:30:00+09:00",
                    "risk_notice_version": "2026-11",
                    "risk_acknowledged_at": "2026-11-21T20:05:00+09:00",
                    "created_at": "2026-11-20T10:15:00+09:00",
                    "personal": {
                        "full_name": "Ichiro Suzuki",
                        "address": "4-5-6 Suehiro-cho, Hakodate, Hokkaido",
                        "phone": "+81-90-0000-0000",
                        "email": "ichiro.suzuki@example.jp",
                        "payout_account": {
                            "bank_code": "0116",
                            "branch_code": "101",
                            "account_type": "ordinary",
                            "account_number": "1234567",
                            "account_holder": "スズキ イチロウ",
                        },
                    },
                }
            ]
        }
    )

    id: UUID
    verifying_bank_id: str | None = Field(
        description="The partner bank the investor chose to check its identity"
    )
    verification: VerificationStatus = Field(
        description="unverified, pending, verified or rejected"
    )
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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bank_code": "0116",
                    "branch_code": "101",
                    "account_type": "ordinary",
                    "account_number": "1234567",
                    "account_holder": "スズキ イチロウ",
                    "investor_id": "fd717220-2d46-5093-b414-ac86a9302ddb",
                    "payout_id": "f4511570-330b-5cbd-a30d-560d1f0444b2",
                }
            ]
        }
    )

    investor_id: UUID
    payout_id: UUID | None = Field(
        description="The payout this read was recorded for (always set for a bank)"
    )


class VerificationIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "verified", "note": "Identity documents checked at the branch"}]
        }
    )

    status: Literal["pending", "verified", "rejected"]
    note: str = Field(min_length=3, max_length=500, description="How it was verified, or why not")


class RiskNoticeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": "2026-11", "text": RISK_NOTICE}]}
    )

    version: str
    text: str


class RiskAcknowledgementIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": "2026-11"}]})

    version: str = Field(min_length=1, max_length=50)
