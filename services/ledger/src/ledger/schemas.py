"""Ledger request and response models. Amounts are integers of the currency's minor unit.

Request bodies are ``kumiai.inputs.RequestBody`` (closed, bounded, strict
integers, no control characters); their parts (a posting, an entry of a batch)
are ``BodyPart``s, so a batch of thousands of entries is walked once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.inputs import Amount, BodyPart, Day, RequestBody
from kumiai.money import CurrencyCode
from ledger.domain.books import AccountKind, Direction, EntryType, Origin, Purpose

AccountCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Account code from the chart of accounts, e.g. investor/<uuid>/wallet",
        examples=["bank/hokkaido-bank/clearing"],
    ),
]
Reason = Annotated[
    str,
    Field(min_length=3, max_length=500, description="Why staff do this; recorded with the entry"),
]


class DepositStatus(StrEnum):
    MATCHED = "matched"
    SUSPENSE = "suspense"
    RETURNING = "returning"
    RETURNED = "returned"


class PayoutStatus(StrEnum):
    INSTRUCTED = "instructed"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class ManualPurpose(StrEnum):
    """What staff may book by hand (``ledger.domain.books.MANUAL_PURPOSES``)."""

    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"


class PostingIn(BodyPart):
    account: AccountCode
    direction: Direction
    amount: Amount
    currency: CurrencyCode = "JPY"


class ManualEntry(BodyPart):
    """A manual journal entry (staff): two or more postings that balance per currency.

    Manual entries never touch a fund's accounts; payments, refunds, releases and
    payouts are booked by their own flows.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "purpose": "adjustment",
                    "description": "Interest credited on the clearing account, November",
                    "reason": "Shown on the bank statement of 30 November",
                    "effective_date": "2026-11-30",
                    "pending": False,
                    "postings": [
                        {
                            "account": "bank/hokkaido-bank/clearing",
                            "direction": "debit",
                            "amount": 12,
                        },
                        {"account": "platform/fees", "direction": "credit", "amount": 12},
                    ],
                }
            ]
        },
    )

    purpose: ManualPurpose
    description: str = Field(min_length=3, max_length=500, description="What the entry books")
    reason: Reason
    effective_date: Day | None = Field(default=None, description="Defaults to today, Japan time")
    pending: StrictBool = Field(
        default=False, description="Hold the amounts until posted or voided"
    )
    reference_type: str | None = Field(default=None, min_length=1, max_length=50)
    reference_id: str | None = Field(default=None, min_length=1, max_length=200)
    postings: list[PostingIn] = Field(min_length=2, max_length=500)


class EntryIn(RequestBody, ManualEntry):
    """A manual journal entry (staff): two or more postings that balance per currency.

    Manual entries never touch a fund's accounts; payments, refunds, releases and
    payouts are booked by their own flows.
    """


class EntryBatchIn(RequestBody):
    """Many manual entries posted atomically."""

    entries: list[ManualEntry] = Field(min_length=1, max_length=5000)


class ResolutionIn(RequestBody):
    """Post, void or reverse a manual entry."""

    description: str = Field(min_length=3, max_length=500, description="What happened")
    reason: Reason


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
    origin: Origin = Field(description="manual (staff) or flow (payment, refund, release, payout)")
    reason: str | None = Field(description="Why staff booked it; none for flow entries")
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


class DepositIn(RequestBody):
    """A credit a partner bank received into the platform's account."""

    model_config = ConfigDict(
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
    amount: Amount
    currency: CurrencyCode = "JPY"
    value_date: Day = Field(
        description="Day the bank booked the credit: from a year ago to tomorrow, Japan time"
    )
    payment_reference: str = Field(min_length=1, max_length=64, description="As the payer wrote it")


class DepositOut(BaseModel):
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
    subscription_id: UUID
    note: str = Field(min_length=3, max_length=500, description="Why staff matched it")


class SuspenseReturnIn(RequestBody):
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
