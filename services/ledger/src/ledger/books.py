"""Writing to and reading from the books (database side of the ledger)."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, case, event, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from kumiai.contracts.onboarding import PartnerKind
from kumiai.errors import Conflict, UnprocessableContent
from kumiai.partners import partner_exists
from ledger.db.models import Account, AccountBalance, JournalEntry, Posting
from ledger.domain.books import (
    AccountKind,
    AccountSpec,
    Balance,
    Direction,
    EntryType,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    SegregationError,
    UnknownAccountError,
    chart_of_accounts,
)


class EntryRefused(UnprocessableContent):
    problem = "entry-refused"
    title = "The entry breaks a bookkeeping rule"


class SegregationRefused(UnprocessableContent):
    problem = "segregation"
    title = "A fund's money moves only through payments, refunds and its release"


class UnknownAccount(UnprocessableContent):
    problem = "unknown-account"
    title = "The account is not in the chart of accounts, or its id names nothing"

    def __init__(self, account: str, detail: str) -> None:
        super().__init__(detail, account=account)


def unknown_account(exc: UnknownAccountError) -> UnknownAccount:
    return UnknownAccount(exc.account, str(exc))


class InsufficientBalance(Conflict):
    problem = "insufficient-balance"
    title = "An account would break its balance condition"


class AlreadyResolved(Conflict):
    problem = "already-resolved"
    title = "This entry was already posted, voided or reversed"


class IdempotencyKeyConflict(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different entry"


@dataclass(frozen=True)
class StatusLeg:
    """A leg with the posting status it is written with."""

    leg: Leg
    status: PostingStatus


@dataclass(frozen=True)
class AccountRef:
    """What writing an entry needs to know of an account."""

    id: UUID
    code: str
    currency: str
    segregated: bool
    owner_id: str | None
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool

    def reduced_by(self, leg: StatusLeg) -> bool:
        """Could this leg break the account's balance condition?"""
        if leg.status is PostingStatus.RELEASE:
            return False
        if leg.leg.direction is Direction.DEBIT:
            return self.debits_must_not_exceed_credits
        return self.credits_must_not_exceed_debits


_READ_ACCOUNTS = text(
    "SELECT id, code, currency, segregated, owner_id, debits_must_not_exceed_credits, "
    "credits_must_not_exceed_debits FROM accounts WHERE code = ANY(CAST(:codes AS text[]))"
)
# NO KEY UPDATE: writers that only add to the account (their postings take a
# KEY SHARE lock through the foreign key) are not held up.
_LOCK_ACCOUNTS = text(
    "SELECT id FROM accounts WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR NO KEY UPDATE"
)


async def lock_accounts(session: AsyncSession, legs: Sequence[StatusLeg]) -> dict[str, AccountRef]:
    """The accounts of ``legs``, opened on first use; those the legs could overdraw locked.

    Three phases, in the same order in every writer, so that no two writers
    deadlock: open missing accounts (in code order), lock the accounts the
    legs could overdraw (in id order, held until commit), and only then write
    entries, postings and running totals. Writers that only add to an account
    do not wait for each other (see the ``account_balances`` slots).
    """
    currency_of = {s.leg.account: s.leg.currency for s in legs}
    wanted = sorted(currency_of)
    cache = _account_cache(session)
    found = {c: cache[c] for c in wanted if c in cache}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        found.update(await _read_accounts(session, unknown))
        missing = [c for c in unknown if c not in found]
        if missing:
            specs = [account_spec(c) for c in missing]
            await _check_owners_exist(session, specs)
            await _open_accounts(session, [_new_account(s, currency_of[s.code]) for s in specs])
            found.update(await _read_accounts(session, missing))
        _remember_after_commit(session, [found[c] for c in unknown])
    for code, account in found.items():
        if account.currency != currency_of[code]:
            raise EntryRefused(f"{code} is kept in {account.currency}, not {currency_of[code]}")
    reduced = sorted({found[s.leg.account].id for s in legs if found[s.leg.account].reduced_by(s)})
    if reduced:
        await session.execute(_LOCK_ACCOUNTS, {"ids": reduced})
    return found


