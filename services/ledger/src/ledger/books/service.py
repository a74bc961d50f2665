"""What can be done to the books; each function runs inside the caller's unit of work.

Manual entries (``POST /entries`` and what resolves or reverses them) are staff's
adjustments and transfers, with a reason; a fund's money and the payouts are
moved only by the business flows (deposits, closing, payouts), which write
their entries through ``write_flow_entries`` and ``settle_pending``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from kumiai.db import UnitOfWork
from kumiai.idempotency import client_key, request_fingerprint
from kumiai.pagination import decode_cursor, encode_cursor
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import Conflict, NotFound
from ledger.books import store
from ledger.books.rules import (
    AccountKind,
    Direction,
    EntryDraft,
    EntryType,
    FundFacts,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    ReferenceType,
    chart_of_accounts,
    check_pending,
    check_resolved_by_hand,
    check_reversed_by_hand,
    check_reversible,
    check_same_batch,
    check_same_request,
    manual_entry,
    posted_legs,
    recorded_reason,
    resolution_legs,
    resolution_type,
    reversal_of,
    running_balances,
    signed,
    trial_balance_net,
)
from ledger.books.schemas import (
    AccountOut,
    BalanceOut,
    EntryOut,
    ManualEntry,
    PostingOut,
    StatementLine,
    StatementOut,
    TrialBalanceLine,
    TrialBalanceOut,
)
from ledger.books.writer import EntryWriter
from ledger.db.models import Account, JournalEntry


class AlreadyResolved(Conflict):
    problem = "already-resolved"
    title = "This entry was already posted, voided or reversed"


def _today() -> date:
    return japan_date(datetime.now(UTC))


def _manual_draft(
    entry: ManualEntry, *, key: str, request_hash: str, by: str, today: date
) -> EntryDraft:
    return manual_entry(
        purpose=Purpose(entry.purpose.value),
        legs=[Leg(p.account, p.direction, p.amount, p.currency) for p in entry.postings],
        pending=entry.pending,
        description=entry.description,
        reason=entry.reason,
        effective_date=entry.effective_date or today,
        reference_type=entry.reference_type,
        reference_id=entry.reference_id,
        idempotency_key=key,
        request_hash=request_hash,
        created_by=by,
    )


async def post_entry(
    writer: EntryWriter, *, entry: ManualEntry, idempotency_key: str, principal: Principal
) -> tuple[EntryOut, bool]:
    """Post one manual entry (or hold it pending); replays return the first result.

    The key is the caller's own (``client_key``): it never meets another caller's
    key nor the keys the ledger derives for its flows. The entry is written by the
    process's ``writer``, in one transaction with the entries other requests post
    at the same time (group commit), and is committed when this returns. Returns
    the entry and whether it was created by this call.
    """
    fingerprint = request_fingerprint(entry)
    key = client_key(principal, idempotency_key)
    draft = _manual_draft(
        entry, key=key, request_hash=fingerprint, by=principal.subject, today=_today()
    )
    written = await writer.write(draft)
    if written is None:
        # This key was used before (or by a request that committed first).
        async with writer.unit_of_work() as uow:
            return await _replay_key(uow, key, fingerprint), False
    return _written_out(draft, written), True


async def post_batch(
    uow: UnitOfWork, *, entries: Sequence[ManualEntry], idempotency_key: str, principal: Principal
) -> list[UUID]:
    """Post many manual entries atomically; entry ``i`` gets the caller's key ``/<i>``.

    Written set-wise (two INSERT statements for the whole batch); a replay of
    the same batch returns the same entry ids.
    """
    session = uow.session
    base = client_key(principal, idempotency_key)
    keys = [f"{base}/{i}" for i in range(len(entries))]
    hashes = [request_fingerprint(entry) for entry in entries]
    known = await store.entries_by_keys(session, keys)
    if known:
        check_same_batch([known[k].request_hash if k in known else None for k in keys], hashes)
        return [known[k].id for k in keys]
    today = _today()
    drafts = [
        _manual_draft(entry, key=key, request_hash=fingerprint, by=principal.subject, today=today)
        for entry, key, fingerprint in zip(entries, keys, hashes, strict=True)
    ]
    accounts = await store.lock_accounts(session, [leg for d in drafts for leg in d.legs])
    written = await store.write_entries(session, drafts, accounts)
    if written is None:
        raise AlreadyResolved("a batch with this key was written at the same time; retry")
    return [w.id for w in written]


async def resolve_pending(
    uow: UnitOfWork,
    *,
    entry_id: UUID,
    post: bool,
    description: str,
    reason: str,
    idempotency_key: str,
    principal: Principal,
) -> EntryOut:
    """Post or void a manual pending entry, once; a payout is settled by its bank only."""
    key = client_key(principal, idempotency_key)
    fingerprint = request_fingerprint(
        {"entry": str(entry_id), "post": post, "d": description, "r": reason}
    )
    existing = await store.entry_by_key(uow.session, key)
    if existing is not None:
        return await _replay(uow, existing, fingerprint)
    pending, rows = await store.readable_entry(uow.session, principal, entry_id)
    check_resolved_by_hand(Origin(pending.origin))
    return await _settle(
        uow,
        pending=pending,
        rows=rows,
        post=post,
        description=description,
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=principal.subject,
        reason=reason,
    )


async def settle_pending(
    uow: UnitOfWork,
    *,
    entry_id: UUID,
    post: bool,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
) -> EntryOut:
    """Post (money confirmed gone) or void (money back where it was) a business flow's
    pending entry, once: how a partner bank's answer to a payout reaches the books."""
    pending = await store.entry(uow.session, entry_id)
    if pending is None:
        raise NotFound("no such entry")
    rows = (await store.postings_of(uow.session, [entry_id]))[entry_id]
    return await _settle(
        uow,
        pending=pending,
        rows=rows,
        post=post,
        description=description,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reason=None,
    )


