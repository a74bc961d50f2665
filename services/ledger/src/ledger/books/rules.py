"""The rules of the books (pure: no database, no web framework, no I/O).

An entry is two or more legs; per currency its debits equal its credits. A
pending entry holds amounts that count against the available balance until it
is posted or voided, exactly once. Entries never change: a mistake is corrected
by a reversing entry that mirrors the original. Staff book adjustments and
transfers by hand; a fund's money moves only through the business flows
(decision 0008).

Most of these rules are enforced by the database too, in the ``postings_apply``
trigger (function ``ledger_apply_postings``), written by migration
``2026_11_28_segregation.py``, and in CHECKs and unique indexes of
``ledger.db.models``; each rule's docstring names its statement.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache
from uuid import UUID

from kumiai.local_government import is_local_government_code
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, UnprocessableContent

# -- what an entry is made of --------------------------------------------------------
# Direction, AccountKind and EntryType are published in the OpenAPI document as they
# are: a docstring on them would change it.


class Direction(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"

    def opposite(self) -> Direction:
        """The other side of an entry."""
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
    """How a posting counts: posted, held pending, or releasing a pending amount."""

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
    DISTRIBUTION = "distribution"
    """A batch of a distribution leaves the fund's distribution account."""


class Origin(StrEnum):
    """Who wrote an entry: staff by hand, or one of the ledger's business flows."""

    MANUAL = "manual"
    FLOW = "flow"


class ReferenceType(StrEnum):
    """What a flow entry names in ``reference_type``; the trigger reads ``subscription``
    and ``fund``, and the once-only indexes ``subscription``, ``distribution`` and
    ``grant``."""

    SUBSCRIPTION = "subscription"
    DISTRIBUTION = "distribution"
    """``<fund id>/<period number>``: a declared distribution."""
    DEPOSIT = "deposit"
    PAYOUT = "payout"
    FUND = "fund"
    ENTRY = "entry"
    GRANT = "grant"
    """A municipality's grant, by its award id (``SubsidyGranted``)."""


class OwnerType(StrEnum):
    """Whose an account is (``accounts.owner_type``); the trigger's segregation section
    reads ``bank``, ``investor`` and ``msme``."""

    FUND = "fund"
    INVESTOR = "investor"
    MSME = "msme"
    MUNICIPALITY = "municipality"
    BANK = "bank"
    PLATFORM = "platform"


MANUAL_PURPOSES = frozenset({Purpose.ADJUSTMENT, Purpose.TRANSFER})
"""What staff may book by hand; every other purpose is written only by a business flow."""

FLOW_AUTHOR = "service:ledger"
"""``created_by`` of the entries the ledger writes on its own (matches, refunds, releases)."""

SUSPENSE = "suspense"
PLATFORM_FEES = "platform/fees"
TAX_WITHHOLDING = "tax/withholding"

ACCOUNT_CODE = re.compile(r"^[a-z][a-z_]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)*$")


def escrow_account(fund_id: UUID | str) -> str:
    """The code of a fund's segregated escrow account."""
    return f"fund/{fund_id}/escrow"


def distribution_account(fund_id: UUID | str) -> str:
    """The code of the segregated account a fund's distributions are paid into and out of."""
    return f"fund/{fund_id}/distribution"


def receivable_account(msme_id: UUID | str) -> str:
    """The code of what a business owes the operator (operation and audit fees)."""
    return f"msme/{msme_id}/receivable"


def wallet_account(investor_id: UUID | str) -> str:
    """The code of an investor's wallet."""
    return f"investor/{investor_id}/wallet"


def payable_account(msme_id: UUID | str) -> str:
    """The code of what the platform owes a business."""
    return f"msme/{msme_id}/payable"


def clearing_account(bank_id: str) -> str:
    """The code of the platform's cash at a partner bank."""
    return f"bank/{bank_id}/clearing"


def subsidy_account(municipality: str) -> str:
    """The code of what the platform holds for a municipality's grants."""
    return f"municipality/{municipality}/subsidy"


def municipality_receivable_account(municipality: str) -> str:
    """The code of what a municipality owes the operator: its share of the arrangement fees
    of the funds its programmes subsidise, until its transfer arrives."""
    return f"municipality/{municipality}/receivable"


# -- problems --------------------------------------------------------------------------


