"""Double-entry rules of the ledger (pure: no database, no I/O).

An entry is two or more legs; per currency its debits equal its credits. A
pending entry holds amounts that count against the available balance until
it is posted or voided, exactly once. Entries never change: a mistake is
corrected by a reversing entry that mirrors the original.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Direction(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"

    def opposite(self) -> Direction:
        return Direction.CREDIT if self is Direction.DEBIT else Direction.DEBIT


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; the others with credits."""
        return self in (AccountKind.ASSET, AccountKind.EXPENSE)


class EntryType(StrEnum):
    STANDARD = "standard"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"
    REVERSAL = "reversal"


class PostingStatus(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    RELEASE = "release"
    """Takes a pending amount back off the pending columns (on post or void)."""


class Purpose(StrEnum):
    """Why money moves; the segregation rules read it."""

    DEPOSIT = "deposit"
    RELEASE = "release"
    REFUND = "refund"
    PAYOUT = "payout"
    SUBSIDY = "subsidy"
    FEE = "fee"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


ACCOUNT_CODE = re.compile(r"^[a-z][a-z_]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)*$")


class LedgerRuleError(ValueError):
    """An entry or account breaks a bookkeeping rule."""


class UnbalancedEntryError(LedgerRuleError):
    pass


@dataclass(frozen=True)
class Leg:
    """One side of an entry: an account, a direction and a positive amount."""

    account: str
    direction: Direction
    amount: int
    currency: str

    def mirrored(self) -> Leg:
        return replace(self, direction=self.direction.opposite())


def validate_legs(legs: Sequence[Leg]) -> None:
    """Refuse an entry that is not balanced per currency or has a meaningless leg."""
    if len(legs) < 2:
        raise LedgerRuleError("an entry needs at least two postings")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount <= 0:
            raise LedgerRuleError(f"posting to {leg.account}: amount must be a positive integer")
        if not ACCOUNT_CODE.match(leg.account):
            raise LedgerRuleError(f"{leg.account!r} is not an account code")
    for currency, net in net_by_currency(legs).items():
        if net != 0:
            raise UnbalancedEntryError(f"{currency} debits and credits differ by {abs(net)}")


def net_by_currency(legs: Iterable[Leg]) -> dict[str, int]:
    """Debits minus credits per currency (zero for a balanced entry)."""
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.currency] += leg.amount if leg.direction is Direction.DEBIT else -leg.amount
    return dict(net)


def reversal_of(legs: Sequence[Leg]) -> list[Leg]:
    """The legs that undo ``legs``: same accounts and amounts, directions swapped."""
    return [leg.mirrored() for leg in legs]


@dataclass(frozen=True)
class Balance:
    """Running totals of an account, kept per posting status (as TigerBeetle does)."""

    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0

    def apply(self, direction: Direction, amount: int, status: PostingStatus) -> Balance:
        sign = -1 if status is PostingStatus.RELEASE else 1
        if status is PostingStatus.POSTED:
            if direction is Direction.DEBIT:
                return replace(self, posted_debits=self.posted_debits + amount)
            return replace(self, posted_credits=self.posted_credits + amount)
        if direction is Direction.DEBIT:
            return replace(self, pending_debits=self.pending_debits + sign * amount)
        return replace(self, pending_credits=self.pending_credits + sign * amount)

    def posted(self, kind: AccountKind) -> int:
        """Posted balance on the account's normal side."""
        diff = self.posted_debits - self.posted_credits
        return diff if kind.debit_normal else -diff

    def available(self, kind: AccountKind) -> int:
        """Posted balance less pending amounts that would reduce it."""
        if kind.debit_normal:
            return self.posted_debits - self.posted_credits - self.pending_credits
        return self.posted_credits - self.posted_debits - self.pending_debits


