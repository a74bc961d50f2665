"""The ledger's books over HTTP and in the database itself."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import SettingsFactory, fetch
from kumiai.auth import Role
from kumiai.catalog import service
from kumiai.errors import PROBLEM_BASE
from kumiai.testing import bearer, running

SERVICE = bearer(Role.SERVICE, "subscription")


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        yield client, settings.database_url


def entry(purpose: str, *legs: tuple[str, str, int], pending: bool = False) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "description": f"{purpose} for a test",
        "pending": pending,
        "postings": [{"account": a, "direction": d, "amount": n} for a, d, n in legs],
    }


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None, path: str = "/entries"
) -> httpx.Response:
    headers = {**SERVICE, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(path, json=body, headers=headers)


async def balance(client: httpx.AsyncClient, code: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/accounts/{code}/balance", headers=SERVICE, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def deposit(fund: str, amount: int, bank: str = "b-1") -> dict[str, Any]:
    return entry(
        "deposit",
        (f"bank/{bank}/clearing", "debit", amount),
        (f"fund/{fund}/escrow", "credit", amount),
    )


async def test_a_deposit_lands_in_escrow_and_the_books_balance(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    fund = str(uuid.uuid4())
    created = await post(client, deposit(fund, 10_500))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["entry_type"] == "standard"
    assert {(p["account"], p["direction"], p["amount"]) for p in body["postings"]} == {
        ("bank/b-1/clearing", "debit", 10_500),
        (f"fund/{fund}/escrow", "credit", 10_500),
    }
    escrow = await balance(client, f"fund/{fund}/escrow")
    assert (escrow["posted"], escrow["available"], escrow["kind"]) == (10_500, 10_500, "liability")
    trial = (await client.get("/trial-balance", headers=SERVICE)).json()
    assert trial["balanced"] is True
    assert trial["net_by_currency"] == {"JPY": 0}


async def test_replaying_a_key_posts_once_and_a_changed_body_is_refused(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    fund = str(uuid.uuid4())
    first = await post(client, deposit(fund, 1_000), key="dep-1")
    again = await post(client, deposit(fund, 1_000), key="dep-1")
    changed = await post(client, deposit(fund, 2_000), key="dep-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert changed.status_code == 422
    assert changed.json()["type"] == PROBLEM_BASE + "idempotency-key-reused"
    assert (await balance(client, f"fund/{fund}/escrow"))["posted"] == 1_000
    rows = await fetch(url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 1


async def test_unbalanced_and_unknown_entries_are_refused(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    unbalanced = await post(
        client, entry("deposit", ("bank/b-1/clearing", "debit", 100), ("suspense", "credit", 99))
    )
    unknown = await post(
        client, entry("deposit", ("bank/b-1/clearing", "debit", 1), ("shoebox", "credit", 1))
    )
    assert unbalanced.status_code == 422
    assert unbalanced.json()["detail"] == "JPY debits and credits differ by 1"
    assert unknown.status_code == 422
    assert "not in the chart of accounts" in unknown.json()["detail"]


async def test_escrow_money_leaves_only_by_release_or_refund(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    fund = str(uuid.uuid4())
    await post(client, deposit(fund, 10_000))
    sideways = await post(
        client,
        entry("transfer", (f"fund/{fund}/escrow", "debit", 10_000), ("suspense", "credit", 10_000)),
    )
    release_to_investor = await post(
        client,
        entry(
            "release",
            (f"fund/{fund}/escrow", "debit", 10_000),
            ("investor/i-1/wallet", "credit", 10_000),
        ),
    )
    refund = await post(
        client,
        entry(
            "refund",
            (f"fund/{fund}/escrow", "debit", 4_000),
            ("investor/i-1/wallet", "credit", 4_000),
        ),
    )
    assert sideways.status_code == 422
    assert sideways.json()["type"] == PROBLEM_BASE + "segregation"
    assert release_to_investor.status_code == 422
    assert refund.status_code == 201
    assert (await balance(client, f"fund/{fund}/escrow"))["posted"] == 6_000


async def test_no_account_goes_below_its_condition(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    fund = str(uuid.uuid4())
    await post(client, deposit(fund, 5_000))
    too_much = await post(
        client,
        entry(
            "refund",
            (f"fund/{fund}/escrow", "debit", 5_001),
            ("investor/i-2/wallet", "credit", 5_001),
        ),
    )
    assert too_much.status_code == 409
    assert too_much.json()["type"] == PROBLEM_BASE + "insufficient-balance"
    assert (await balance(client, f"fund/{fund}/escrow"))["posted"] == 5_000


async def test_accounts_opened_by_a_refused_entry_are_not_remembered(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    """The process caches accounts; one opened in a rolled-back transaction does not exist."""
    client, url = ledger
    fund, investor = str(uuid.uuid4()), str(uuid.uuid4())
    refused = await post(
        client,
        entry(
            "refund",
            (f"fund/{fund}/escrow", "debit", 100),
            (f"investor/{investor}/wallet", "credit", 100),
        ),
    )
    first = await post(client, deposit(fund, 700))
    second = await post(client, deposit(fund, 300))
    refund = await post(
        client,
        entry(
            "refund",
            (f"fund/{fund}/escrow", "debit", 100),
            (f"investor/{investor}/wallet", "credit", 100),
        ),
    )
    assert refused.status_code == 409, refused.text
    assert [first.status_code, second.status_code, refund.status_code] == [201, 201, 201]
    assert (await balance(client, f"fund/{fund}/escrow"))["posted"] == 900
    assert (await balance(client, f"investor/{investor}/wallet"))["posted"] == 100
    rows = await fetch(url, "SELECT count(*) AS n FROM accounts WHERE code LIKE $1", f"%{fund}%")
    assert rows[0]["n"] == 1


async def test_pending_payout_is_posted_or_voided_exactly_once(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    fund, investor = str(uuid.uuid4()), str(uuid.uuid4())
    wallet = f"investor/{investor}/wallet"
    await post(client, deposit(fund, 9_000))
    await post(
        client,
        entry("refund", (f"fund/{fund}/escrow", "debit", 9_000), (wallet, "credit", 9_000)),
    )
    payout = entry("payout", (wallet, "debit", 6_000), ("bank/b-1/clearing", "credit", 6_000))
    held = await post(client, {**payout, "pending": True})
    assert held.status_code == 201
    held_id = held.json()["id"]
    during = await balance(client, wallet)
    assert (during["posted"], during["pending_debits"], during["available"]) == (
        9_000,
        6_000,
        3_000,
    )
    overdraw = await post(
        client,
        {
            **entry("payout", (wallet, "debit", 3_001), ("bank/b-1/clearing", "credit", 3_001)),
            "pending": True,
        },
    )
    assert overdraw.status_code == 409, "pending debits count against the available balance"
    note = {"description": "bank confirmed the transfer"}
    posted = await post(client, note, path=f"/entries/{held_id}/post")
    again = await post(client, note, path=f"/entries/{held_id}/post")
    voided_late = await post(client, note, path=f"/entries/{held_id}/void")
    assert posted.status_code == 200, posted.text
    assert posted.json()["pending_entry_id"] == held_id
    assert again.status_code == voided_late.status_code == 409
    after = await balance(client, wallet)
    assert (after["posted"], after["pending_debits"], after["available"]) == (3_000, 0, 3_000)

    second = await post(
        client,
        {
            **entry("payout", (wallet, "debit", 1_000), ("bank/b-1/clearing", "credit", 1_000)),
            "pending": True,
        },
    )
    voided = await post(
        client,
        {"description": "bank rejected the transfer"},
        path=f"/entries/{second.json()['id']}/void",
    )
    assert voided.status_code == 200
    assert voided.json()["entry_type"] == "void_pending"
    restored = await balance(client, wallet)
    assert (restored["posted"], restored["pending_debits"], restored["available"]) == (
        3_000,
        0,
        3_000,
    )


async def test_reversal_undoes_an_entry_once_and_keeps_the_original(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    fund = str(uuid.uuid4())
    original = (await post(client, deposit(fund, 7_000))).json()
    note = {"description": "deposit matched to the wrong fund"}
    reversed_ = await post(client, note, path=f"/entries/{original['id']}/reverse")
    twice = await post(client, note, path=f"/entries/{original['id']}/reverse")
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses_entry_id"] == original["id"]
    assert twice.status_code == 409
    assert (await balance(client, f"fund/{fund}/escrow"))["posted"] == 0
    kept = await client.get(f"/entries/{original['id']}", headers=SERVICE)
    assert kept.json()["postings"] == original["postings"]
    rows = await fetch(url, "SELECT count(*) AS n FROM postings")
    assert rows[0]["n"] == 4


async def test_statement_running_balance_matches_the_balance(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    fund = str(uuid.uuid4())
    escrow = f"fund/{fund}/escrow"
    amounts = [1_000, 2_500, 300, 4_200, 10]
    for amount in amounts:
        await post(client, deposit(fund, amount))
    await post(
        client, entry("refund", (escrow, "debit", 300), ("investor/i-3/wallet", "credit", 300))
    )
    lines: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"/accounts/{escrow}/statement", headers=SERVICE, params=params)
        ).json()
        lines += page["lines"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [line["amount"] for line in lines] == [*amounts, 300]
    running = 0
    for line in lines:
        running += line["amount"] if line["direction"] == "credit" else -line["amount"]
        assert line["running_balance"] == running
    assert running == (await balance(client, escrow))["posted"] == sum(amounts) - 300


async def test_balance_as_of_a_past_day(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = ledger
    fund = str(uuid.uuid4())
    old = {**deposit(fund, 1_000), "effective_date": "2026-01-10"}
    new = {**deposit(fund, 2_000), "effective_date": "2026-03-01"}
    await post(client, old)
    await post(client, new)
    escrow = f"fund/{fund}/escrow"
    assert (await balance(client, escrow, as_of="2026-01-09"))["posted"] == 0
    assert (await balance(client, escrow, as_of="2026-02-01"))["posted"] == 1_000
    assert (await balance(client, escrow, as_of="2026-03-01"))["posted"] == 3_000


async def test_who_may_write_and_read(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = ledger
    fund, investor = str(uuid.uuid4()), str(uuid.uuid4())
    wallet = f"investor/{investor}/wallet"
    await post(client, deposit(fund, 500))
    await post(
        client, entry("refund", (f"fund/{fund}/escrow", "debit", 500), (wallet, "credit", 500))
    )
    me = bearer(Role.INVESTOR, investor)
    someone_else = bearer(Role.INVESTOR, str(uuid.uuid4()))
    own = await client.get(f"/accounts/{wallet}/balance", headers=me)
    other = await client.get(f"/accounts/{wallet}/balance", headers=someone_else)
    escrow = await client.get(f"/accounts/fund/{fund}/escrow", headers=me)
    write = await client.post(
        "/entries",
        json=deposit(fund, 1),
        headers={**me, "Idempotency-Key": "x"},
    )
    assert own.status_code == 200
    assert own.json()["posted"] == 500
    assert other.status_code == escrow.status_code == 404
    assert write.status_code == 403


async def test_the_database_refuses_what_the_code_would_never_write(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    fund = str(uuid.uuid4())
    entry_id = (await post(client, deposit(fund, 800))).json()["id"]
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
            await conn.execute("UPDATE postings SET amount = 1")
        with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
            await conn.execute("DELETE FROM journal_entries")
        accounts = {r["code"]: r["id"] for r in await conn.fetch("SELECT code, id FROM accounts")}
        new_entry = uuid.uuid4()
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type, "
                "purpose, effective_date, description, created_by) "
                "VALUES ($1, 'raw', '', 'standard', 'transfer', current_date, 'raw', 'test')",
                new_entry,
            )
            with pytest.raises(asyncpg.CheckViolationError, match="not balanced"):
                await conn.execute(
                    "INSERT INTO postings (entry_id, account_id, currency, direction, amount, "
                    "status) VALUES ($1, $2, 'JPY', 'debit', 5, 'posted'), "
                    "($1, $3, 'JPY', 'credit', 4, 'posted')",
                    new_entry,
                    accounts["bank/b-1/clearing"],
                    accounts[f"fund/{fund}/escrow"],
                )
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type, "
                "purpose, effective_date, description, created_by) "
                "VALUES ($1, 'raw2', '', 'standard', 'transfer', current_date, 'raw', 'test')",
                new_entry,
            )
            with pytest.raises(asyncpg.CheckViolationError, match="only by a release or a refund"):
                await conn.execute(
                    "INSERT INTO postings (entry_id, account_id, currency, direction, amount, "
                    "status) VALUES ($1, $2, 'JPY', 'debit', 5, 'posted'), "
                    "($1, $3, 'JPY', 'credit', 5, 'posted')",
                    new_entry,
                    accounts[f"fund/{fund}/escrow"],
                    accounts["bank/b-1/clearing"],
                )
        totals = await conn.fetchrow(
            "SELECT sum(b.posted_debits), sum(b.posted_credits) FROM account_balances b "
            "JOIN accounts a ON a.id = b.account_id WHERE a.code = $1",
            f"fund/{fund}/escrow",
        )
    finally:
        await conn.close()
    assert tuple(totals) == (0, 800)
    assert (await client.get(f"/entries/{entry_id}", headers=SERVICE)).status_code == 200


async def test_a_batch_posts_all_or_nothing_and_replays(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    funds = [str(uuid.uuid4()) for _ in range(3)]
    batch = {"entries": [deposit(f, 1_000 * (i + 1)) for i, f in enumerate(funds)]}
    first = await post(client, batch, key="run-1", path="/entries/batch")
    again = await post(client, batch, key="run-1", path="/entries/batch")
    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    assert len(first.json()["entries"]) == 3
    assert [(await balance(client, f"fund/{f}/escrow"))["posted"] for f in funds] == [
        1_000,
        2_000,
        3_000,
    ]
    broken = {
        "entries": [
            deposit(funds[0], 5),
            entry(
                "refund",
                (f"fund/{funds[1]}/escrow", "debit", 999_999),
                ("investor/i-9/wallet", "credit", 999_999),
            ),
        ]
    }
    refused = await post(client, broken, key="run-2", path="/entries/batch")
    assert refused.status_code == 409
    assert (await balance(client, f"fund/{funds[0]}/escrow"))["posted"] == 1_000, "nothing posted"
    rows = await fetch(url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 3