async def _settle(
    uow: UnitOfWork,
    *,
    pending: JournalEntry,
    rows: Sequence[Any],
    post: bool,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    reason: str | None,
) -> EntryOut:
    draft = resolution_draft(
        pending,
        rows,
        post=post,
        description=description,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reason=reason,
    )
    accounts = await store.lock_accounts(uow.session, draft.legs)
    return await _write_once(
        uow, draft, accounts, taken=f"entry {pending.id} was already posted or voided"
    )


def resolution_draft(
    pending: JournalEntry,
    rows: Sequence[Any],
    *,
    post: bool,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    reason: str | None = None,
) -> EntryDraft:
    """The entry that posts or voids ``pending`` (its postings ``rows``), keeping its
    origin (the trigger checks it)."""
    check_pending(pending.id, EntryType(pending.entry_type))
    origin = Origin(pending.origin)
    return EntryDraft(
        legs=resolution_legs([_leg(r) for r in rows], post=post),
        entry_type=resolution_type(post=post),
        purpose=Purpose(pending.purpose),
        description=description,
        effective_date=_today(),
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=pending.reference_type,
        reference_id=pending.reference_id,
        pending_entry_id=pending.id,
        origin=origin,
        reason=recorded_reason(origin, reason),
    )


async def pending_entry_for_update(
    uow: UnitOfWork, *, entry_id: UUID
) -> tuple[JournalEntry, list[Any]]:
    """A pending entry, locked (so that the answers that settle it take turns), with its
    postings."""
    pending = await store.entry(uow.session, entry_id, lock=True)
    if pending is None:
        raise NotFound("no such entry")
    return pending, (await store.postings_of(uow.session, [entry_id]))[entry_id]


async def reverse_entry(
    uow: UnitOfWork,
    *,
    entry_id: UUID,
    description: str,
    reason: str,
    idempotency_key: str,
    principal: Principal,
) -> EntryOut:
    """Correct a posted manual entry with one that mirrors it; the original stays as it was."""
    session = uow.session
    key = client_key(principal, idempotency_key)
    fingerprint = request_fingerprint({"reverse": str(entry_id), "d": description, "r": reason})
    existing = await store.entry_by_key(session, key)
    if existing is not None:
        return await _replay(uow, existing, fingerprint)
    original, rows = await store.readable_entry(session, principal, entry_id)
    check_reversed_by_hand(Origin(original.origin))
    check_reversible(entry_id, EntryType(original.entry_type))
    posted = [_leg(r) for r in rows if PostingStatus(r.status) is PostingStatus.POSTED]
    mirrored = posted_legs(reversal_of(posted))
    accounts = await store.lock_accounts(session, mirrored)
    return await _write_once(
        uow,
        EntryDraft(
            legs=mirrored,
            entry_type=EntryType.REVERSAL,
            purpose=Purpose.REVERSAL,
            description=description,
            effective_date=_today(),
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            reference_type=ReferenceType.ENTRY.value,
            reference_id=str(entry_id),
            reverses_entry_id=entry_id,
            origin=Origin.MANUAL,
            reason=reason,
        ),
        accounts,
        taken=f"entry {entry_id} was already reversed",
    )