class EntryRefused(UnprocessableContent):
    problem = "entry-refused"
    title = "The entry breaks a bookkeeping rule"


class UnbalancedEntry(EntryRefused):
    """Per currency, the entry's debits and credits differ."""


class UnknownAccount(UnprocessableContent):
    problem = "unknown-account"
    title = "The account is not in the chart of accounts, or its id names nothing"

    def __init__(self, account: str, reason: str) -> None:
        super().__init__(f"{account!r} {reason}", account=account)
        self.account = account


class SegregationRefused(UnprocessableContent):
    problem = "segregation"
    title = "A fund's money moves only through payments, refunds and its release"


class InsufficientBalance(Conflict):
    problem = "insufficient-balance"
    title = "An account would break its balance condition"


class IdempotencyKeyConflict(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different entry"


class NotPending(Conflict):
    problem = "not-pending"
    title = "Only a pending entry can be posted or voided"


class NotReversible(Conflict):
    problem = "not-reversible"
    title = "Only posted entries can be reversed; void a pending entry instead"


class NotManual(Conflict):
    problem = "not-manual"
    title = "Only manual entries are resolved or reversed here"


# -- legs and entries ------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """One side of an entry: an account, a direction and a positive amount."""

    account: str
    direction: Direction
    amount: int
    currency: str

    def mirrored(self) -> Leg:
        """The same leg on the other side: what undoes it."""
        return replace(self, direction=self.direction.opposite())


@dataclass(frozen=True)
class StatusLeg:
    """A leg with the posting status it is written with."""

    leg: Leg
    status: PostingStatus


@dataclass(frozen=True)
class EntryDraft:
    """An entry ready to be written: its legs (with statuses) and its header."""

    legs: Sequence[StatusLeg]
    entry_type: EntryType
    purpose: Purpose
    description: str
    effective_date: date
    idempotency_key: str
    request_hash: str
    created_by: str
    origin: Origin
    """manual (staff, with a reason) or flow (deposits, refunds, releases, payouts)."""
    reference_type: str | None = None
    reference_id: str | None = None
    pending_entry_id: UUID | None = None
    reverses_entry_id: UUID | None = None
    reason: str | None = None
    """Why staff booked it (manual entries only)."""


def posted_legs(legs: Iterable[Leg]) -> list[StatusLeg]:
    """``legs`` written as posted money."""
    return [StatusLeg(leg, PostingStatus.POSTED) for leg in legs]


def validate_legs(legs: Sequence[Leg]) -> None:
    """Refuse an entry that is not balanced per currency or has a meaningless leg.

    The database checks the same: the ``postings_apply`` trigger refuses an entry
    with fewer than two postings or unbalanced per currency and status (migration
    ``2026_11_22_books.py``, redefined by ``2026_11_28_segregation.py``), and the
    CHECK ``postings.amount_positive`` a leg that is not positive.
    """
    if len(legs) < 2:
        raise EntryRefused("an entry needs at least two postings")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or leg.amount <= 0:
            raise EntryRefused(f"posting to {leg.account}: amount must be a positive integer")
        if not ACCOUNT_CODE.match(leg.account):
            raise EntryRefused(f"{leg.account!r} is not an account code")
    for currency, net in net_by_currency(legs).items():
        if net != 0:
            raise UnbalancedEntry(f"{currency} debits and credits differ by {abs(net)}")


def net_by_currency(legs: Iterable[Leg]) -> dict[str, int]:
    """Debits minus credits per currency (zero for a balanced entry)."""
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.currency] += leg.amount if leg.direction is Direction.DEBIT else -leg.amount
    return dict(net)


def check_account_currency(code: str, *, kept_in: str, posted_in: str) -> None:
    """An account keeps one currency: a leg in another is refused.

    The database checks the same (``postings_apply`` trigger, "posts another currency
    to", migration ``2026_11_28_segregation.py``).
    """
    if kept_in != posted_in:
        raise EntryRefused(f"{code} is kept in {kept_in}, not {posted_in}")


def check_same_request(stored_hash: str, request_hash: str) -> None:
    """A replayed Idempotency-Key must carry the entry it was first used for."""
    if stored_hash != request_hash:
        raise IdempotencyKeyConflict("this Idempotency-Key was used for a different entry")


