"""Double-entry rules of the ledger (pure: no database, no I/O).

An entry is two or more legs; per currency its debits equal its credits. A
pending entry holds amounts that count against the available balance until
it is posted or voided, exactly once. Entries never change: a mistake is
corrected by a reversing entry that mirrors the original.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache


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

MANUAL_PURPOSES = frozenset({Purpose.ADJUSTMENT, Purpose.TRANSFER})
"""What staff may book by hand; every other purpose is written only by a business flow."""


class Origin(StrEnum):
    """Who wrote an entry: staff by hand, or one of the ledger's business flows."""

    MANUAL = "manual"
    FLOW = "flow"


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


def mirrors(original: Sequence[Leg], reversal: Sequence[Leg]) -> bool:
    """Whether ``reversal`` undoes ``original`` exactly: same accounts, currencies and
    amounts, directions swapped, nothing more or less.

    The database checks the same (``postings_apply`` trigger, "reversals mirror").
    """
    return Counter(reversal_of(original)) == Counter(reversal)


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

    @property
    def partner_bank(self) -> str | None:
        """The partner bank a clearing account is kept at (it must be registered)."""
        return self.owner_id if self.owner_type == "bank" else None


_NO_NEGATIVE = Conditions(debits_must_not_exceed_credits=True)
_NO_OVERDRAFT = Conditions(credits_must_not_exceed_debits=True)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A UUID as the platform writes it (lower case, hyphenated): one account per owner."""

_PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_PREFECTURES = frozenset(f"{n:02d}" for n in range(1, 48))


class UnknownAccountError(LedgerRuleError):
    """An account code the chart of accounts does not know, or whose id names nothing."""

    def __init__(self, account: str, reason: str) -> None:
        super().__init__(f"{account!r} {reason}")
        self.account = account


def local_government_check_digit(base5: str) -> int:
    """The sixth digit of a Japanese local government code (JIS X 0402) for its first five."""
    remainder = sum(int(d) * w for d, w in zip(base5, (6, 5, 4, 3, 2), strict=True)) % 11
    return (11 - remainder) % 10


def is_local_government_code(value: str) -> bool:
    """Six ASCII digits: a prefecture (01-47), a municipality, and a correct check digit."""
    return (
        len(value) == 6
        and value.isascii()
        and value.isdigit()
        and value[:2] in _PREFECTURES
        and int(value[5]) == local_government_check_digit(value[:5])
    )


def _uuid_id(code: str, value: str, what: str) -> str:
    if not _UUID.match(value):
        raise UnknownAccountError(code, f"does not name a {what}: {value!r} is not a UUID")
    return value


@lru_cache(maxsize=65_536)
def chart_of_accounts(code: str) -> AccountSpec:
    """The kind, owner and conditions of a standard account code; ids must be what they name.

    ``fund/<fund id>/escrow`` is the fund's segregated money;
    ``investor/<investor id>/wallet``, ``msme/<msme id>/payable``,
    ``municipality/<local government code>/subsidy``, ``tax/withholding`` and
    ``suspense`` are what the platform owes; ``bank/<partner bank>/clearing`` is
    cash at a partner bank (the bank must be registered: the database is asked);
    ``platform/fees`` is the operator's revenue. Fund, investor and business ids
    are UUIDs in lower case. The database checks the same shapes (``accounts``
    CHECK ``code_in_chart``; a fund's accounts are segregated: CHECK
    ``fund_accounts_segregated``).
    """
    parts = code.split("/")
    match parts:
        case ["fund", fund_id, "escrow"]:
            owner = _uuid_id(code, fund_id, "fund")
            return AccountSpec(code, AccountKind.LIABILITY, "fund", owner, _NO_NEGATIVE, True)
        case ["investor", investor_id, "wallet"]:
            owner = _uuid_id(code, investor_id, "investor")
            return AccountSpec(code, AccountKind.LIABILITY, "investor", owner, _NO_NEGATIVE)
        case ["msme", msme_id, "payable"]:
            owner = _uuid_id(code, msme_id, "business")
            return AccountSpec(code, AccountKind.LIABILITY, "msme", owner, _NO_NEGATIVE)
        case ["municipality", municipality, "subsidy"]:
            if not is_local_government_code(municipality):
                raise UnknownAccountError(
                    code,
                    f"does not name a municipality: {municipality!r} is not a "
                    "six-digit local government code",
                )
            return AccountSpec(
                code, AccountKind.LIABILITY, "municipality", municipality, _NO_NEGATIVE
            )
        case ["bank", bank_id, "clearing"]:
            if not _PARTNER_ID.match(bank_id):
                raise UnknownAccountError(code, f"does not name a bank: {bank_id!r}")
            return AccountSpec(code, AccountKind.ASSET, "bank", bank_id, _NO_OVERDRAFT)
        case ["platform", "fees"]:
            return AccountSpec(code, AccountKind.REVENUE, "platform", None, _NO_NEGATIVE)
        case ["tax", "withholding"]:
            return AccountSpec(code, AccountKind.LIABILITY, "platform", None, _NO_NEGATIVE)
        case ["suspense"]:
            return AccountSpec(code, AccountKind.LIABILITY, "platform", None, _NO_NEGATIVE)
    raise UnknownAccountError(code, "is not in the chart of accounts")


def is_fund_account(code: str) -> bool:
    """Whether ``code`` is one of a fund's accounts (however malformed its id)."""
    return code.startswith("fund/")


