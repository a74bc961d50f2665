"""What can be done to the books; each use case runs in one unit of work.

Manual entries (``POST /entries`` and what resolves or reverses them) are staff's
adjustments and transfers, with a reason; a fund's money and the payouts are
moved only by the business flows (``deposits``, ``closing``, ``payouts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import func, select

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, NotFound
from kumiai.idempotency import client_key, request_fingerprint
from kumiai.pagination import decode_cursor, encode_cursor
from kumiai.periods import japan_date
from ledger.books import (
    AccountRef,
    AlreadyResolved,
    EntryDraft,
    EntryRefused,
    IdempotencyKeyConflict,
    StatusLeg,
    Written,
    account_spec,
    balance_as_of,
    current_balance,
    entry_by_key,
    lock_accounts,
    postings_of,
    segregation_problem,
    signed,
    write_entries,
    write_entry,
)
from ledger.db.models import Account, AccountBalance, JournalEntry, Posting
from ledger.domain.books import (
    AccountKind,
    Direction,
    EntryType,
    LedgerRuleError,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    SegregationError,
    check_manual_entry,
    reversal_of,
    validate_legs,
)
from ledger.schemas import (
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


def today_in_japan() -> date:
    return japan_date(datetime.now(UTC))


class NotPending(Conflict):
    problem = "not-pending"
    title = "Only a pending entry can be posted or voided"


class NotReversible(Conflict):
    problem = "not-reversible"
    title = "Only posted entries can be reversed; void a pending entry instead"


class NotManual(Conflict):
    problem = "not-manual"
    title = "Only manual entries are resolved or reversed here"


def _manual_legs(entry: ManualEntry) -> list[Leg]:
    """The legs of a manual entry, if they balance, name accounts of the chart and stay
    away from a fund's money."""
    legs = [Leg(p.account, p.direction, p.amount, p.currency) for p in entry.postings]
    for leg in legs:
        account_spec(leg.account)
    try:
        check_manual_entry(Purpose(entry.purpose.value), legs)
    except SegregationError as exc:
        raise segregation_problem(exc) from exc
    try:
        validate_legs(legs)
    except LedgerRuleError as exc:
        raise EntryRefused(str(exc)) from exc
    return legs


def _manual_draft(
    entry: ManualEntry, legs: Sequence[Leg], *, key: str, fingerprint: str, by: str, today: date
) -> EntryDraft:
    status = PostingStatus.PENDING if entry.pending else PostingStatus.POSTED
    return EntryDraft(
        legs=[StatusLeg(leg, status) for leg in legs],
        entry_type=EntryType.PENDING if entry.pending else EntryType.STANDARD,
        purpose=Purpose(entry.purpose.value),
        description=entry.description,
        effective_date=entry.effective_date or today,
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=by,
        reference_type=entry.reference_type,
        reference_id=entry.reference_id,
        origin=Origin.MANUAL,
        reason=entry.reason,
    )


async def post_entry(
    uow: UnitOfWork, *, entry: ManualEntry, idempotency_key: str, principal: Principal
) -> tuple[EntryOut, bool]:
    """Post one manual entry (or hold it pending); replays return the first result.

    The key is the caller's own (``client_key``): it never meets another caller's
    key nor the keys the ledger derives for its flows. Returns the entry and
    whether it was created by this call.
    """
    session = uow.session
    fingerprint = request_fingerprint(entry)
    key = client_key(principal, idempotency_key)
    legs = _manual_legs(entry)
    draft = _manual_draft(
        entry, legs, key=key, fingerprint=fingerprint, by=principal.subject, today=today_in_japan()
    )
    accounts = await lock_accounts(session, draft.legs)
    written = await write_entry(session, draft, accounts)
    if written is None:
        # This key was used before (or by a request that committed first).
        return await _replay_key(uow, key, fingerprint), False
    return entry_out(draft, written), True


def entry_out(draft: EntryDraft, written: Written) -> EntryOut:
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


async def _replay_key(uow: UnitOfWork, key: str, fingerprint: str) -> EntryOut:
    existing = await entry_by_key(uow.session, key)
    if existing is None:
        raise AlreadyResolved("a conflicting entry was written at the same time")
    return await _replay(uow, existing, fingerprint)


