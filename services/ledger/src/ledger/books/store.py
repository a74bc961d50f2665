"""The books in the database: accounts (opened on first use, cached), entries written in
one statement, balances, statements, and what a caller may read.

The database is the last line for every rule of ``ledger.books.rules``: the
``postings_apply`` trigger checks each statement's entries as a whole (balance,
currencies, conditions, segregation, reversals and resolutions); its refusals
are answered here as the rules' problem types.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Engine, Text, and_, case, cast, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from kumiai.contracts.onboarding import PartnerKind
from kumiai.partners import partner_exists
from kumiai.principal import Principal
from kumiai.problems import NotFound, ProblemError
from ledger.books.rules import (
    AccountKind,
    AccountSpec,
    Balance,
    Conditions,
    Direction,
    EntryDraft,
    EntryRefused,
    FundFacts,
    FundStatus,
    InsufficientBalance,
    PostingStatus,
    Purpose,
    SegregationRefused,
    StatusLeg,
    UnknownAccount,
    chart_of_accounts,
    check_account_currency,
    may_read,
)
from ledger.db.models import Account, AccountBalance, Fund, JournalEntry, Posting


@dataclass(frozen=True)
class AccountRef:
    """What writing an entry needs to know of an account."""

    id: UUID
    code: str
    currency: str
    segregated: bool
    owner_id: str | None
    conditions: Conditions


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
            specs = [chart_of_accounts(c) for c in missing]
            await _check_owners_exist(session, specs)
            await open_accounts(session, [(s, currency_of[s.code]) for s in specs])
            found.update(await _read_accounts(session, missing))
        _remember_after_commit(session, [found[c] for c in unknown])
    for code, account in found.items():
        check_account_currency(code, kept_in=account.currency, posted_in=currency_of[code])
    reduced = sorted(
        {
            found[s.leg.account].id
            for s in legs
            if found[s.leg.account].conditions.could_be_broken_by(s)
        }
    )
    if reduced:
        await session.execute(_LOCK_ACCOUNTS, {"ids": reduced})
    return found


def known_and_unlocked(session: AsyncSession, legs: Sequence[StatusLeg]) -> bool:
    """Whether ``lock_accounts`` has nothing to do for ``legs``: every account is known to
    this process and none could be overdrawn by them (so none is locked)."""
    cache = _account_cache(session)
    for s in legs:
        account = cache.get(s.leg.account)
        if account is None or account.conditions.could_be_broken_by(s):
            return False
    return True


async def one_statement_transaction(session: AsyncSession) -> None:
    """Make the session's next statement a transaction of its own: no BEGIN and no COMMIT
    sent apart (two round trips fewer). Only for a unit of work that writes with one
    statement and reads nothing before it: the statement is atomic on its own, and the
    database's checks (the ``postings_apply`` trigger) run inside it."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
    return {
        r.code: AccountRef(
            id=r.id,
            code=r.code,
            currency=r.currency,
            segregated=r.segregated,
            owner_id=r.owner_id,
            conditions=Conditions(
                debits_must_not_exceed_credits=r.debits_must_not_exceed_credits,
                credits_must_not_exceed_debits=r.credits_must_not_exceed_debits,
            ),
        )
        for r in rows
    }


async def open_accounts(session: AsyncSession, accounts: Sequence[tuple[AccountSpec, str]]) -> None:
    """Open these accounts (chart entry, currency) unless they are open already."""
    # Before any lock is taken (and in code order), so that two writers opening
    # the same new account wait for each other without holding anything else.
    # One statement with a fixed number of array parameters however many accounts (a
    # distribution opens a thousand wallets at once).
    rows = sorted((_new_account(spec, currency) for spec, currency in accounts), key=_code)
    await session.execute(
        _OPEN_ACCOUNTS, {column: [row[column] for row in rows] for column in _ACCOUNT_COLUMNS}
    )


def _code(row: dict[str, Any]) -> str:
    return str(row["code"])