class PayoutSourceError(LedgerRuleError):
    """Payouts leave only from an investor's wallet or a business's payable."""


def payout_beneficiary(account: str) -> tuple[str, str]:
    """Whose registered account a payout from ``account`` goes to: (investor or business, id).

    Suspense is paid out only by returning a deposit to its payer, and a fund's
    escrow never directly: the database checks the same (``payouts`` CHECK
    ``paid_from_the_beneficiarys_account``).
    """
    spec = chart_of_accounts(account)
    if spec.owner_type == "investor" and spec.owner_id:
        return "investor", spec.owner_id
    if spec.owner_type == "msme" and spec.owner_id:
        return "business", spec.owner_id
    raise PayoutSourceError(
        f"payouts are made from an investor's wallet or a business's payable, not {account}; "
        "a suspense deposit goes back through /deposits/{id}/return"
    )


# -- segregation -------------------------------------------------------------------


class SegregationError(LedgerRuleError):
    """Money in a fund's accounts moves only through the business flows."""


@dataclass(frozen=True)
class PaymentFacts:
    """What the ledger knows of the subscription an escrow entry names."""

    subscription_id: str
    fund_id: str
    investor_id: str
    amount: int
    currency: str
    status: str
    """expected, paid, cancelled, refunded or released"""


@dataclass(frozen=True)
class FundFacts:
    """What the ledger knows of the fund whose escrow an entry touches."""

    fund_id: str
    msme_id: str
    status: str
    """open, formed (closing, release under way), released, closed_failed, release_held"""
    paid_in: int = 0
    """Sum of the subscriptions paid and not refunded (what a release takes out)."""
    fees_due: int = 0
    """Handling fees of those subscriptions plus the fund's arrangement fee."""


def _escrow_fund(legs: Sequence[Leg]) -> tuple[list[Leg], str | None]:
    escrow = [leg for leg in legs if is_fund_account(leg.account)]
    funds = {leg.account.split("/")[1] if leg.account.count("/") == 2 else "" for leg in escrow}
    if len(funds) > 1:
        raise SegregationError("an entry may touch the accounts of one fund only")
    return escrow, next(iter(funds), None)


def check_manual_entry(purpose: Purpose, legs: Sequence[Leg]) -> None:
    """Staff book by hand only adjustments and transfers, and never touch a fund's money.

    The database checks the same: the ``manual_purposes`` CHECK of
    ``journal_entries`` and the segregation checks of the ``postings_apply``
    trigger (a fund's accounts take flow entries only).
    """
    if purpose not in MANUAL_PURPOSES:
        allowed = ", ".join(sorted(p.value for p in MANUAL_PURPOSES))
        raise SegregationError(
            f"{purpose.value} entries are written by the business flows only; by hand: {allowed}"
        )
    for leg in legs:
        if is_fund_account(leg.account):
            raise SegregationError(
                f"{leg.account} is a fund's account: its money moves only through the "
                "business flows (payment, refund, release)"
            )