def check_same_batch(stored_hashes: Sequence[str | None], request_hashes: Sequence[str]) -> None:
    """A replayed batch key must carry the same entries, each as first sent (``None``: an
    entry the first batch did not have)."""
    if list(stored_hashes) != list(request_hashes):
        raise IdempotencyKeyConflict("this Idempotency-Key was used for a different batch")


# -- manual entries --------------------------------------------------------------------


def is_fund_account(code: str) -> bool:
    """Whether ``code`` is one of a fund's accounts (however malformed its id)."""
    return code.startswith("fund/")


def check_manual_entry(purpose: Purpose, legs: Sequence[Leg]) -> None:
    """Staff book by hand only adjustments and transfers, and never touch a fund's money.

    The database checks the same: the ``manual_purposes`` CHECK of
    ``journal_entries`` and the segregation section of the ``postings_apply``
    trigger (a fund's accounts take flow entries only), both in migration
    ``2026_11_28_segregation.py``.
    """
    if purpose not in MANUAL_PURPOSES:
        allowed = ", ".join(sorted(p.value for p in MANUAL_PURPOSES))
        raise SegregationRefused(
            f"{purpose.value} entries are written by the business flows only; by hand: {allowed}"
        )
    for leg in legs:
        if is_fund_account(leg.account):
            raise SegregationRefused(
                f"{leg.account} is a fund's account: its money moves only through the "
                "business flows (payment, refund, release)"
            )


def check_manual_legs(purpose: Purpose, legs: Sequence[Leg]) -> None:
    """A manual entry names accounts of the chart, stays away from a fund's money, and
    balances; refused in that order."""
    for leg in legs:
        chart_of_accounts(leg.account)
    check_manual_entry(purpose, legs)
    validate_legs(legs)


def manual_entry(
    *,
    purpose: Purpose,
    legs: Sequence[Leg],
    pending: bool,
    description: str,
    reason: str,
    effective_date: date,
    reference_type: str | None,
    reference_id: str | None,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
) -> EntryDraft:
    """Staff's entry, posted at once or held pending until they post or void it."""
    check_manual_legs(purpose, legs)
    status = PostingStatus.PENDING if pending else PostingStatus.POSTED
    return EntryDraft(
        legs=[StatusLeg(leg, status) for leg in legs],
        entry_type=EntryType.PENDING if pending else EntryType.STANDARD,
        purpose=purpose,
        description=description,
        effective_date=effective_date,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=reference_type,
        reference_id=reference_id,
        origin=Origin.MANUAL,
        reason=reason,
    )


def recorded_reason(origin: Origin, reason: str | None) -> str | None:
    """Manual entries record why staff booked them; flow entries record no reason.

    The database checks the same (CHECK ``journal_entries.manual_entries_give_a_reason``,
    migration ``2026_11_28_segregation.py``).
    """
    return reason if origin is Origin.MANUAL else None


# -- pending entries and reversals -----------------------------------------------------


def check_resolved_by_hand(origin: Origin) -> None:
    """Staff post or void only manual pending entries: a payout is settled by its bank."""
    if origin is not Origin.MANUAL:
        raise NotManual(
            "this entry belongs to a business flow (a payout is confirmed or failed by its bank "
            "through /payouts/{id}/confirm or /fail)"
        )


def check_reversed_by_hand(origin: Origin) -> None:
    """Staff reverse only manual entries: a flow's effect is undone by its own flow.

    The database checks the same (``postings_apply`` trigger, "may reverse only a
    posted manual entry", migration ``2026_11_28_segregation.py``).
    """
    if origin is not Origin.MANUAL:
        raise NotManual(
            "this entry belongs to a business flow; its effects are undone by that flow "
            "(a refund, a returned deposit), not by a reversal"
        )


def check_pending(entry_id: UUID, entry_type: EntryType) -> None:
    """Only a pending entry is posted or voided.

    The database checks the same (``postings_apply`` trigger, "may resolve only a
    pending entry of its own origin", migration ``2026_11_28_segregation.py``; once:
    the unique ``uq_journal_entries_pending_entry_id``).
    """
    if entry_type is not EntryType.PENDING:
        raise NotPending(f"entry {entry_id} is {entry_type.value}")


def check_reversible(entry_id: UUID, entry_type: EntryType) -> None:
    """Only a posted entry (standard, or a posted pending one) is reversed; a pending one
    is voided instead.

    The database checks the same (``postings_apply`` trigger, "may reverse only a
    posted manual entry", migration ``2026_11_28_segregation.py``; once: the unique
    ``uq_journal_entries_reverses_entry_id``).
    """
    if entry_type not in (EntryType.STANDARD, EntryType.POST_PENDING):
        raise NotReversible(f"entry {entry_id} is {entry_type.value}")


