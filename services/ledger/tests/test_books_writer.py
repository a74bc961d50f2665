"""Group commit of single entries (``ledger.books.writer``), with the database's part faked:
which entries share a transaction, and that each request still gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from kumiai.problems import ServiceUnavailable
from ledger.books import store
from ledger.books.rules import (
    Direction,
    EntryDraft,
    EntryType,
    InsufficientBalance,
    Leg,
    Origin,
    Purpose,
    chart_of_accounts,
    posted_legs,
)
from ledger.books.writer import EntryWriter


def _draft(key: str, *, description: str = "transfer") -> EntryDraft:
    return EntryDraft(
        legs=posted_legs(
            [
                Leg("suspense", Direction.DEBIT, 100, "JPY"),
                Leg("platform/fees", Direction.CREDIT, 100, "JPY"),
            ]
        ),
        entry_type=EntryType.STANDARD,
        purpose=Purpose.TRANSFER,
        description=description,
        effective_date=date(2026, 11, 30),
        idempotency_key=key,
        request_hash="h",
        created_by="staff:platform",
        origin=Origin.MANUAL,
        reason="a reason",
    )


class Books:
    """The database as the writer sees it: transactions, and what each statement got."""

    def __init__(self) -> None:
        self.statements: list[list[str]] = []
        self.committed: list[list[str]] = []
        self.rolled_back = 0
        self.taken = {"taken"}
        self.pending: list[str] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.failure: Exception | None = None

    def unit_of_work(self) -> Transaction:
        return Transaction(self)

    async def write_each(
        self, session: Any, drafts: Sequence[EntryDraft], accounts: Any
    ) -> list[store.Written | None]:
        keys = [d.idempotency_key for d in drafts]
        self.statements.append(keys)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        if any(d.description == "overdraft" for d in drafts):
            raise InsufficientBalance("account suspense would go beyond its limit")
        self.pending = keys
        now = datetime.now(UTC)
        return [
            None if d.idempotency_key in self.taken else store.Written(uuid4(), 1, now)
            for d in drafts
        ]


class Transaction:
    def __init__(self, books: Books) -> None:
        self.books = books
        self.session = None

    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.books.committed.append(self.books.pending)
        else:
            self.books.rolled_back += 1


@pytest.fixture
def books(monkeypatch: pytest.MonkeyPatch) -> Books:
    books = Books()

    async def lock_accounts(session: Any, legs: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(store, "lock_accounts", lock_accounts)
    monkeypatch.setattr(store, "known_and_unlocked", lambda session, legs: False)
    monkeypatch.setattr(store, "write_each", books.write_each)
    return books


async def test_entries_posted_at_once_share_one_transaction(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work, writers=1)  # type: ignore[arg-type]
    written = await asyncio.gather(*(entries.write(_draft(f"k{n}")) for n in range(10)))
    assert len(books.committed) == 1
    assert len({w.id for w in written if w is not None}) == 10, "each its own entry"


async def test_entries_arriving_meanwhile_go_in_the_next_group(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work, writers=1)  # type: ignore[arg-type]
    books.gate = asyncio.Event()
    first = asyncio.create_task(entries.write(_draft("a")))
    await books.started.wait()  # the first entry is being written, alone
    later = [asyncio.create_task(entries.write(_draft(k))) for k in ("c", "b")]
    books.gate.set()
    await asyncio.gather(first, *later)
    assert books.committed == [["a"], ["b", "c"]], "keys in one order in every group"


async def test_an_entry_that_fails_fails_alone(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work, writers=1)  # type: ignore[arg-type]
    drafts = [_draft(f"k{n}", description="overdraft" if n == 3 else "transfer") for n in range(8)]
    results = await asyncio.gather(*(entries.write(d) for d in drafts), return_exceptions=True)
    assert isinstance(results[3], InsufficientBalance)
    assert all(isinstance(r, store.Written) for n, r in enumerate(results) if n != 3)
    assert sorted(k for group in books.committed for k in group) == [
        f"k{n}" for n in range(8) if n != 3
    ]
    assert books.rolled_back <= 1 + 2 * 3, "split in halves: a few transactions, not one each"


async def test_an_unavailable_database_fails_the_group_at_once(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work, writers=1)  # type: ignore[arg-type]
    books.failure = ConnectionRefusedError("connection refused")
    results = await asyncio.gather(
        *(entries.write(_draft(f"k{n}")) for n in range(4)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionRefusedError) for r in results)
    assert len(books.statements) == 1, "not tried again piece by piece"


async def test_an_entry_whose_key_is_taken_is_not_written(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work)  # type: ignore[arg-type]
    taken, fresh = await asyncio.gather(entries.write(_draft("taken")), entries.write(_draft("k")))
    assert taken is None
    assert fresh is not None


async def test_a_stopping_writer_answers_every_waiting_request(books: Books) -> None:
    entries = EntryWriter(books.unit_of_work, writers=1)  # type: ignore[arg-type]
    books.gate = asyncio.Event()
    waiting = asyncio.gather(
        *(entries.write(_draft(f"k{n}")) for n in range(3)), return_exceptions=True
    )
    await books.started.wait()
    for task in list(entries._tasks):
        task.cancel()
    results = await waiting
    assert all(isinstance(r, ServiceUnavailable) for r in results)


def test_a_group_holds_one_entry_at_least() -> None:
    with pytest.raises(ValueError, match="one item at least"):
        EntryWriter(Books().unit_of_work, max_group=0)  # type: ignore[arg-type]


def test_a_group_is_one_statement_only_when_nothing_is_opened_or_locked() -> None:
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never used
    session = AsyncSession(engine)
    for code in ("suspense", "platform/fees"):
        spec = chart_of_accounts(code)
        store._account_cache(session)[code] = store.AccountRef(
            uuid4(), code, "JPY", False, None, spec.conditions
        )
    adds = posted_legs([Leg("platform/fees", Direction.CREDIT, 5, "JPY")])
    takes = posted_legs([Leg("suspense", Direction.DEBIT, 5, "JPY")])
    unknown = posted_legs([Leg("tax/withholding", Direction.CREDIT, 5, "JPY")])
    assert store.known_and_unlocked(session, adds)
    assert not store.known_and_unlocked(session, adds + takes), "suspense could be overdrawn"
    assert not store.known_and_unlocked(session, adds + unknown), "an account to open first"