async def _replay(uow: UnitOfWork, existing: JournalEntry, fingerprint: str) -> EntryOut:
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyConflict("this Idempotency-Key was used for a different entry")
    return await get_entry(uow, entry_id=existing.id)


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
    known = {
        e.idempotency_key: e
        for e in await session.scalars(
            select(JournalEntry).where(JournalEntry.idempotency_key.in_(keys))
        )
    }
    if known:
        return await _replay_batch(keys, hashes, known)
    today = today_in_japan()
    drafts = [
        _manual_draft(
            entry,
            _manual_legs(entry),
            key=key,
            fingerprint=fingerprint,
            by=principal.subject,
            today=today,
        )
        for entry, key, fingerprint in zip(entries, keys, hashes, strict=True)
    ]
    accounts = await lock_accounts(session, [leg for d in drafts for leg in d.legs])
    written = await write_entries(session, drafts, accounts)
    if written is None:
        raise AlreadyResolved("a batch with this key was written at the same time; retry")
    return [w.id for w in written]


async def _replay_batch(
    keys: list[str], hashes: list[str], known: dict[str, JournalEntry]
) -> list[UUID]:
    if len(known) != len(keys) or any(
        known[k].request_hash != h for k, h in zip(keys, hashes, strict=True)
    ):
        raise IdempotencyKeyConflict("this Idempotency-Key was used for a different batch")
    return [known[k].id for k in keys]


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
    existing = await entry_by_key(uow.session, key)
    if existing is not None:
        return await _replay(uow, existing, fingerprint)
    pending = await _entry(uow, entry_id)
    if pending.origin != Origin.MANUAL.value:
        raise NotManual(
            "this entry belongs to a business flow (a payout is confirmed or failed by its bank "
            "through /payouts/{id}/confirm or /fail)"
        )
    return await settle_pending(
        uow,
        pending=pending,
        post=post,
        description=description,
        idempotency_key=key,
        fingerprint=fingerprint,
        created_by=principal.subject,
        reason=reason,
    )


async def settle_pending(
    uow: UnitOfWork,
    *,
    pending: JournalEntry,
    post: bool,
    description: str,
    idempotency_key: str,
    fingerprint: str,
    created_by: str,
    reason: str | None = None,
) -> EntryOut:
    """Post (money confirmed gone) or void (money back where it was) a pending entry, once.

    The resolution keeps the pending entry's origin (the trigger checks it).
    """
    if pending.entry_type != EntryType.PENDING.value:
        raise NotPending(f"entry {pending.id} is {pending.entry_type}")
    rows = (await postings_of(uow.session, [pending.id]))[pending.id]
    legs = [Leg(r.code, Direction(r.direction), r.amount, r.currency) for r in rows]
    status_legs = [StatusLeg(leg, PostingStatus.RELEASE) for leg in legs]
    if post:
        status_legs += [StatusLeg(leg, PostingStatus.POSTED) for leg in legs]
    accounts = await lock_accounts(uow.session, status_legs)
    origin = Origin(pending.origin)
    return await _write_once(
        uow,
        EntryDraft(
            legs=status_legs,
            entry_type=EntryType.POST_PENDING if post else EntryType.VOID_PENDING,
            purpose=Purpose(pending.purpose),
            description=description,
            effective_date=today_in_japan(),
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
            created_by=created_by,
            reference_type=pending.reference_type,
            reference_id=pending.reference_id,
            pending_entry_id=pending.id,
            origin=origin,
            reason=reason if origin is Origin.MANUAL else None,
        ),
        accounts,
        taken=f"entry {pending.id} was already posted or voided",
    )


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
    existing = await entry_by_key(session, key)
    if existing is not None:
        return await _replay(uow, existing, fingerprint)
    original = await _entry(uow, entry_id)
    if original.origin != Origin.MANUAL.value:
        raise NotManual(
            "this entry belongs to a business flow; its effects are undone by that flow "
            "(a refund, a returned deposit), not by a reversal"
        )
    if original.entry_type not in (EntryType.STANDARD.value, EntryType.POST_PENDING.value):
        raise NotReversible(f"entry {entry_id} is {original.entry_type}")
    rows = (await postings_of(session, [entry_id]))[entry_id]
    legs = [
        Leg(r.code, Direction(r.direction), r.amount, r.currency)
        for r in rows
        if r.status == PostingStatus.POSTED.value
    ]
    mirrored = [StatusLeg(leg, PostingStatus.POSTED) for leg in reversal_of(legs)]
    accounts = await lock_accounts(session, mirrored)
    return await _write_once(
        uow,
        EntryDraft(
            legs=mirrored,
            entry_type=EntryType.REVERSAL,
            purpose=Purpose.REVERSAL,
            description=description,
            effective_date=today_in_japan(),
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            reference_type="entry",
            reference_id=str(entry_id),
            reverses_entry_id=entry_id,
            origin=Origin.MANUAL,
            reason=reason,
        ),
        accounts,
        taken=f"entry {entry_id} was already reversed",
    )