def resolution_legs(pending: Sequence[Leg], *, post: bool) -> list[StatusLeg]:
    """What settles a pending entry: its amounts released and, when posting, posted.

    The database checks the same (``postings_apply``: "does not settle exactly
    pending entry", migration ``2026_11_28_segregation.py``).
    """
    legs = [StatusLeg(leg, PostingStatus.RELEASE) for leg in pending]
    if post:
        legs += [StatusLeg(leg, PostingStatus.POSTED) for leg in pending]
    return legs


def resolution_type(*, post: bool) -> EntryType:
    """Posting writes a ``post_pending`` entry, voiding a ``void_pending`` one."""
    return EntryType.POST_PENDING if post else EntryType.VOID_PENDING


def reversal_of(legs: Sequence[Leg]) -> list[Leg]:
    """The legs that undo ``legs``: same accounts and amounts, directions swapped."""
    return [leg.mirrored() for leg in legs]


def mirrors(original: Sequence[Leg], reversal: Sequence[Leg]) -> bool:
    """Whether ``reversal`` undoes ``original`` exactly: same accounts, currencies and
    amounts, directions swapped, nothing more or less.

    The database checks the same (``postings_apply`` trigger, "does not mirror entry
    exactly", migration ``2026_11_28_segregation.py``; its comment names this rule
    since migration ``2026_11_29_rule_names.py``). Entries themselves never change: the
    triggers ``journal_entries_immutable`` and ``postings_immutable`` (function
    ``ledger_refuse_change``, migration ``2026_11_22_books.py``) refuse any UPDATE or
    DELETE, so a reversal is the only correction.
    """
    return Counter(reversal_of(original)) == Counter(reversal)


# -- balances --------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """Running totals of an account, kept per posting status: posted, and pending apart."""

    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0

    def apply(self, direction: Direction, amount: int, status: PostingStatus) -> Balance:
        """The totals after one posting."""
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
        """Whether ``balance`` keeps these conditions.

        The database checks the same on the sum of the account's slots at the end
        of every statement that posts to it (``postings_apply`` trigger, "balance
        condition", migration ``2026_11_28_segregation.py``), answered as
        ``InsufficientBalance``.
        """
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

    def could_be_broken_by(self, leg: StatusLeg) -> bool:
        """Whether ``leg`` could break these conditions, so that its writer must hold the
        account's lock while the database checks them (decision 0004)."""
        if leg.status is PostingStatus.RELEASE:
            return False
        if leg.leg.direction is Direction.DEBIT:
            return self.debits_must_not_exceed_credits
        return self.credits_must_not_exceed_debits


def signed(kind: AccountKind, direction: Direction, amount: int) -> int:
    """The effect of a posted amount on the account's normal-side balance."""
    grows = Direction.DEBIT if kind.debit_normal else Direction.CREDIT
    return amount if direction is grows else -amount


def running_balances(
    kind: AccountKind, opening: int, lines: Iterable[tuple[Direction, int]]
) -> list[int]:
    """A statement's balance after each posted line, from the balance before the first."""
    out = []
    running = opening
    for direction, amount in lines:
        running += signed(kind, direction, amount)
        out.append(running)
    return out


def trial_balance_net(totals: Iterable[tuple[str, int, int]]) -> dict[str, int]:
    """Posted debits less credits per currency, from (currency, debits, credits) totals;
    the books balance when every currency nets to zero."""
    net: dict[str, int] = {}
    for currency, debits, credits in totals:
        net[currency] = net.get(currency, 0) + debits - credits
    return net


# -- the chart of accounts -------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    """What the platform's chart of accounts says an account code is."""

    code: str
    kind: AccountKind
    owner_type: OwnerType
    owner_id: str | None
    conditions: Conditions
    segregated: bool = False

    @property
    def partner_bank(self) -> str | None:
        """The partner bank a clearing account is kept at (it must be registered)."""
        return self.owner_id if self.owner_type is OwnerType.BANK else None


