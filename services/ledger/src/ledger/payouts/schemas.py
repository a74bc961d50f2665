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
                    "account": "investor/fd717220-2d46-5093-b414-ac86a9302ddb/wallet",
                    "amount": 1260,
                    "currency": "JPY",
                    "bank_id": "hokkaido-bank",
                    "reference": "Wallet balance paid out at the investor's request",
                }
            ]
        }
    )

    account: AccountCode = Field(
        description="investor/<id>/wallet or msme/<id>/payable",
        examples=["investor/fd717220-2d46-5093-b414-ac86a9302ddb/wallet"],
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
                # An investor's net of a distribution (ledger.distributions.rules.payout_orders).
                {
                    "id": "f4511570-330b-5cbd-a30d-560d1f0444b2",
                    "bank_id": "hokkaido-bank",
                    "account": "investor/fd717220-2d46-5093-b414-ac86a9302ddb/wallet",
                    "amount": 630,
                    "currency": "JPY",
                    "status": "instructed",
                    "reference": "Distribution 8827e4a4-fadc-514f-80f0-6e35216eb81c/2",
                    "beneficiary": "investor",
                    "beneficiary_id": "fd717220-2d46-5093-b414-ac86a9302ddb",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "deposit_id": None,
                    "pending_entry_id": "e01eea8f-dc21-5177-ab01-a6ee274f00c8",
                    "resolution_entry_id": None,
                    "created_at": "2027-12-20T10:00:00+09:00",
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
        json_schema_extra={"examples": [{"note": "Credited to the account on 22 December"}]}
    )

    note: str = Field(min_length=3, max_length=500, description="The bank's words")


class SuspenseReturnIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"note": "Quotes no reference we issued; the payer asked for it back"}]
        }
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
                            "payout_id": "f4511570-330b-5cbd-a30d-560d1f0444b2",
                            "outcome": "confirmed",
                            "note": "Credited to the account on 22 December",
                        },
                        {
                            "payout_id": "cfab7a6a-defb-5f7f-b658-7860731b3461",
                            "outcome": "failed",
                            "note": "The account was closed",
                        },
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
                    # The answers of the request's example: 298 of the batch's 300 remain.
                    "batch_entry_id": "e01eea8f-dc21-5177-ab01-a6ee274f00c8",
                    "answered": 2,
                    "unchanged": 0,
                    "unanswered": 298,
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