async def _write_once(
    uow: UnitOfWork, draft: EntryDraft, accounts: dict[str, AccountRef], *, taken: str
) -> EntryOut:
    """Write a resolution or reversal; a retried key replays, a second attempt is refused."""
    written = await write_entry(uow.session, draft, accounts)
    if written is None:
        if await entry_by_key(uow.session, draft.idempotency_key) is not None:
            return await _replay_key(uow, draft.idempotency_key, draft.request_hash)
        raise AlreadyResolved(taken)
    return entry_out(draft, written)


async def _entry(uow: UnitOfWork, entry_id: UUID) -> JournalEntry:
    entry = await uow.session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound("no such entry")
    return entry


async def get_entry(uow: UnitOfWork, *, entry_id: UUID) -> EntryOut:
    """One journal entry and its postings."""
    entry = await _entry(uow, entry_id)
    rows = (await postings_of(uow.session, [entry_id]))[entry_id]
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


async def account_by_code(uow: UnitOfWork, code: str) -> Account:
    account = await uow.session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound("no such account")
    return account


async def get_balance(uow: UnitOfWork, *, code: str, as_of: date | None) -> BalanceOut:
    """Posted, pending and available balance, now or at the end of a day."""
    account = await account_by_code(uow, code)
    balance = (
        await current_balance(uow.session, account.id)
        if as_of is None
        else await balance_as_of(uow.session, account, as_of)
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


async def get_account(uow: UnitOfWork, *, code: str) -> AccountOut:
    account = await account_by_code(uow, code)
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
        balance=await get_balance(uow, code=code, as_of=None),
    )


async def statement(uow: UnitOfWork, *, code: str, cursor: str | None, limit: int) -> StatementOut:
    """Posted lines of an account, oldest first, each with the balance after it."""
    account = await account_by_code(uow, code)
    kind = AccountKind(account.kind)
    session = uow.session
    after = int(decode_cursor(cursor, int)[0]) if cursor is not None else 0
    opening = 0
    if after:
        rows = (
            await session.execute(
                select(Posting.direction, func.sum(Posting.amount))
                .where(
                    Posting.account_id == account.id,
                    Posting.status == PostingStatus.POSTED.value,
                    Posting.id <= after,
                )
                .group_by(Posting.direction)
            )
        ).all()
        opening = sum(signed(kind, Direction(d), int(total)) for d, total in rows)
    lines_q = (
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
            Posting.account_id == account.id,
            Posting.status == PostingStatus.POSTED.value,
            Posting.id > after,
        )
        .order_by(Posting.id)
        .limit(limit + 1)
    )
    rows_page = (await session.execute(lines_q)).all()
    more = len(rows_page) > limit
    running = opening
    lines = []
    for row in rows_page[:limit]:
        direction = Direction(row.direction)
        running += signed(kind, direction, row.amount)
        lines.append(
            StatementLine(
                posting_id=row.id,
                entry_id=row.entry_id,
                effective_date=row.effective_date,
                description=row.description,
                direction=direction,
                amount=row.amount,
                running_balance=running,
            )
        )
    return StatementOut(
        account=account.code,
        currency=account.currency,
        lines=lines,
        next_cursor=encode_cursor(lines[-1].posting_id) if more and lines else None,
    )


async def trial_balance(uow: UnitOfWork) -> TrialBalanceOut:
    """Debits and credits per currency and kind; every currency must net to zero."""
    rows = (
        await uow.session.execute(
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
    net: dict[str, int] = {}
    lines = []
    for currency, kind, debits, credits in rows:
        net[currency] = net.get(currency, 0) + int(debits) - int(credits)
        lines.append(
            TrialBalanceLine(
                currency=currency, kind=AccountKind(kind), debits=int(debits), credits=int(credits)
            )
        )
    return TrialBalanceOut(
        balanced=all(v == 0 for v in net.values()), net_by_currency=net, lines=lines
    )