_NO_NEGATIVE = Conditions(debits_must_not_exceed_credits=True)
_NO_OVERDRAFT = Conditions(credits_must_not_exceed_debits=True)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A UUID as the platform writes it (lower case, hyphenated): one account per owner."""

_PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def _uuid_id(code: str, value: str, what: str) -> str:
    if not _UUID.match(value):
        raise UnknownAccount(code, f"does not name a {what}: {value!r} is not a UUID")
    return value


@lru_cache(maxsize=65_536)
def chart_of_accounts(code: str) -> AccountSpec:
    """The kind, owner and conditions of a standard account code; ids must be what they name.

    ``fund/<fund id>/escrow`` is the fund's segregated money, and
    ``fund/<fund id>/distribution`` what its business paid in for a distribution, until it
    is paid out; ``msme/<msme id>/receivable`` is what a business owes the operator;
    ``municipality/<local government code>/receivable`` is a municipality's share of
    the arrangement fees its grants pay, until it pays;
    ``investor/<investor id>/wallet``, ``msme/<msme id>/payable``,
    ``municipality/<local government code>/subsidy``, ``tax/withholding`` and
    ``suspense`` are what the platform owes; ``bank/<partner bank>/clearing`` is
    cash at a partner bank (the bank must be registered: the database is asked);
    ``platform/fees`` is the operator's revenue. Fund, investor and business ids
    are UUIDs in lower case. The database checks the same shapes (``accounts``
    CHECK ``code_in_chart``; a fund's accounts are segregated: CHECK
    ``fund_accounts_segregated``; both in migration ``2026_11_28_segregation.py``).
    """
    parts = code.split("/")
    match parts:
        case ["fund", fund_id, "escrow"]:
            owner = _uuid_id(code, fund_id, "fund")
            return AccountSpec(
                code, AccountKind.LIABILITY, OwnerType.FUND, owner, _NO_NEGATIVE, True
            )
        case ["fund", fund_id, "distribution"]:
            owner = _uuid_id(code, fund_id, "fund")
            return AccountSpec(
                code, AccountKind.LIABILITY, OwnerType.FUND, owner, _NO_NEGATIVE, True
            )
        case ["msme", msme_id, "receivable"]:
            owner = _uuid_id(code, msme_id, "business")
            return AccountSpec(code, AccountKind.ASSET, OwnerType.MSME, owner, _NO_OVERDRAFT)
        case ["investor", investor_id, "wallet"]:
            owner = _uuid_id(code, investor_id, "investor")
            return AccountSpec(code, AccountKind.LIABILITY, OwnerType.INVESTOR, owner, _NO_NEGATIVE)
        case ["msme", msme_id, "payable"]:
            owner = _uuid_id(code, msme_id, "business")
            return AccountSpec(code, AccountKind.LIABILITY, OwnerType.MSME, owner, _NO_NEGATIVE)
        case ["municipality", municipality, "subsidy" | "receivable" as what]:
            if not is_local_government_code(municipality):
                raise UnknownAccount(
                    code,
                    f"does not name a municipality: {municipality!r} is not a "
                    "six-digit local government code",
                )
            if what == "receivable":
                return AccountSpec(
                    code, AccountKind.ASSET, OwnerType.MUNICIPALITY, municipality, _NO_OVERDRAFT
                )
            return AccountSpec(
                code, AccountKind.LIABILITY, OwnerType.MUNICIPALITY, municipality, _NO_NEGATIVE
            )
        case ["bank", bank_id, "clearing"]:
            if not _PARTNER_ID.match(bank_id):
                raise UnknownAccount(code, f"does not name a bank: {bank_id!r}")
            return AccountSpec(code, AccountKind.ASSET, OwnerType.BANK, bank_id, _NO_OVERDRAFT)
        case ["platform", "fees"]:
            return AccountSpec(code, AccountKind.REVENUE, OwnerType.PLATFORM, None, _NO_NEGATIVE)
        case ["tax", "withholding"]:
            return AccountSpec(code, AccountKind.LIABILITY, OwnerType.PLATFORM, None, _NO_NEGATIVE)
        case ["suspense"]:
            return AccountSpec(code, AccountKind.LIABILITY, OwnerType.PLATFORM, None, _NO_NEGATIVE)
    raise UnknownAccount(code, "is not in the chart of accounts")


# -- who reads what --------------------------------------------------------------------

_OWN_ACCOUNTS: dict[Role, tuple[Callable[[str], str], ...]] = {
    Role.INVESTOR: (wallet_account,),
    Role.BANK: (clearing_account,),
    Role.MSME: (payable_account,),
    Role.MUNICIPALITY: (subsidy_account, municipality_receivable_account),
}


def may_read(principal: Principal, *, accounts: Iterable[str]) -> bool:
    """Staff read every account (and every entry); an investor, bank, business or
    municipality reads only its own accounts, and an entry only if it touches no other."""
    if principal.role is Role.STAFF:
        return True
    own = {account(principal.tenant) for account in _OWN_ACCOUNTS.get(principal.role, ())}
    return bool(own) and all(code in own for code in accounts)


# -- segregation: what may move a fund's money (decision 0008) ---------------------------


class PaymentStatus(StrEnum):
    """Where a subscription's payment stands in the ledger (``expected_payments.status``).

    expected -> paid (a deposit matched it) -> refunded or released;
    expected -> cancelled. The deposits rules decide the first move, the closing
    rules the others; the segregation rules below read it, as the trigger does.
    """

    EXPECTED = "expected"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RELEASED = "released"


class FundStatus(StrEnum):
    """Where a fund stands in the ledger (``funds.status``, CHECK ``status_known``).

    open -> formed (written just before its release entry) -> released;
    open -> closed_failed; open -> release_held (figures disagree: staff look first).
    The closing rules decide the moves; the segregation rules read it, as the
    trigger does.
    """

    OPEN = "open"
    FORMED = "formed"
    RELEASED = "released"
    CLOSED_FAILED = "closed_failed"
    RELEASE_HELD = "release_held"


@dataclass(frozen=True)
class PaymentFacts:
    """What the ledger knows of the subscription an escrow entry names."""

    subscription_id: str
    fund_id: str
    investor_id: str
    amount: int
    currency: str
    status: PaymentStatus


@dataclass(frozen=True)
class FundFacts:
    """What the ledger knows of the fund whose escrow an entry touches."""

    fund_id: str
    msme_id: str
    status: FundStatus
    paid_in: int = 0
    """Sum of the subscriptions paid and not refunded (what a release takes out)."""
    fees_due: int = 0
    """Handling fees of those subscriptions plus the fund's arrangement fee."""
    grant_account: str | None = None
    """The receivable of the municipality whose grant pays part of the arrangement fee."""
    grant_amount: int = 0
    """That municipality's share, booked at the release instead of taken from escrow."""


