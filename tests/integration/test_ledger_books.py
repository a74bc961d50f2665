"""The ledger's books over HTTP and in the database itself.

Staff book manual entries (adjustments and transfers, with a reason) between the
platform's non-fund accounts; money reaches a fund's escrow only through the
flows (``FundOpened``, ``SubscriptionPlaced``, then a bank's deposit).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, running
from ledger_flows import Flows, deposit_body

CLEARING = "bank/hokkaido-bank/clearing"


@dataclass
class Ledger:
    client: httpx.AsyncClient
    url: str
    flows: Flows


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    settings = settings_for("ledger", run_workers=False)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        yield Ledger(client, settings.database_url, Flows(app))


def wallet() -> str:
    return f"investor/{uuid.uuid4()}/wallet"


def entry(purpose: str, *legs: tuple[str, str, int], pending: bool = False) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "description": f"{purpose} for a test",
        "reason": "correction agreed with the bank",
        "pending": pending,
        "postings": [{"account": a, "direction": d, "amount": n} for a, d, n in legs],
    }


def credit(account: str, amount: int, purpose: str = "transfer") -> dict[str, Any]:
    """Money a partner bank holds for us, booked by hand to ``account``."""
    return entry(purpose, (CLEARING, "debit", amount), (account, "credit", amount))


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None, path: str = "/entries"
) -> httpx.Response:
    headers = {**STAFF, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(path, json=body, headers=headers)


async def balance(client: httpx.AsyncClient, code: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/accounts/{code}/balance", headers=STAFF, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_deposit_lands_in_escrow_and_the_books_balance(ledger: Ledger) -> None:
    client = ledger.client
    fund = await ledger.flows.open_fund()
    placed = await ledger.flows.subscribe(fund, units=1)
    created = await client.post(
        "/deposits", json=deposit_body("T-1", 10_500, placed.payment_reference), headers=BANK
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "matched"
    booked = (await client.get(f"/entries/{created.json()['entry_id']}", headers=STAFF)).json()
    assert (booked["entry_type"], booked["origin"], booked["purpose"]) == (
        "standard",
        "flow",
        "deposit",
    )
    assert {(p["account"], p["direction"], p["amount"]) for p in booked["postings"]} == {
        (CLEARING, "debit", 10_500),
        (f"fund/{fund.fund_id}/escrow", "credit", 10_500),
    }
    escrow = await balance(client, f"fund/{fund.fund_id}/escrow")
    assert (escrow["posted"], escrow["available"], escrow["kind"]) == (10_500, 10_500, "liability")
    trial = (await client.get("/trial-balance", headers=STAFF)).json()
    assert trial["balanced"] is True
    assert trial["net_by_currency"] == {"JPY": 0}


async def test_replaying_a_key_posts_once_and_a_changed_body_is_refused(ledger: Ledger) -> None:
    client = ledger.client
    first = await post(client, credit("suspense", 1_000), key="dep-1")
    again = await post(client, credit("suspense", 1_000), key="dep-1")
    changed = await post(client, credit("suspense", 2_000), key="dep-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (first.json()["origin"], first.json()["reason"]) == (
        "manual",
        "correction agreed with the bank",
    )
    assert changed.status_code == 422
    assert changed.json()["type"] == PROBLEM_BASE + "idempotency-key-reused"
    assert (await balance(client, "suspense"))["posted"] == 1_000
    rows = await fetch(ledger.url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 1


async def test_unbalanced_and_unknown_entries_are_refused(ledger: Ledger) -> None:
    client = ledger.client
    unbalanced = await post(
        client, entry("transfer", (CLEARING, "debit", 100), ("suspense", "credit", 99))
    )
    unknown = await post(
        client, entry("transfer", (CLEARING, "debit", 1), ("shoebox", "credit", 1))
    )
    assert unbalanced.status_code == 422
    assert unbalanced.json()["detail"] == "JPY debits and credits differ by 1"
    assert unknown.status_code == 422
    assert unknown.json()["type"] == PROBLEM_BASE + "unknown-account"
    assert unknown.json()["account"] == "shoebox"
    assert "not in the chart of accounts" in unknown.json()["detail"]


async def test_escrow_money_leaves_only_by_its_flows(ledger: Ledger) -> None:
    client, flows = ledger.client, ledger.flows
    fund = await flows.open_fund()
    placed = await flows.subscribe(fund, units=1)
    paid = await client.post(
        "/deposits", json=deposit_body("T-1", 10_500, placed.payment_reference), headers=BANK
    )
    assert paid.json()["status"] == "matched", paid.text
    escrow = f"fund/{fund.fund_id}/escrow"
    payer = f"investor/{placed.investor_id}/wallet"
    sideways = await post(
        client, entry("transfer", (escrow, "debit", 10_500), ("suspense", "credit", 10_500))
    )
    by_hand = await post(
        client, entry("adjustment", (escrow, "debit", 10_500), (payer, "credit", 10_500))
    )
    assert sideways.status_code == by_hand.status_code == 422
    assert sideways.json()["type"] == by_hand.json()["type"] == PROBLEM_BASE + "segregation"
    assert (await balance(client, escrow))["posted"] == 10_500
    await flows.cancel(placed)
    assert (await balance(client, escrow))["posted"] == 0
    assert (await balance(client, payer))["posted"] == 10_500


async def test_no_account_goes_below_its_condition(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    await post(client, credit(purse, 5_000))
    too_much = await post(
        client, entry("transfer", (purse, "debit", 5_001), ("suspense", "credit", 5_001))
    )
    assert too_much.status_code == 409
    assert too_much.json()["type"] == PROBLEM_BASE + "insufficient-balance"
    assert (await balance(client, purse))["posted"] == 5_000


async def test_accounts_opened_by_a_refused_entry_are_not_remembered(ledger: Ledger) -> None:
    """The process caches accounts; one opened in a rolled-back transaction does not exist."""
    client = ledger.client
    investor = str(uuid.uuid4())
    purse = f"investor/{investor}/wallet"
    refused = await post(
        client, entry("transfer", (purse, "debit", 100), ("suspense", "credit", 100))
    )
    first = await post(client, credit(purse, 700))
    second = await post(client, credit(purse, 300))
    out = await post(client, entry("transfer", (purse, "debit", 100), ("suspense", "credit", 100)))
    assert refused.status_code == 409, refused.text
    assert [first.status_code, second.status_code, out.status_code] == [201, 201, 201]
    assert (await balance(client, purse))["posted"] == 900
    assert (await balance(client, "suspense"))["posted"] == 100
    rows = await fetch(
        ledger.url, "SELECT count(*) AS n FROM accounts WHERE code LIKE $1", f"%{investor}%"
    )
    assert rows[0]["n"] == 1


async def test_pending_entry_is_posted_or_voided_exactly_once(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    await post(client, credit(purse, 9_000))
    hold = entry("transfer", (purse, "debit", 6_000), ("suspense", "credit", 6_000), pending=True)
    held = await post(client, hold)
    assert held.status_code == 201
    held_id = held.json()["id"]
    during = await balance(client, purse)
    assert (during["posted"], during["pending_debits"], during["available"]) == (
        9_000,
        6_000,
        3_000,
    )
    overdraw = await post(
        client,
        entry("transfer", (purse, "debit", 3_001), ("suspense", "credit", 3_001), pending=True),
    )
    assert overdraw.status_code == 409, "pending debits count against the available balance"
    note = {"description": "transfer executed", "reason": "the bank confirmed it"}
    posted = await post(client, note, path=f"/entries/{held_id}/post")
    again = await post(client, note, path=f"/entries/{held_id}/post")
    voided_late = await post(client, note, path=f"/entries/{held_id}/void")
    assert posted.status_code == 200, posted.text
    assert posted.json()["pending_entry_id"] == held_id
    assert posted.json()["reason"] == "the bank confirmed it"
    assert again.status_code == voided_late.status_code == 409
    after = await balance(client, purse)
    assert (after["posted"], after["pending_debits"], after["available"]) == (3_000, 0, 3_000)

    second = await post(
        client,
        entry("transfer", (purse, "debit", 1_000), ("suspense", "credit", 1_000), pending=True),
    )
    voided = await post(
        client,
        {"description": "transfer rejected", "reason": "the bank rejected it"},
        path=f"/entries/{second.json()['id']}/void",
    )
    assert voided.status_code == 200
    assert voided.json()["entry_type"] == "void_pending"
    restored = await balance(client, purse)
    assert (restored["posted"], restored["pending_debits"], restored["available"]) == (
        3_000,
        0,
        3_000,
    )


async def test_reversal_undoes_an_entry_once_and_keeps_the_original(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    original = (await post(client, credit(purse, 7_000))).json()
    note = {"description": "credited to the wrong investor", "reason": "ticket 42"}
    reversed_ = await post(client, note, path=f"/entries/{original['id']}/reverse")
    twice = await post(client, note, path=f"/entries/{original['id']}/reverse")
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["reverses_entry_id"] == original["id"]
    assert {(p["account"], p["direction"], p["amount"]) for p in reversed_.json()["postings"]} == {
        (CLEARING, "credit", 7_000),
        (purse, "debit", 7_000),
    }
    assert twice.status_code == 409
    assert (await balance(client, purse))["posted"] == 0
    kept = await client.get(f"/entries/{original['id']}", headers=STAFF)
    assert kept.json()["postings"] == original["postings"]
    rows = await fetch(ledger.url, "SELECT count(*) AS n FROM postings")
    assert rows[0]["n"] == 4


async def test_statement_running_balance_matches_the_balance(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    amounts = [1_000, 2_500, 300, 4_200, 10]
    for amount in amounts:
        await post(client, credit(purse, amount))
    await post(client, entry("transfer", (purse, "debit", 300), ("suspense", "credit", 300)))
    lines: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"/accounts/{purse}/statement", headers=STAFF, params=params)
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
    assert running == (await balance(client, purse))["posted"] == sum(amounts) - 300


async def test_statement_cursors_are_opaque_and_checked(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    for amount in (100, 200, 300):
        await post(client, credit(purse, amount))
    first = (
        await client.get(f"/accounts/{purse}/statement", headers=STAFF, params={"limit": "1"})
    ).json()
    assert not first["next_cursor"].isdigit(), "not a bare posting id"
    numeric = await client.get(
        f"/accounts/{purse}/statement", headers=STAFF, params={"cursor": "1"}
    )
    forged = await client.get(
        f"/accounts/{purse}/statement", headers=STAFF, params={"cursor": "bm90LWEtY3Vyc29y"}
    )
    assert numeric.status_code == forged.status_code == 422
    assert forged.json()["type"] == PROBLEM_BASE + "bad-cursor"


async def test_balance_as_of_a_past_day(ledger: Ledger) -> None:
    client = ledger.client
    purse = wallet()
    old = {**credit(purse, 1_000), "effective_date": "2026-01-10"}
    new = {**credit(purse, 2_000), "effective_date": "2026-03-01"}
    await post(client, old)
    await post(client, new)
    assert (await balance(client, purse, as_of="2026-01-09"))["posted"] == 0
    assert (await balance(client, purse, as_of="2026-02-01"))["posted"] == 1_000
    assert (await balance(client, purse, as_of="2026-03-01"))["posted"] == 3_000


async def test_who_may_write_and_read(ledger: Ledger) -> None:
    client = ledger.client
    investor = str(uuid.uuid4())
    purse = f"investor/{investor}/wallet"
    await post(client, credit(purse, 500))
    me = bearer(Role.INVESTOR, investor)
    someone_else = bearer(Role.INVESTOR, str(uuid.uuid4()))
    own = await client.get(f"/accounts/{purse}/balance", headers=me)
    other = await client.get(f"/accounts/{purse}/balance", headers=someone_else)
    bank_books = await client.get(f"/accounts/{CLEARING}", headers=BANK)
    bank_prying = await client.get(f"/accounts/{purse}/statement", headers=BANK)
    write = await client.post(
        "/entries", json=credit(purse, 1), headers={**me, "Idempotency-Key": "x"}
    )
    bank_write = await client.post(
        "/entries", json=credit(purse, 1), headers={**BANK, "Idempotency-Key": "x"}
    )
    assert own.status_code == 200
    assert own.json()["posted"] == 500
    assert other.status_code == bank_prying.status_code == 404
    assert other.json()["detail"] == "no such account", "a 404 names no other account"
    assert bank_books.status_code == 200
    assert bank_books.json()["balance"]["posted"] == 500
    assert write.status_code == bank_write.status_code == 403


async def test_service_tokens_are_refused_everywhere(ledger: Ledger) -> None:
    """No platform service calls the ledger's HTTP API: events carry everything."""
    client = ledger.client
    purse = wallet()
    await post(client, credit(purse, 500))
    for tenant in ("subscription", "ledger"):
        token = bearer(Role.SERVICE, tenant)
        write = await client.post(
            "/entries", json=credit(purse, 1), headers={**token, "Idempotency-Key": "svc"}
        )
        read = await client.get(f"/accounts/{purse}/balance", headers=token)
        trial = await client.get("/trial-balance", headers=token)
        deposits = await client.get("/deposits", headers=token)
        payout = await client.post(
            "/payouts",
            json={"account": purse, "amount": 1, "bank_id": "hokkaido-bank", "reference": "x"},
            headers={**token, "Idempotency-Key": "svc"},
        )
        assert [r.status_code for r in (write, read, trial, deposits, payout)] == [403] * 5
    assert (await balance(client, purse))["posted"] == 500


