"""Ledger request and response models. Amounts are integers of the currency's minor unit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.money import CurrencyCode
from ledger.domain.books import AccountKind, Direction, EntryType, Purpose


class PostingIn(BaseModel):
    account: str = Field(
        description="Account code, e.g. fund/<id>/escrow", examples=["bank/b-1/clearing"]
    )
    direction: Direction
    amount: int = Field(gt=0, description="Minor units")
    currency: CurrencyCode = "JPY"


class EntryIn(BaseModel):
    """A journal entry to post: two or more postings that balance per currency."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "purpose": "deposit",
                    "description": "Deposit for subscription S-1 (reason: manual correction)",
                    "effective_date": "2026-12-01",
                    "pending": False,
                    "postings": [
                        {"account": "bank/b-1/clearing", "direction": "debit", "amount": 10500},
                        {"account": "suspense", "direction": "credit", "amount": 10500},
                    ],
                }
            ]
        },
    )

    purpose: Purpose
    description: str = Field(min_length=3, max_length=500, description="Why, in words")
    effective_date: date | None = Field(default=None, description="Defaults to today, Japan time")
    pending: bool = Field(default=False, description="Hold the amounts until posted or voided")
    reference_type: str | None = Field(default=None, max_length=50)
    reference_id: str | None = Field(default=None, max_length=200)
    postings: list[PostingIn] = Field(min_length=2, max_length=500)


class EntryBatchIn(BaseModel):
    """Many entries posted atomically (a payout run, for example)."""

    entries: list[EntryIn] = Field(min_length=1, max_length=5000)


class ResolutionIn(BaseModel):
    description: str = Field(min_length=3, max_length=500)


class PostingOut(BaseModel):
    account: str
    direction: Direction
    amount: int
    currency: str
    status: str


class EntryOut(BaseModel):
    id: UUID
    seq: int
    entry_type: EntryType
    purpose: Purpose
    description: str
    effective_date: date
    reference_type: str | None
    reference_id: str | None
    pending_entry_id: UUID | None
    reverses_entry_id: UUID | None
    created_by: str
    created_at: datetime
    postings: list[PostingOut]


class EntryBatchOut(BaseModel):
    entries: list[UUID]


class BalanceOut(BaseModel):
    account: str
    kind: AccountKind
    currency: str
    as_of: date | None = Field(description="None: the current balance")
    posted: int = Field(description="Posted balance on the account's normal side")
    pending_debits: int
    pending_credits: int
    available: int = Field(description="Posted less pending amounts that would reduce it")
    posted_debits: int
    posted_credits: int


class AccountOut(BaseModel):
    id: UUID
    code: str
    kind: AccountKind
    currency: str
    owner_type: str
    owner_id: str | None
    segregated: bool
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    balance: BalanceOut


class StatementLine(BaseModel):
    posting_id: int
    entry_id: UUID
    effective_date: date
    description: str
    direction: Direction
    amount: int
    running_balance: int = Field(description="Posted balance after this line, normal side")


class StatementOut(BaseModel):
    account: str
    currency: str
    lines: list[StatementLine]
    next_cursor: str | None


class TrialBalanceLine(BaseModel):
    currency: str
    kind: AccountKind
    debits: int
    credits: int


class TrialBalanceOut(BaseModel):
    balanced: bool = Field(description="Every currency's debits equal its credits")
    net_by_currency: dict[str, int]
    lines: list[TrialBalanceLine]


class DepositIn(BaseModel):
    """A credit a partner bank received into the platform's account."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "bank_transaction_id": "20261201-000123",
                    "amount": 31500,
                    "currency": "JPY",
                    "value_date": "2026-12-01",
                    "payment_reference": "KM7Q2XH9A4",
                }
            ]
        },
    )

    bank_transaction_id: str = Field(
        min_length=1, max_length=100, description="The bank's own id; reporting it again is safe"
    )
    amount: int = Field(gt=0, description="Minor units")
    currency: CurrencyCode = "JPY"
    value_date: date
    payment_reference: str = Field(min_length=1, max_length=64, description="As the payer wrote it")


class DepositOut(BaseModel):
    id: UUID
    bank_id: str
    bank_transaction_id: str
    amount: int
    currency: str
    value_date: date
    payment_reference: str
    status: str = Field(description="matched, suspense (awaiting staff), returning, returned")
    reason: str | None = Field(description="Why it is in suspense")
    subscription_id: UUID | None
    entry_id: UUID
    created_at: datetime


class SuspenseMatchIn(BaseModel):
    subscription_id: UUID
    note: str = Field(min_length=3, max_length=500, description="Why staff matched it")


class SuspenseReturnIn(BaseModel):
    note: str = Field(min_length=3, max_length=500, description="Why the money goes back")


class SegregationReportOut(BaseModel):
    """A fund's escrow: what came in, what went out and why, and what is left."""

    fund_id: UUID
    status: str = Field(description="open, released, closed_failed, release_held")
    status_reason: str | None
    currency: str
    paid_in: int
    refunded: int
    released_to_business: int
    fees: int
    reversals_net: int
    balance: int
    agrees_with_postings: bool = Field(
        description="The running totals equal the sum of the escrow's postings"
    )


class PayoutIn(BaseModel):
    """Pay money out of a wallet, a business's payable or suspense through a partner bank."""

    account: str = Field(
        description="investor/<id>/wallet, msme/<id>/payable or suspense",
        examples=["investor/6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11/wallet"],
    )
    amount: int = Field(gt=0)
    currency: CurrencyCode = "JPY"
    bank_id: str = Field(min_length=1, max_length=64, description="Bank that sends the transfer")
    reference: str = Field(min_length=1, max_length=200, description="What the payout is for")


class PayoutOut(BaseModel):
    id: UUID
    bank_id: str
    account: str
    amount: int
    currency: str
    status: str = Field(description="instructed (pending), confirmed or failed")
    reference: str
    deposit_id: UUID | None
    pending_entry_id: UUID
    resolution_entry_id: UUID | None
    created_at: datetime


class PayoutResultIn(BaseModel):
    note: str = Field(min_length=3, max_length=500, description="The bank's words")