class DistributionStatus(StrEnum):
    """Where a declared distribution stands in the ledger (``distributions.status``).

    declared (awaiting the business's payment, unless it owes nothing) -> funded (paid
    in) -> paid (every batch booked and its payouts instructed)."""

    DECLARED = "declared"
    FUNDED = "funded"
    PAID = "paid"


@dataclass(frozen=True)
class DistributionFacts:
    """What the segregation rules need to know of a distribution an entry moves."""

    fund_id: str
    period_number: int
    msme_id: str
    status: DistributionStatus
    business_owes: int
    currency: str
    nets: Mapping[str, int] = field(default_factory=dict)
    """Per investor id, the net of the lines a batch pays (for a batch entry)."""

    @property
    def reference(self) -> str:
        return distribution_reference(self.fund_id, self.period_number)


def distribution_reference(fund_id: UUID | str, period_number: int) -> str:
    """``reference_id`` of a distribution's entries: ``<fund id>/<period number>``."""
    return f"{fund_id}/{period_number}"


def _escrow_fund(legs: Sequence[Leg]) -> tuple[list[Leg], str | None]:
    escrow = [leg for leg in legs if is_fund_account(leg.account)]
    funds = {leg.account.split("/")[1] if leg.account.count("/") == 2 else "" for leg in escrow}
    if len(funds) > 1:
        raise SegregationRefused("an entry may touch the accounts of one fund only")
    return escrow, next(iter(funds), None)


