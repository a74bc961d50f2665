"""Request and response models of payouts. Amounts are integers of the currency's minor
unit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.inputs import Amount, RequestBody
from kumiai.money import CurrencyCode
from ledger.books.schemas import AccountCode
from ledger.payouts.rules import PayoutStatus


class PayoutIn(RequestBody):
    """Pay money out of a wallet or a business's payable through a partner bank.

    Suspense is paid out only by returning a deposit (``/deposits/{id}/return``).
    """

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
    note: str = Field(min_length=3, max_length=500, description="The bank's words")


class SuspenseReturnIn(RequestBody):
    note: str = Field(min_length=3, max_length=500, description="Why the money goes back")


class PayoutAnswer(RequestBody):
    payout_id: UUID
    outcome: Literal["confirmed", "failed"] = Field(description="Whether the money left")
    note: str = Field(min_length=3, max_length=500, description="The bank's words")


MAX_ANSWERS = 1_000


class PayoutAnswersIn(RequestBody):
    """A bank's answers to the payouts of one distribution batch (its result file)."""

    answers: list[PayoutAnswer] = Field(min_length=1, max_length=MAX_ANSWERS)


class PayoutAnswersOut(BaseModel):
    batch_entry_id: UUID = Field(description="The pending entry that holds the batch")
    answered: int = Field(description="Answers recorded by this request")
    unchanged: int = Field(description="Answers the payout already had (a retry)")
    unanswered: int = Field(description="Payouts of the batch still without an answer")
    settled_entry_id: UUID | None = Field(
        description="Set once every payout of the batch is answered and the batch is posted"
    )