async def _write_once(
    uow: UnitOfWork, draft: EntryDraft, accounts: dict[str, store.AccountRef], *, taken: str
) -> EntryOut:
    """Write a resolution or reversal; a retried key replays, a second attempt is refused."""
    written = await store.write_entries(uow.session, [draft], accounts)
    if written is None:
        if await store.entry_by_key(uow.session, draft.idempotency_key) is not None:
            return await _replay_key(uow, draft.idempotency_key, draft.request_hash)
        raise AlreadyResolved(taken)
    return _written_out(draft, written[0])


async def _replay_key(uow: UnitOfWork, key: str, fingerprint: str) -> EntryOut:
    existing = await store.entry_by_key(uow.session, key)
    if existing is None:
        raise AlreadyResolved("a conflicting entry was written at the same time")
    return await _replay(uow, existing, fingerprint)


async def _replay(uow: UnitOfWork, existing: JournalEntry, fingerprint: str) -> EntryOut:
    # The key is the caller's own, so the entry it names is the caller's answer.
    check_same_request(existing.request_hash, fingerprint)
    rows = (await store.postings_of(uow.session, [existing.id]))[existing.id]
    return _stored_out(existing, rows)


def _leg(row: Any) -> Leg:
    return Leg(row.code, Direction(row.direction), row.amount, row.currency)


def _written_out(draft: EntryDraft, written: store.Written) -> EntryOut:
    """The response for an entry just written, without reading it back."""
    return EntryOut(
        id=written.id,
        seq=written.seq,
        entry_type=draft.entry_type,
        purpose=draft.purpose,
        description=draft.description,
        effective_date=draft.effective_date,
        reference_type=draft.reference_type,
        reference_id=draft.reference_id,
        pending_entry_id=draft.pending_entry_id,
        reverses_entry_id=draft.reverses_entry_id,
        origin=draft.origin,
        reason=draft.reason,
        created_by=draft.created_by,
        created_at=written.created_at,
        postings=[
            PostingOut(
                account=s.leg.account,
                direction=s.leg.direction,
                amount=s.leg.amount,
                currency=s.leg.currency,
                status=s.status.value,
            )
            for s in draft.legs
        ],
    )


def _stored_out(entry: JournalEntry, rows: Sequence[Any]) -> EntryOut:
    return EntryOut(
        id=entry.id,
        seq=entry.seq,
        entry_type=EntryType(entry.entry_type),
        purpose=Purpose(entry.purpose),
        description=entry.description,
        effective_date=entry.effective_date,
        reference_type=entry.reference_type,
        reference_id=entry.reference_id,
        pending_entry_id=entry.pending_entry_id,
        reverses_entry_id=entry.reverses_entry_id,
        origin=Origin(entry.origin),
        reason=entry.reason,
        created_by=entry.created_by,
        created_at=entry.created_at,
        postings=[
            PostingOut(
                account=r.code,
                direction=Direction(r.direction),
                amount=r.amount,
                currency=r.currency,
                status=r.status,
            )
            for r in rows
        ],
    )


async def get_entry(uow: UnitOfWork, *, entry_id: UUID, principal: Principal) -> EntryOut:
    """One journal entry and its postings."""
    entry, rows = await store.readable_entry(uow.session, principal, entry_id)
    return _stored_out(entry, rows)


async def _balance_out(uow: UnitOfWork, account: Account, as_of: date | None) -> BalanceOut:
    balance = (
        await store.current_balance(uow.session, account.id)
        if as_of is None
        else await store.balance_as_of(uow.session, account, as_of)
    )
    kind = AccountKind(account.kind)
    return BalanceOut(
        account=account.code,
        kind=kind,
        currency=account.currency,
        as_of=as_of,
        posted=balance.posted(kind),
        pending_debits=balance.pending_debits,
        pending_credits=balance.pending_credits,
        available=balance.available(kind),
        posted_debits=balance.posted_debits,
        posted_credits=balance.posted_credits,
    )


async def get_balance(
    uow: UnitOfWork, *, code: str, as_of: date | None, principal: Principal
) -> BalanceOut:
    """Posted, pending and available balance of an account, now or at the end of a day."""
    account = await store.readable_account(uow.session, principal, code)
    return await _balance_out(uow, account, as_of)


async def get_account(uow: UnitOfWork, *, code: str, principal: Principal) -> AccountOut:
    """An account: its kind, owner, balance conditions and current balance."""
    account = await store.readable_account(uow.session, principal, code)
    return AccountOut(
        id=account.id,
        code=account.code,
        kind=AccountKind(account.kind),
        currency=account.currency,
        owner_type=account.owner_type,
        owner_id=account.owner_id,
        segregated=account.segregated,
        debits_must_not_exceed_credits=account.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=account.credits_must_not_exceed_debits,
        balance=await _balance_out(uow, account, None),
    )


