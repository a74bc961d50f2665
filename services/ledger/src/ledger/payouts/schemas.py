"""Request and response models of payouts. Amounts are integers of the currency's minor
unit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.inputs import Amount, RequestBody
from kumiai.money import CurrencyCode
from ledger.books.schemas import AccountCode
from ledger.payouts.rules import PayoutStatus


class PayoutIn(RequestBody):
    """Pay money out of a wallet or a business's payable through a partner bank.

    Suspense is paid out only by returning a deposit (``/deposits/{id}/return``).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account": "investor/6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11/wallet",
                    "amount": 10000,
                    "currency": "JPY",
                    "bank_id": "hokkaido-bank",
                    "reference": "KM7Q2XH9A4",
                }
            ]
        }
    )

    account: AccountCode = Field(
        description="investor/<id>/wallet or msme/<id>/payable",
        examples=["investor/6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11/wallet"],
    )
    amount: Amount
    currency: CurrencyCode = "JPY"
    bank_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="Registered, active partner bank that sends the transfer",
    )
    reference: str = Field(min_length=1, max_length=200, description="What the payout is for")


class PayoutOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "bank_id": "hokkaido-bank",
                    "account": "investor/fd717220-2d46-5093-b414-ac86a9302ddb/wallet",
                    "amount": 10000,
                    "currency": "JPY",
                    "status": "instructed",
                    "reference": "KM7Q2XH9A4",
                    "beneficiary": "investor",
                    "beneficiary_id": "41648de2-cad7-570b-8ee5-3d41d73f05d4",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "deposit_id": None,
                    "pending_entry_id": "e01eea8f-dc21-5177-ab01-a6ee274f00c8",
                    "resolution_entry_id": None,
                    "created_at": "2026-11-20T10:15:00+09:00",
                }
            ]
        }
    )

    id: UUID
    bank_id: str
    account: str
    amount: int
    currency: str
    status: PayoutStatus = Field(description="instructed (pending), confirmed or failed")
    reference: str
    beneficiary: PayoutBeneficiary = Field(
        description="Whose registered account receives it: investor, business or payer"
    )
    beneficiary_id: str = Field(description="Investor or business id; deposit id for a payer")
    fund_id: UUID | None = Field(description="The fund a refund's payout belongs to")
    deposit_id: UUID | None
    pending_entry_id: UUID
    resolution_entry_id: UUID | None
    created_at: datetime


class PayoutResultIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Confirmed with the business by phone"}]}
    )

    note: str = Field(min_length=3, max_length=500, description="The bank's words")


class SuspenseReturnIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Confirmed with the business by phone"}]}
    )

    note: str = Field(min_length=3, max_length=500, description="Why the money goes back")


class PayoutAnswer(RequestBody):
    payout_id: UUID
    outcome: Literal["confirmed", "failed"] = Field(description="Whether the money left")
    note: str = Field(min_length=3, max_length=500, description="The bank's words")


MAX_ANSWERS = 1_000


class PayoutAnswersIn(RequestBody):
    """A bank's answers to the payouts of one distribution batch (its result file)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {
                            "payout_id": "cfab7a6a-defb-5f7f-b658-7860731b3461",
                            "outcome": "confirmed",
                            "note": "Confirmed with the business by phone",
                        }
                    ]
                }
            ]
        }
    )

    answers: list[PayoutAnswer] = Field(min_length=1, max_length=MAX_ANSWERS)


class PayoutAnswersOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_entry_id": "a300cb2d-767d-5b9a-aeb7-398cc0162b7a",
                    "answered": 1,
                    "unchanged": 1,
                    "unanswered": 1,
                    "settled_entry_id": None,
                }
            ]
        }
    )

    batch_entry_id: UUID = Field(description="The pending entry that holds the batch")
    answered: int = Field(description="Answers recorded by this request")
    unchanged: int = Field(description="Answers the payout already had (a retry)")
    unanswered: int = Field(description="Payouts of the batch still without an answer")
    settled_entry_id: UUID | None = Field(
        description="Set once every payout of the batch is answered and the batch is posted"
    )