# Accounts are never changed or deleted once opened, so each process keeps what
# it has seen (per engine). An account enters the cache only when the
# transaction that read or opened it commits: one opened by a transaction that
# then rolls back does not exist.
_ACCOUNT_CACHES: weakref.WeakKeyDictionary[Engine, dict[str, AccountRef]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LIMIT = 200_000
_TO_REMEMBER = "ledger.accounts_to_remember"


def _account_cache(session: AsyncSession) -> dict[str, AccountRef]:
    engine = session.sync_session.get_bind()
    assert isinstance(engine, Engine)
    return _ACCOUNT_CACHES.setdefault(engine, {})


def _remember_after_commit(session: AsyncSession, accounts: list[AccountRef]) -> None:
    pending: list[AccountRef] = session.info.setdefault(_TO_REMEMBER, [])
    pending.extend(accounts)


@event.listens_for(Session, "after_commit")
def _remember_accounts(session: Session) -> None:
    accounts: list[AccountRef] | None = session.info.pop(_TO_REMEMBER, None)
    if not accounts:
        return
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    cache = _ACCOUNT_CACHES.setdefault(engine, {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    cache.update((a.code, a) for a in accounts)


@event.listens_for(Session, "after_rollback")
def _forget_accounts(session: Session) -> None:
    session.info.pop(_TO_REMEMBER, None)


async def _read_accounts(session: AsyncSession, codes: Sequence[str]) -> dict[str, AccountRef]:
    rows = (await session.execute(_READ_ACCOUNTS, {"codes": list(codes)})).all()
    return {r.code: AccountRef(*r) for r in rows}


async def _open_accounts(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    # Before any lock is taken (and in code order), so that two writers opening
    # the same new account wait for each other without holding anything else.
    await session.execute(
        insert(Account).values(sorted(rows, key=lambda r: r["code"])).on_conflict_do_nothing()
    )


def account_spec(code: str) -> AccountSpec:
    """The chart's view of ``code``; 422 naming the account if it is not in the chart."""
    try:
        return chart_of_accounts(code)
    except UnknownAccountError as exc:
        raise unknown_account(exc) from exc


async def _check_owners_exist(session: AsyncSession, specs: Sequence[AccountSpec]) -> None:
    """A clearing account is opened only for a registered partner bank (active or not:
    a suspended bank's books may still need correcting)."""
    for spec in specs:
        bank = spec.partner_bank
        if bank is not None and not await partner_exists(
            session, PartnerKind.BANK, bank, active=False
        ):
            raise UnknownAccount(spec.code, f"{spec.code!r} is not kept at a registered bank")


def _new_account(spec: AccountSpec, currency: str) -> dict[str, Any]:
    conditions = spec.conditions
    return {
        "id": uuid.uuid4(),
        "code": spec.code,
        "kind": spec.kind.value,
        "currency": currency,
        "owner_type": spec.owner_type,
        "owner_id": spec.owner_id,
        "segregated": spec.segregated,
        "debits_must_not_exceed_credits": conditions.debits_must_not_exceed_credits,
        "credits_must_not_exceed_debits": conditions.credits_must_not_exceed_debits,
    }


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


# One set-based statement writes the entries and their postings, with a fixed
# number of array parameters however many entries a batch holds. Postings are
# written only for entries that were inserted: an entry whose key (or pending
# or original entry) is taken writes nothing. The database checks every entry
# as a whole when the statement ends (the ``postings_apply`` trigger).
_INSERT_ENTRIES = text(
    "WITH entries AS ("
    " INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type, purpose,"
    " effective_date, description, reference_type, reference_id, pending_entry_id,"
    " reverses_entry_id, created_by, origin, reason)"
    " SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:key AS text[]), CAST(:hash AS text[]),"
    " CAST(:type AS text[]), CAST(:purpose AS text[]), CAST(:day AS date[]),"
    " CAST(:description AS text[]), CAST(:ref_type AS text[]), CAST(:ref_id AS text[]),"
    " CAST(:pending AS uuid[]), CAST(:reverses AS uuid[]), CAST(:by AS text[]),"
    " CAST(:origin AS text[]), CAST(:reason AS text[]))"
    " ON CONFLICT DO NOTHING RETURNING id, seq, created_at"
    "), written_postings AS ("
    " INSERT INTO postings (entry_id, account_id, currency, direction, amount, status)"
    " SELECT u.entry_id, u.account_id, u.currency, u.direction, u.amount, u.status"
    " FROM unnest(CAST(:entry AS uuid[]), CAST(:account AS uuid[]), CAST(:currency AS text[]),"
    " CAST(:direction AS text[]), CAST(:amount AS bigint[]), CAST(:status AS text[]))"
    " WITH ORDINALITY AS u(entry_id, account_id, currency, direction, amount, status, n)"
    " JOIN entries e ON e.id = u.entry_id ORDER BY u.n"
    ") SELECT id, seq, created_at FROM entries"
)


@dataclass(frozen=True)
class Written:
    id: UUID
    seq: int
    created_at: datetime


async def write_entries(
    session: AsyncSession, drafts: Sequence[EntryDraft], accounts: dict[str, AccountRef]
) -> list[Written] | None:
    """Insert entries and their postings in one statement; ``None`` if any key is taken.

    ``accounts`` come from ``lock_accounts``. The database then checks
    balance, conditions and segregation of every entry at once.
    """
    ids = [uuid.uuid4() for _ in drafts]
    pairs = [(entry_id, s) for entry_id, d in zip(ids, drafts, strict=True) for s in d.legs]
    try:
        returned = (
            await session.execute(
                _INSERT_ENTRIES,
                {
                    "id": ids,
                    "key": [d.idempotency_key for d in drafts],
                    "hash": [d.request_hash for d in drafts],
                    "type": [d.entry_type.value for d in drafts],
                    "purpose": [d.purpose.value for d in drafts],
                    "day": [d.effective_date for d in drafts],
                    "description": [d.description for d in drafts],
                    "ref_type": [d.reference_type for d in drafts],
                    "ref_id": [d.reference_id for d in drafts],
                    "pending": [d.pending_entry_id for d in drafts],
                    "reverses": [d.reverses_entry_id for d in drafts],
                    "by": [d.created_by for d in drafts],
                    "origin": [d.origin.value for d in drafts],
                    "reason": [d.reason for d in drafts],
                    "entry": [entry_id for entry_id, _ in pairs],
                    "account": [accounts[s.leg.account].id for _, s in pairs],
                    "currency": [s.leg.currency for _, s in pairs],
                    "direction": [s.leg.direction.value for _, s in pairs],
                    "amount": [s.leg.amount for _, s in pairs],
                    "status": [s.status.value for _, s in pairs],
                },
            )
        ).all()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23503":
            # An account id this process remembered is gone (only a wiped
            # database does that): forget them all before reporting.
            _account_cache(session).clear()
        raise _refusal(exc) from exc
    # A concurrent writer with the same key, or resolving the same pending entry,
    # makes (part of) this a no-op; the caller then replays or reports the conflict.
    if len(returned) != len(drafts):
        return None
    by_id = {r.id: Written(r.id, r.seq, r.created_at) for r in returned}
    return [by_id[i] for i in ids]


async def write_entry(
    session: AsyncSession, draft: EntryDraft, accounts: dict[str, AccountRef]
) -> Written | None:
    """Insert one entry; ``None`` if its key, pending or original entry is taken."""
    written = await write_entries(session, [draft], accounts)
    return written[0] if written else None


def _refusal(exc: IntegrityError) -> Exception:
    # The trigger's messages start with the rule they belong to ("segregation: ...").
    message = str(exc.orig).split("\n")[0]
    detail = message.split(": ", 1)[-1]
    if "balance condition:" in message:
        return InsufficientBalance(detail)
    if "segregation:" in message:
        return SegregationRefused(message.split("segregation: ", 1)[-1])
    return EntryRefused(detail)


def segregation_problem(exc: SegregationError) -> SegregationRefused:
    return SegregationRefused(str(exc))


async def entry_by_key(session: AsyncSession, key: str) -> JournalEntry | None:
    return await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


async def postings_of(session: AsyncSession, entry_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    rows = (
        await session.execute(
            select(
                Posting.entry_id,
                Account.code,
                Posting.direction,
                Posting.amount,
                Posting.currency,
                Posting.status,
            )
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id.in_(entry_ids))
            .order_by(Posting.id)
        )
    ).all()
    out: dict[UUID, list[Any]] = {e: [] for e in entry_ids}
    for row in rows:
        out[row.entry_id].append(row)
    return out


async def current_balance(session: AsyncSession, account_id: UUID) -> Balance:
    """The sum of the account's running-total slots."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(AccountBalance.posted_debits), 0),
                func.coalesce(func.sum(AccountBalance.posted_credits), 0),
                func.coalesce(func.sum(AccountBalance.pending_debits), 0),
                func.coalesce(func.sum(AccountBalance.pending_credits), 0),
            ).where(AccountBalance.account_id == account_id)
        )
    ).one()
    return Balance(*(int(v) for v in row))


async def balance_as_of(session: AsyncSession, account: Account, as_of: date) -> Balance:
    """Totals from the postings of entries effective on or before ``as_of``."""

    def total(status: str, direction: str) -> Any:
        return func.coalesce(
            func.sum(
                case(
                    (
                        and_(Posting.status == status, Posting.direction == direction),
                        Posting.amount,
                    ),
                    else_=0,
                )
            ),
            0,
        )

    row = (
        await session.execute(
            select(
                total("posted", "debit"),
                total("posted", "credit"),
                total("pending", "debit") - total("release", "debit"),
                total("pending", "credit") - total("release", "credit"),
            )
            .select_from(Posting)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == account.id, JournalEntry.effective_date <= as_of)
        )
    ).one()
    return Balance(
        posted_debits=int(row[0]),
        posted_credits=int(row[1]),
        pending_debits=int(row[2]),
        pending_credits=int(row[3]),
    )


def signed(kind: AccountKind, direction: Direction, amount: int) -> int:
    """The effect of a posted amount on the account's normal-side balance."""
    grows = Direction.DEBIT if kind.debit_normal else Direction.CREDIT
    return amount if direction is grows else -amount