async def test_the_database_refuses_what_the_code_would_never_write(ledger: Ledger) -> None:
    client = ledger.client
    fund = await ledger.flows.open_fund()
    placed = await ledger.flows.subscribe(fund)
    deposit = await client.post(
        "/deposits", json=deposit_body("T-8", 10_500, placed.payment_reference), headers=BANK
    )
    entry_id = deposit.json()["entry_id"]
    escrow = f"fund/{fund.fund_id}/escrow"
    conn = await asyncpg.connect(ledger.url.replace("postgresql+asyncpg://", "postgresql://"))
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
                "purpose, effective_date, description, created_by, origin, reason) "
                "VALUES ($1, 'raw', '', 'standard', 'transfer', current_date, 'raw', 'test', "
                "'manual', 'raw')",
                new_entry,
            )
            with pytest.raises(asyncpg.CheckViolationError, match="not balanced"):
                await conn.execute(
                    "INSERT INTO postings (entry_id, account_id, currency, direction, amount, "
                    "status) VALUES ($1, $2, 'JPY', 'debit', 5, 'posted'), "
                    "($1, $3, 'JPY', 'credit', 4, 'posted')",
                    new_entry,
                    accounts[CLEARING],
                    accounts[escrow],
                )
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type, "
                "purpose, effective_date, description, created_by, origin, reason) "
                "VALUES ($1, 'raw2', '', 'standard', 'transfer', current_date, 'raw', 'test', "
                "'manual', 'raw')",
                new_entry,
            )
            with pytest.raises(asyncpg.CheckViolationError, match="segregation"):
                await conn.execute(
                    "INSERT INTO postings (entry_id, account_id, currency, direction, amount, "
                    "status) VALUES ($1, $2, 'JPY', 'debit', 5, 'posted'), "
                    "($1, $3, 'JPY', 'credit', 5, 'posted')",
                    new_entry,
                    accounts[escrow],
                    accounts[CLEARING],
                )
        totals = await conn.fetchrow(
            "SELECT sum(b.posted_debits), sum(b.posted_credits) FROM account_balances b "
            "JOIN accounts a ON a.id = b.account_id WHERE a.code = $1",
            escrow,
        )
    finally:
        await conn.close()
    assert tuple(totals) == (0, 10_500)
    assert (await client.get(f"/entries/{entry_id}", headers=STAFF)).status_code == 200


async def test_a_batch_posts_all_or_nothing_and_replays(ledger: Ledger) -> None:
    client = ledger.client
    purses = [wallet() for _ in range(3)]
    batch = {"entries": [credit(p, 1_000 * (i + 1)) for i, p in enumerate(purses)]}
    first = await post(client, batch, key="run-1", path="/entries/batch")
    again = await post(client, batch, key="run-1", path="/entries/batch")
    assert first.status_code == 201, first.text
    assert again.json() == first.json()
    assert len(first.json()["entries"]) == 3
    assert [(await balance(client, p))["posted"] for p in purses] == [1_000, 2_000, 3_000]
    broken = {
        "entries": [
            credit(purses[0], 5),
            entry("transfer", (purses[1], "debit", 999_999), ("suspense", "credit", 999_999)),
        ]
    }
    refused = await post(client, broken, key="run-2", path="/entries/batch")
    assert refused.status_code == 409
    assert (await balance(client, purses[0]))["posted"] == 1_000, "nothing posted"
    rows = await fetch(ledger.url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 3