_ACCOUNT_COLUMNS = (
    "id",
    "code",
    "kind",
    "currency",
    "owner_type",
    "owner_id",
    "segregated",
    "debits_must_not_exceed_credits",
    "credits_must_not_exceed_debits",
)
_OPEN_ACCOUNTS = text(
    "INSERT INTO accounts (id, code, kind, currency, owner_type, owner_id, segregated,"
    " debits_must_not_exceed_credits, credits_must_not_exceed_debits)"
    " SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:code AS text[]), CAST(:kind AS text[]),"
    " CAST(:currency AS text[]), CAST(:owner_type AS text[]), CAST(:owner_id AS text[]),"
    " CAST(:segregated AS boolean[]), CAST(:debits_must_not_exceed_credits AS boolean[]),"
    " CAST(:credits_must_not_exceed_debits AS boolean[]))"
    " ORDER BY 2 ON CONFLICT DO NOTHING"
)


async def _check_owners_exist(session: AsyncSession, specs: Sequence[AccountSpec]) -> None:
    """A clearing account is opened only for a registered partner bank (active or not:
    a suspended bank's books may still need correcting)."""
    for spec in specs:
        bank = spec.partner_bank
        if bank is not None and not await partner_exists(
            session, PartnerKind.BANK, bank, active=False
        ):
            raise UnknownAccount(spec.code, "is not kept at a registered bank")


def _new_account(spec: AccountSpec, currency: str) -> dict[str, Any]:
    conditions = spec.conditions
    return {
        "id": uuid.uuid4(),
        "code": spec.code,
        "kind": spec.kind.value,
        "currency": currency,
        "owner_type": spec.owner_type.value,
        "owner_id": spec.owner_id,
        "segregated": spec.segregated,
        "debits_must_not_exceed_credits": conditions.debits_must_not_exceed_credits,
        "credits_must_not_exceed_debits": conditions.credits_must_not_exceed_debits,
    }


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
    """An entry the database accepted."""

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
    written = await write_each(session, drafts, accounts)
    # A concurrent writer with the same key, or resolving the same pending entry,
    # makes (part of) this a no-op; the caller then replays or reports the conflict.
    if any(w is None for w in written):
        return None
    return [w for w in written if w is not None]


async def write_each(
    session: AsyncSession, drafts: Sequence[EntryDraft], accounts: dict[str, AccountRef]
) -> list[Written | None]:
    """Insert entries and their postings in one statement; for each draft what was
    written, or ``None`` where its key (or the pending or original entry it resolves)
    is taken: that entry and its postings are not written, the others are."""
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
    by_id = {r.id: Written(r.id, r.seq, r.created_at) for r in returned}
    return [by_id.get(i) for i in ids]


def _refusal(exc: IntegrityError) -> ProblemError:
    # The trigger's messages start with the rule they belong to ("segregation: ...").
    message = str(exc.orig).split("\n")[0]
    detail = message.split(": ", 1)[-1]
    if "balance condition:" in message:
        return InsufficientBalance(detail)
    if "segregation:" in message:
        return SegregationRefused(message.split("segregation: ", 1)[-1])
    return EntryRefused(detail)


async def entry_by_key(session: AsyncSession, key: str) -> JournalEntry | None:
    return await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


async def entries_by_keys(session: AsyncSession, keys: Sequence[str]) -> dict[str, JournalEntry]:
    # One array parameter, however many keys (a batch has thousands): not a bind each.
    rows = await session.scalars(
        select(JournalEntry).where(
            JournalEntry.idempotency_key == func.any(cast(list(keys), ARRAY(Text)))
        )
    )
    return {e.idempotency_key: e for e in rows}


async def entry(
    session: AsyncSession, entry_id: UUID, *, lock: bool = False
) -> JournalEntry | None:
    """An entry; ``lock`` takes its row lock (entries never change: it only queues the
    writers that resolve it)."""
    return await session.get(JournalEntry, entry_id, with_for_update=lock or None)


async def postings_of(session: AsyncSession, entry_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """Each entry's postings with their account codes, in the order they were written."""
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


async def readable_entry(
    session: AsyncSession, principal: Principal, entry_id: UUID
) -> tuple[JournalEntry, list[Any]]:
    """An entry and its postings, if ``principal`` may read it; else "no such entry"."""
    found = await session.get(JournalEntry, entry_id)
    if found is None:
        raise NotFound("no such entry")
    rows = (await postings_of(session, [entry_id]))[entry_id]
    if not may_read(principal, accounts=[r.code for r in rows]):
        raise NotFound("no such entry")
    return found, rows


async def readable_account(session: AsyncSession, principal: Principal, code: str) -> Account:
    """The account ``code``, if ``principal`` may read it; else "no such account".

    Another tenant's account is answered exactly as one that does not exist.
    """
    if not may_read(principal, accounts=[code]):
        raise NotFound("no such account")
    account = await session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound("no such account")
    return account


async def account_by_code(session: AsyncSession, code: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.code == code))