async def statement(
    uow: UnitOfWork, *, code: str, cursor: str | None, limit: int, principal: Principal
) -> StatementOut:
    """Posted lines of an account, oldest first, each with the balance after it."""
    account = await store.readable_account(uow.session, principal, code)
    kind = AccountKind(account.kind)
    after = int(decode_cursor(cursor, int)[0]) if cursor is not None else 0
    opening = 0
    if after:
        totals = await store.posted_totals_through(uow.session, account.id, after)
        opening = sum(signed(kind, direction, amount) for direction, amount in totals)
    rows = await store.posted_lines_after(uow.session, account.id, after, limit + 1)
    page = rows[:limit]
    balances = running_balances(kind, opening, [(Direction(r.direction), r.amount) for r in page])
    lines = [
        StatementLine(
            posting_id=row.id,
            entry_id=row.entry_id,
            effective_date=row.effective_date,
            description=row.description,
            direction=Direction(row.direction),
            amount=row.amount,
            running_balance=balance,
        )
        for row, balance in zip(page, balances, strict=True)
    ]
    return StatementOut(
        account=account.code,
        currency=account.currency,
        lines=lines,
        next_cursor=encode_cursor(lines[-1].posting_id) if len(rows) > limit and lines else None,
    )


async def trial_balance(uow: UnitOfWork) -> TrialBalanceOut:
    """Debits and credits per currency and kind; every currency must net to zero."""
    totals = await store.totals_by_kind(uow.session)
    net = trial_balance_net((currency, debits, credits) for currency, _, debits, credits in totals)
    return TrialBalanceOut(
        balanced=all(v == 0 for v in net.values()),
        net_by_currency=net,
        lines=[
            TrialBalanceLine(currency=currency, kind=kind, debits=debits, credits=credits)
            for currency, kind, debits, credits in totals
        ],
    )


# -- for the business flows (deposits, payouts, closing) --------------------------------


async def write_flow_entries(uow: UnitOfWork, *, drafts: Sequence[EntryDraft]) -> list[UUID] | None:
    """Write a business flow's entries in one statement, after the lock phase that every
    writer goes through (decision 0004); ``None`` if one of their keys is taken."""
    accounts = await store.lock_accounts(uow.session, [leg for d in drafts for leg in d.legs])
    written = await store.write_entries(uow.session, drafts, accounts)
    return None if written is None else [w.id for w in written]


async def open_account(uow: UnitOfWork, *, code: str, currency: str) -> None:
    """Open an account of the chart in ``currency`` unless it is open already."""
    await store.open_accounts(uow.session, [(chart_of_accounts(code), currency)])


async def open_accounts(uow: UnitOfWork, *, codes: Sequence[str], currency: str) -> None:
    """Open accounts of the chart (no partner bank's) in ``currency`` unless open already,
    in code order (the first phase of every writer, decision 0004)."""
    if codes:
        await store.open_accounts(
            uow.session, [(chart_of_accounts(code), currency) for code in sorted(codes)]
        )


async def posted_balance(uow: UnitOfWork, *, code: str) -> int | None:
    """An account's posted balance on its normal side (``None``: never opened)."""
    account = await store.account_by_code(uow.session, code)
    if account is None:
        return None
    balance = await store.current_balance(uow.session, account.id)
    return balance.posted(AccountKind(account.kind))


@dataclass(frozen=True)
class Movements:
    """What was posted to an account, per purpose and direction, and its balance now."""

    currency: str
    posted: dict[tuple[Purpose, Direction], int]
    balance: int


async def movements(uow: UnitOfWork, *, code: str) -> Movements | None:
    """An account's posted totals per purpose and direction (``None``: never opened)."""
    account = await store.account_by_code(uow.session, code)
    if account is None:
        return None
    balance = await store.current_balance(uow.session, account.id)
    return Movements(
        currency=account.currency,
        posted=await store.posted_by_purpose(uow.session, account.id),
        balance=balance.posted(AccountKind(account.kind)),
    )


async def posted_by_entries(
    uow: UnitOfWork, *, code: str, purpose: Purpose, reference_id: str
) -> int:
    """What the entries of ``purpose`` naming ``reference_id`` posted to account ``code``."""
    return await store.posted_to_by_entries(
        uow.session, code=code, purpose=purpose, reference_id=reference_id
    )


async def fund_facts(uow: UnitOfWork, *, fund_id: UUID) -> FundFacts | None:
    """What the segregation rules need to know of a fund (``None``: not heard of yet)."""
    return await store.fund_facts(uow.session, fund_id)
