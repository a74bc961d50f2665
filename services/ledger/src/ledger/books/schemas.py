"""Request and response models of the books. Amounts are integers of the currency's
minor unit.

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

from kumiai.inputs import Amount, BodyPart, Day, RequestBody
from kumiai.money import CurrencyCode
from ledger.books.rules import (
    AccountKind,
    Direction,
    EntryType,
    Origin,
    OwnerType,
    PostingStatus,
    Purpose,
)

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


# The docstring is published in the OpenAPI document as recorded, so it keeps naming the
# rule by its former module; the rule is ``ledger.books.rules.MANUAL_PURPOSES``.
class ManualPurpose(StrEnum):
    """What staff may book by hand: adjustments and transfers between non-fund accounts."""

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
                    "reference_type": None,
                    "reference_id": None,
                    "postings": [
                        {
                            "account": "bank/hokkaido-bank/clearing",
                            "direction": "debit",
                            "amount": 12,
                            "currency": "JPY",
                        },
                        {
                            "account": "platform/fees",
                            "direction": "credit",
                            "amount": 12,
                            "currency": "JPY",
                        },
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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entries": [
                        {
                            "description": "Interest credited on the clearing account, November",
                            "effective_date": "2026-11-30",
                            "pending": False,
                            "reference_type": None,
                            "reference_id": None,
                            "postings": [
                                {
                                    "account": "bank/hokkaido-bank/clearing",
                                    "amount": 12,
                                    "direction": "debit",
                                    "currency": "JPY",
                                },
                                {
                                    "account": "platform/fees",
                                    "amount": 12,
                                    "direction": "credit",
                                    "currency": "JPY",
                                },
                            ],
                            "purpose": "adjustment",
                            "reason": "Shown on the bank statement of 30 November",
                        }
                    ]
                }
            ]
        }
    )

    entries: list[ManualEntry] = Field(min_length=1, max_length=5000)


class ResolutionIn(RequestBody):
    """Post, void or reverse a manual entry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "description": "Interest confirmed on the bank statement",
                    "reason": "The bank statement of 30 November shows the credit",
                }
            ]
        }
    )

    description: str = Field(min_length=3, max_length=500, description="What happened")
    reason: Reason


class PostingOut(BaseModel):
    account: str
    direction: Direction
    amount: int
    currency: str
    status: PostingStatus


class EntryOut(BaseModel):
    # The answer to EntryIn's example.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "087ab8a8-9e9e-5301-be79-41da5192546f",
                    "seq": 1842,
                    "entry_type": "standard",
                    "purpose": "adjustment",
                    "description": "Interest credited on the clearing account, November",
                    "effective_date": "2026-11-30",
                    "reference_type": None,
                    "reference_id": None,
                    "pending_entry_id": None,
                    "reverses_entry_id": None,
                    "origin": "manual",
                    "reason": "Shown on the bank statement of 30 November",
                    "created_by": "staff-0001",
                    "created_at": "2026-11-30T16:20:00+09:00",
                    "postings": [
                        {
                            "account": "bank/hokkaido-bank/clearing",
                            "direction": "debit",
                            "amount": 12,
                            "currency": "JPY",
                            "status": "posted",
                        },
                        {
                            "account": "platform/fees",
                            "direction": "credit",
                            "amount": 12,
                            "currency": "JPY",
                            "status": "posted",
                        },
                    ],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"entries": ["087ab8a8-9e9e-5301-be79-41da5192546f"]}]}
    )

    entries: list[UUID]


class BalanceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    # A fund's escrow at the end of a day of its offering: 602 units of 10,500
                    # paid in, 2 of them refunded in cooling-off.
                    "account": "fund/8827e4a4-fadc-514f-80f0-6e35216eb81c/escrow",
                    "kind": "liability",
                    "currency": "JPY",
                    "as_of": "2027-02-16",
                    "posted": 6300000,
                    "pending_debits": 0,
                    "pending_credits": 0,
                    "available": 6300000,
                    "posted_debits": 21000,
                    "posted_credits": 6321000,
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "1a3c5e7f-9b2d-4f6a-8c0e-2d4f6a8c0e1b",
                    "code": "fund/8827e4a4-fadc-514f-80f0-6e35216eb81c/escrow",
                    "kind": "liability",
                    "currency": "JPY",
                    "owner_type": "fund",
                    "owner_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "segregated": True,
                    "debits_must_not_exceed_credits": True,
                    "credits_must_not_exceed_debits": False,
                    "balance": {
                        "account": "fund/8827e4a4-fadc-514f-80f0-6e35216eb81c/escrow",
                        "kind": "liability",
                        "currency": "JPY",
                        "as_of": None,
                        "posted": 6300000,
                        "pending_debits": 0,
                        "pending_credits": 0,
                        "available": 6300000,
                        "posted_debits": 21000,
                        "posted_credits": 6321000,
                    },
                }
            ]
        }
    )

    id: UUID
    code: str
    kind: AccountKind
    currency: str
    owner_type: OwnerType
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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account": "fund/8827e4a4-fadc-514f-80f0-6e35216eb81c/escrow",
                    "currency": "JPY",
                    "lines": [
                        {
                            "posting_id": 5630,
                            "entry_id": "b1bab230-5f05-552a-bcbf-59c25df4e2dc",
                            "effective_date": "2027-01-12",
                            "description": "Deposit 20270112-000087 from bank hokkaido-bank",
                            "direction": "credit",
                            "amount": 52500,
                            "running_balance": 52500,
                        },
                        {
                            "posting_id": 5671,
                            "entry_id": "d373ebb2-7272-5cc3-a540-b88a6b854ca9",
                            "effective_date": "2027-01-13",
                            "description": "Deposit 20270113-000123 from bank hokkaido-bank",
                            "direction": "credit",
                            "amount": 31500,
                            "running_balance": 84000,
                        },
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "balanced": True,
                    "net_by_currency": {"JPY": 0},
                    "lines": [
                        {"currency": "JPY", "kind": "asset", "debits": 6321012, "credits": 21000},
                        {
                            "currency": "JPY",
                            "kind": "liability",
                            "debits": 42000,
                            "credits": 6342000,
                        },
                        {"currency": "JPY", "kind": "revenue", "debits": 0, "credits": 12},
                    ],
                }
            ]
        }
    )

    balanced: bool = Field(description="Every currency's debits equal its credits")
    net_by_currency: dict[str, int]
    lines: list[TrialBalanceLine]