async def posted_by_purpose(
    session: AsyncSession, account_id: UUID
) -> dict[tuple[Purpose, Direction], int]:
    """An account's posted totals per entry purpose and direction."""
    rows = (
        await session.execute(
            select(JournalEntry.purpose, Posting.direction, func.sum(Posting.amount))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == account_id, Posting.status == PostingStatus.POSTED.value)
            .group_by(JournalEntry.purpose, Posting.direction)
        )
    ).all()
    return {(Purpose(p), Direction(d)): int(total) for p, d, total in rows}


async def posted_to_by_entries(
    session: AsyncSession, *, code: str, purpose: Purpose, reference_id: str
) -> int:
    """What entries of ``purpose`` naming ``reference_id`` posted to account ``code``."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            JournalEntry.purpose == purpose.value,
            JournalEntry.reference_id == reference_id,
            Account.code == code,
        )
    )
    return int(total or 0)


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

    def total(status: PostingStatus, direction: Direction) -> Any:
        return func.coalesce(
            func.sum(
                case(
                    (
                        and_(Posting.status == status.value, Posting.direction == direction.value),
                        Posting.amount,
                    ),
                    else_=0,
                )
            ),
            0,
        )

    posted, pending, release = PostingStatus.POSTED, PostingStatus.PENDING, PostingStatus.RELEASE
    debit, credit = Direction.DEBIT, Direction.CREDIT
    row = (
        await session.execute(
            select(
                total(posted, debit),
                total(posted, credit),
                total(pending, debit) - total(release, debit),
                total(pending, credit) - total(release, credit),
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


async def posted_totals_through(
    session: AsyncSession, account_id: UUID, last_posting: int
) -> list[tuple[Direction, int]]:
    """Posted totals per direction of an account's postings up to ``last_posting``."""
    rows = (
        await session.execute(
            select(Posting.direction, func.sum(Posting.amount))
            .where(
                Posting.account_id == account_id,
                Posting.status == PostingStatus.POSTED.value,
                Posting.id <= last_posting,
            )
            .group_by(Posting.direction)
        )
    ).all()
    return [(Direction(d), int(total)) for d, total in rows]


async def posted_lines_after(
    session: AsyncSession, account_id: UUID, after: int, limit: int
) -> Sequence[Any]:
    """Up to ``limit`` posted lines of an account after posting ``after``, oldest first."""
    return (
        await session.execute(
            select(
                Posting.id,
                Posting.entry_id,
                Posting.direction,
                Posting.amount,
                JournalEntry.effective_date,
                JournalEntry.description,
            )
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                Posting.account_id == account_id,
                Posting.status == PostingStatus.POSTED.value,
                Posting.id > after,
            )
            .order_by(Posting.id)
            .limit(limit)
        )
    ).all()


async def totals_by_kind(session: AsyncSession) -> list[tuple[str, AccountKind, int, int]]:
    """Posted debits and credits per currency and account kind."""
    rows = (
        await session.execute(
            select(
                Account.currency,
                Account.kind,
                func.coalesce(func.sum(AccountBalance.posted_debits), 0),
                func.coalesce(func.sum(AccountBalance.posted_credits), 0),
            )
            .join(AccountBalance, AccountBalance.account_id == Account.id)
            .group_by(Account.currency, Account.kind)
            .order_by(Account.currency, Account.kind)
        )
    ).all()
    return [(c, AccountKind(k), int(d), int(cr)) for c, k, d, cr in rows]


async def fund_facts(session: AsyncSession, fund_id: UUID) -> FundFacts | None:
    """What the segregation rules need of a fund, as the trigger reads it (``funds``)."""
    fund = await session.get(Fund, fund_id)
    if fund is None:
        return None
    return FundFacts(
        fund_id=str(fund.fund_id), msme_id=str(fund.msme_id), status=FundStatus(fund.status)
    )