def check_segregation(
    purpose: Purpose,
    legs: Sequence[Leg],
    *,
    reference_id: str | None = None,
    payment: PaymentFacts | None = None,
    fund: FundFacts | None = None,
    distribution: DistributionFacts | None = None,
) -> None:
    """Refuse any movement of a fund's money other than the business flows allow.

    - payment: a deposit matched to a subscription the fund awaits, for exactly
      the amount due, from a bank's clearing account or from suspense;
    - refund: of a paid subscription, exactly what was paid, to its payer's wallet;
    - release: once the fund formed, everything paid in, to that fund's own
      business less the fees due under its terms (once: ``reference_id`` is the fund);
      the municipality whose grant pays part of the arrangement fee owes that part
      instead (a debit of its receivable, exactly the grant the ledger holds).

    The database checks the same in the ``postings_apply`` trigger (section
    "segregation") and once per subscription and per fund with the unique
    indexes ``uq_journal_entries_payment_once``, ``_refund_once`` and
    ``_release_once``, so a bug here or a hand-written statement cannot move it.
    Both are in migration ``2026_11_28_segregation.py``; the trigger's comment
    names this rule since migration ``2026_11_29_rule_names.py``, and its grant
    since ``2026_11_29_grants.py``.
    """
    escrow, fund_id = _escrow_fund(legs)
    if not escrow:
        return
    if len(escrow) != 1:
        raise SegregationRefused("an entry moves a fund's escrow in one leg only")
    leg = escrow[0]
    others = [other for other in legs if other is not leg]
    if leg.account.endswith("/distribution") or purpose is Purpose.DISTRIBUTION:
        check_distribution(purpose, leg, others, reference_id=reference_id, facts=distribution)
    elif purpose is Purpose.DEPOSIT:
        _check_payment(leg, others, fund_id, reference_id, payment, fund)
    elif purpose is Purpose.REFUND:
        _check_refund(leg, others, fund_id, reference_id, payment)
    elif purpose is Purpose.RELEASE:
        _check_release(leg, others, fund_id, reference_id, fund)
    else:
        raise SegregationRefused(
            f"{purpose.value} may not move money of {leg.account}; only a matched payment, "
            "a refund of it or the release to the fund's business may"
        )


def check_distribution(
    purpose: Purpose,
    leg: Leg,
    others: Sequence[Leg],
    *,
    reference_id: str | None,
    facts: DistributionFacts | None,
) -> None:
    """A fund's distribution account moves only for a declared distribution:

    - payment (``deposit``): the business pays it, exactly what it owes, from a bank's
      clearing account or suspense, while it is declared (once: the unique index
      ``uq_journal_entries_distribution_payment_once``);
    - ``distribution``: a batch leaves it while it is funded, to the wallets of the
      distribution's investors for exactly their net, the withholding account, the
      operator's fees and the business's receivable. The account never goes below
      zero, so no more leaves than was paid in.

    The ``postings_apply`` trigger checks the same (migration
    ``2026_11_29_distributions.py``).
    """
    if facts is None or leg.account != distribution_account(facts.fund_id):
        raise SegregationRefused(f"{leg.account} moves only for a declared distribution of it")
    if reference_id != facts.reference or leg.currency != facts.currency:
        raise SegregationRefused(f"an entry of distribution {facts.reference} names it")
    if purpose is Purpose.DEPOSIT:
        if leg.direction is not Direction.CREDIT or len(others) != 1 or not _is_payer(others[0]):
            raise SegregationRefused(
                "a distribution is paid in from a bank's clearing account or suspense"
            )
        if facts.status is not DistributionStatus.DECLARED or leg.amount != facts.business_owes:
            raise SegregationRefused(
                f"distribution {facts.reference} awaits no payment of {leg.amount}"
            )
    elif purpose is Purpose.DISTRIBUTION:
        if leg.direction is not Direction.DEBIT or facts.status is not DistributionStatus.FUNDED:
            raise SegregationRefused(f"distribution {facts.reference} is not funded")
        allowed = {TAX_WITHHOLDING, PLATFORM_FEES, receivable_account(facts.msme_id)}
        nets = {wallet_account(investor): net for investor, net in facts.nets.items()}
        for other in others:
            fits = other.account in allowed or nets.get(other.account) == other.amount
            if other.direction is not Direction.CREDIT or not fits:
                raise SegregationRefused(
                    f"distribution {facts.reference} does not pay {other.account} {other.amount}"
                )
    else:
        raise SegregationRefused(f"{purpose.value} may not move money of {leg.account}")