def check_segregation(
    purpose: Purpose,
    legs: Sequence[Leg],
    *,
    reference_id: str | None = None,
    payment: PaymentFacts | None = None,
    fund: FundFacts | None = None,
) -> None:
    """Refuse any movement of a fund's money other than the business flows allow.

    - payment: a deposit matched to a subscription the fund awaits, for exactly
      the amount due, from a bank's clearing account or from suspense;
    - refund: of a paid subscription, exactly what was paid, to its payer's wallet;
    - release: once the fund formed, everything paid in, to that fund's own
      business less the fees due under its terms (once: ``reference_id`` is the fund).

    The database checks the same in the ``postings_apply`` trigger (section
    "segregation"), and once per subscription and per fund with the unique
    indexes ``uq_journal_entries_payment_once``, ``_refund_once`` and
    ``_release_once``, so a bug here or a hand-written statement cannot move it.
    """
    escrow, fund_id = _escrow_fund(legs)
    if not escrow:
        return
    if len(escrow) != 1:
        raise SegregationError("an entry moves a fund's escrow in one leg only")
    leg = escrow[0]
    others = [other for other in legs if other is not leg]
    if purpose is Purpose.DEPOSIT:
        _check_payment(leg, others, fund_id, reference_id, payment, fund)
    elif purpose is Purpose.REFUND:
        _check_refund(leg, others, fund_id, reference_id, payment)
    elif purpose is Purpose.RELEASE:
        _check_release(leg, others, fund_id, reference_id, fund)
    else:
        raise SegregationError(
            f"{purpose.value} may not move money of {leg.account}; only a matched payment, "
            "a refund of it or the release to the fund's business may"
        )


def _check_payment(
    leg: Leg,
    others: Sequence[Leg],
    fund_id: str | None,
    reference_id: str | None,
    payment: PaymentFacts | None,
    fund: FundFacts | None,
) -> None:
    if leg.direction is not Direction.CREDIT:
        raise SegregationError("a payment only adds to a fund's escrow")
    if len(others) != 1 or not (
        others[0].account == "suspense"
        or (others[0].account.startswith("bank/") and others[0].account.endswith("/clearing"))
    ):
        raise SegregationError("a payment comes from a bank's clearing account or suspense")
    if payment is None or payment.subscription_id != reference_id:
        raise SegregationError("a payment into escrow names the subscription it pays")
    if payment.fund_id != fund_id:
        raise SegregationError(f"subscription {reference_id} is not in this fund")
    if payment.status != "expected":
        raise SegregationError(f"subscription {reference_id} is {payment.status}, not awaited")
    if (payment.amount, payment.currency) != (leg.amount, leg.currency):
        raise SegregationError(
            f"subscription {reference_id} awaits {payment.amount} {payment.currency}, "
            f"not {leg.amount} {leg.currency}"
        )
    if fund is None or fund.fund_id != fund_id or fund.status != "open":
        raise SegregationError(f"fund {fund_id} is not open for payments")


def _check_refund(
    leg: Leg,
    others: Sequence[Leg],
    fund_id: str | None,
    reference_id: str | None,
    payment: PaymentFacts | None,
) -> None:
    if leg.direction is not Direction.DEBIT:
        raise SegregationError("a refund takes money out of escrow")
    if payment is None or payment.subscription_id != reference_id:
        raise SegregationError("a refund names the subscription it pays back")
    if payment.fund_id != fund_id or payment.status != "paid":
        raise SegregationError(f"subscription {reference_id} has nothing paid in this fund")
    wallet = f"investor/{payment.investor_id}/wallet"
    if len(others) != 1 or others[0].account != wallet:
        raise SegregationError(f"a refund goes to its payer's wallet, {wallet}")
    if (leg.amount, leg.currency) != (payment.amount, payment.currency):
        raise SegregationError(
            f"a refund pays back exactly {payment.amount} {payment.currency}, what was paid"
        )


def _check_release(
    leg: Leg,
    others: Sequence[Leg],
    fund_id: str | None,
    reference_id: str | None,
    fund: FundFacts | None,
) -> None:
    if leg.direction is not Direction.DEBIT:
        raise SegregationError("a release takes money out of escrow")
    if fund is None or fund.fund_id != fund_id or reference_id != fund_id:
        raise SegregationError("a release names the fund whose escrow it empties")
    if fund.status != "formed":
        raise SegregationError(f"fund {fund_id} is {fund.status}: only a formed fund is released")
    payable = f"msme/{fund.msme_id}/payable"
    if any(o.direction is not Direction.CREDIT or o.currency != leg.currency for o in others):
        raise SegregationError("a release only pays the business and the fees")
    strangers = [o.account for o in others if o.account not in (payable, "platform/fees")]
    if strangers:
        raise SegregationError(
            f"a release pays only {payable} and platform/fees, not {strangers[0]}"
        )
    fees = sum(o.amount for o in others if o.account == "platform/fees")
    if leg.amount != fund.paid_in or fees != fund.fees_due:
        raise SegregationError(
            f"a release takes out everything paid in ({fund.paid_in}) and keeps the fees due "
            f"({fund.fees_due}), not {leg.amount} and {fees}"
        )