@dataclass(frozen=True)
class Conditions:
    """Balance conditions an account must always satisfy (pending counts against them)."""

    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False

    def allows(self, balance: Balance) -> bool:
        if balance.pending_debits < 0 or balance.pending_credits < 0:
            return False
        if self.debits_must_not_exceed_credits and (
            balance.posted_debits + balance.pending_debits > balance.posted_credits
        ):
            return False
        return not (
            self.credits_must_not_exceed_debits
            and balance.posted_credits + balance.pending_credits > balance.posted_debits
        )


@dataclass(frozen=True)
class AccountSpec:
    """What the platform's chart of accounts says an account code is."""

    code: str
    kind: AccountKind
    owner_type: str
    owner_id: str | None
    conditions: Conditions
    segregated: bool = False


_NO_NEGATIVE = Conditions(debits_must_not_exceed_credits=True)
_NO_OVERDRAFT = Conditions(credits_must_not_exceed_debits=True)


def chart_of_accounts(code: str) -> AccountSpec:
    """The kind, owner and conditions of a standard account code.

    ``fund/<id>/escrow`` is the fund's segregated money; ``investor/<id>/wallet``,
    ``msme/<id>/payable``, ``tax/withholding`` and ``suspense`` are what the
    platform owes; ``bank/<id>/clearing`` is cash at a partner bank;
    ``platform/fees`` is the operator's revenue.
    """
    parts = code.split("/")
    match parts:
        case ["fund", fund_id, "escrow"]:
            return AccountSpec(code, AccountKind.LIABILITY, "fund", fund_id, _NO_NEGATIVE, True)
        case ["investor", investor_id, "wallet"]:
            return AccountSpec(code, AccountKind.LIABILITY, "investor", investor_id, _NO_NEGATIVE)
        case ["msme", msme_id, "payable"]:
            return AccountSpec(code, AccountKind.LIABILITY, "msme", msme_id, _NO_NEGATIVE)
        case ["municipality", municipality, "subsidy"]:
            return AccountSpec(
                code, AccountKind.LIABILITY, "municipality", municipality, _NO_NEGATIVE
            )
        case ["bank", bank_id, "clearing"]:
            return AccountSpec(code, AccountKind.ASSET, "bank", bank_id, _NO_OVERDRAFT)
        case ["platform", "fees"]:
            return AccountSpec(code, AccountKind.REVENUE, "platform", None, _NO_NEGATIVE)
        case ["tax", "withholding"]:
            return AccountSpec(code, AccountKind.LIABILITY, "platform", None, _NO_NEGATIVE)
        case ["suspense"]:
            return AccountSpec(code, AccountKind.LIABILITY, "platform", None, _NO_NEGATIVE)
    raise LedgerRuleError(f"{code!r} is not in the chart of accounts")


class SegregationError(LedgerRuleError):
    """Money may leave a fund's escrow only as a release to its MSME or a refund."""


def check_segregation(
    purpose: Purpose, legs: Sequence[Leg], *, escrow_fund: dict[str, str]
) -> None:
    """Refuse any movement out of an escrow account other than a release or a refund.

    ``escrow_fund`` maps each segregated account code in ``legs`` to its fund id.
    A release may credit only MSME payables and platform fees; a refund only
    investor wallets; a reversal undoes an earlier entry leg for leg.
    """
    out_of_escrow = [
        leg for leg in legs if leg.account in escrow_fund and leg.direction is Direction.DEBIT
    ]
    if not out_of_escrow:
        return
    credits = [leg for leg in legs if leg.direction is Direction.CREDIT]
    allowed: tuple[str, ...]
    if purpose is Purpose.RELEASE:
        allowed = ("msme/", "platform/fees")
    elif purpose is Purpose.REFUND:
        allowed = ("investor/",)
    elif purpose is Purpose.REVERSAL:
        return
    else:
        raise SegregationError(
            f"{purpose.value} may not take money out of {out_of_escrow[0].account}; "
            "only a release to the MSME or a refund to investors may"
        )
    for leg in credits:
        if not leg.account.startswith(allowed):
            raise SegregationError(f"a {purpose.value} out of escrow may not pay {leg.account}")