def _is_payer(leg: Leg) -> bool:
    return leg.account == SUSPENSE or (
        leg.account.startswith("bank/") and leg.account.endswith("/clearing")
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
        raise SegregationRefused("a payment only adds to a fund's escrow")
    if len(others) != 1 or not _is_payer(others[0]):
        raise SegregationRefused("a payment comes from a bank's clearing account or suspense")
    if payment is None or payment.subscription_id != reference_id:
        raise SegregationRefused("a payment into escrow names the subscription it pays")
    if payment.fund_id != fund_id:
        raise SegregationRefused(f"subscription {reference_id} is not in this fund")
    if payment.status is not PaymentStatus.EXPECTED:
        raise SegregationRefused(
            f"subscription {reference_id} is {payment.status.value}, not awaited"
        )
    if (payment.amount, payment.currency) != (leg.amount, leg.currency):
        raise SegregationRefused(
            f"subscription {reference_id} awaits {payment.amount} {payment.currency}, "
            f"not {leg.amount} {leg.currency}"
        )
    if fund is None or fund.fund_id != fund_id or fund.status is not FundStatus.OPEN:
        raise SegregationRefused(f"fund {fund_id} is not open for payments")


def _check_refund(
    leg: Leg,
    others: Sequence[Leg],
    fund_id: str | None,
    reference_id: str | None,
    payment: PaymentFacts | None,
) -> None:
    if leg.direction is not Direction.DEBIT:
        raise SegregationRefused("a refund takes money out of escrow")
    if payment is None or payment.subscription_id != reference_id:
        raise SegregationRefused("a refund names the subscription it pays back")
    if payment.fund_id != fund_id or payment.status is not PaymentStatus.PAID:
        raise SegregationRefused(f"subscription {reference_id} has nothing paid in this fund")
    wallet = wallet_account(payment.investor_id)
    if len(others) != 1 or others[0].account != wallet:
        raise SegregationRefused(f"a refund goes to its payer's wallet, {wallet}")
    if (leg.amount, leg.currency) != (payment.amount, payment.currency):
        raise SegregationRefused(
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
        raise SegregationRefused("a release takes money out of escrow")
    if fund is None or fund.fund_id != fund_id or reference_id != fund_id:
        raise SegregationRefused("a release names the fund whose escrow it empties")
    if fund.status is not FundStatus.FORMED:
        raise SegregationRefused(
            f"fund {fund_id} is {fund.status.value}: only a formed fund is released"
        )
    payable = payable_account(fund.msme_id)
    if any(o.currency != leg.currency for o in others):
        raise SegregationRefused("a release only pays the business and the fees")
    grants = [o for o in others if o.direction is Direction.DEBIT]
    if any(o.account != fund.grant_account for o in grants) or len(grants) > 1:
        raise SegregationRefused(
            "a release takes from nothing but the escrow and the receivable of the "
            "municipality whose grant pays part of the arrangement fee"
        )
    granted = sum(o.amount for o in grants)
    if granted != fund.grant_amount:
        raise SegregationRefused(
            f"a release books the municipality's share of the arrangement fee "
            f"({fund.grant_amount}), not {granted}"
        )
    credits = [o for o in others if o.direction is Direction.CREDIT]
    strangers = [o.account for o in credits if o.account not in (payable, PLATFORM_FEES)]
    if strangers:
        raise SegregationRefused(
            f"a release pays only {payable} and {PLATFORM_FEES}, not {strangers[0]}"
        )
    fees = sum(o.amount for o in credits if o.account == PLATFORM_FEES)
    if leg.amount != fund.paid_in or fees != fund.fees_due:
        raise SegregationRefused(
            f"a release takes out everything paid in ({fund.paid_in}) and keeps the fees due "
            f"({fund.fees_due}), not {leg.amount} and {fees}"
        )


def flow_entry(
    *,
    purpose: Purpose,
    legs: Sequence[Leg],
    description: str,
    effective_date: date,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    reference_type: ReferenceType,
    reference_id: str,
    payment: PaymentFacts | None = None,
    fund: FundFacts | None = None,
    distribution: DistributionFacts | None = None,
) -> EntryDraft:
    """A business flow's posted entry, once ``check_segregation`` allows its legs."""
    check_segregation(
        purpose,
        legs,
        reference_id=reference_id,
        payment=payment,
        fund=fund,
        distribution=distribution,
    )
    return EntryDraft(
        legs=posted_legs(legs),
        entry_type=EntryType.STANDARD,
        purpose=purpose,
        description=description,
        effective_date=effective_date,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=reference_type.value,
        reference_id=reference_id,
        origin=Origin.FLOW,
    )
