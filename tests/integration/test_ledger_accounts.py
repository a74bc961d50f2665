"""Account codes name real things: UUIDs for funds, investors and businesses, a registered
partner bank for a clearing account, a local government code for a municipality."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import STAFF, SettingsFactory, fetch
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import running

CLEARING = "bank/hokkaido-bank/clearing"


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        yield client, settings.database_url


def transfer(debit: str, credit: str, amount: int = 100) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "opening an account",
        "reason": "test of the chart of accounts",
        "postings": [
            {"account": debit, "direction": "debit", "amount": amount},
            {"account": credit, "direction": "credit", "amount": amount},
        ],
    }


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/entries", json=body, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
    )


@pytest.mark.parametrize(
    "code",
    [
        "fund/not-a-uuid/escrow",
        "investor/not-a-uuid/wallet",
        f"investor/{str(uuid.uuid4()).upper()}/wallet",
        "msme/m-1/payable",
        "municipality/012026/subsidy",
        "municipality/12025/subsidy",
        "bank/no-such-bank/clearing",
        "fund/escrow",
        "shoebox",
    ],
)
async def test_an_account_that_names_nothing_is_refused_by_name(
    ledger: tuple[httpx.AsyncClient, str], code: str
) -> None:
    client, url = ledger
    refused = await post(client, transfer(CLEARING, code))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == PROBLEM_BASE + "unknown-account"
    assert body["account"] == code
    assert code in body["detail"]
    rows = await fetch(url, "SELECT count(*) AS n FROM accounts WHERE code = $1", code)
    assert rows[0]["n"] == 0


async def test_accounts_the_chart_knows_are_opened(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = ledger
    investor, msme = uuid.uuid4(), uuid.uuid4()
    for code in (
        f"investor/{investor}/wallet",
        f"msme/{msme}/payable",
        "municipality/012025/subsidy",
        "tax/withholding",
        "suspense",
    ):
        created = await post(client, transfer(CLEARING, code))
        assert created.status_code == 201, created.text
    other_bank = await post(client, transfer("bank/other-bank/clearing", "suspense"))
    assert other_bank.status_code == 201
    account = (await client.get(f"/accounts/msme/{msme}/payable", headers=STAFF)).json()
    assert (account["owner_type"], account["owner_id"], account["segregated"]) == (
        "msme",
        str(msme),
        False,
    )


async def test_a_suspended_banks_books_may_still_be_corrected(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "UPDATE partners SET status = 'suspended' WHERE partner_id = 'other-bank'"
        )
    finally:
        await conn.close()
    corrected = await post(client, transfer("bank/other-bank/clearing", "suspense"))
    assert corrected.status_code == 201, "registered, though suspended: its account exists"


async def test_payouts_name_real_accounts_too(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = ledger
    refused = await client.post(
        "/payouts",
        json={
            "account": "investor/not-a-uuid/wallet",
            "amount": 100,
            "bank_id": "hokkaido-bank",
            "reference": "withdrawal",
        },
        headers={**STAFF, "Idempotency-Key": "p-1"},
    )
    assert refused.status_code == 422
    assert refused.json()["account"] == "investor/not-a-uuid/wallet"


async def test_the_database_refuses_codes_outside_the_chart(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    _, url = ledger
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    insert = (
        "INSERT INTO accounts (id, code, kind, currency, owner_type, owner_id, segregated,"
        " debits_must_not_exceed_credits, credits_must_not_exceed_debits)"
        " VALUES ($1, $2, 'liability', 'JPY', $3, $4, $5, true, false)"
    )
    fund = str(uuid.uuid4())
    try:
        with pytest.raises(asyncpg.CheckViolationError, match="code_in_chart"):
            await conn.execute(insert, uuid.uuid4(), "fund/not-a-uuid/escrow", "fund", "x", True)
        with pytest.raises(asyncpg.CheckViolationError, match="fund_accounts_segregated"):
            await conn.execute(insert, uuid.uuid4(), f"fund/{fund}/escrow", "fund", fund, False)
        with pytest.raises(asyncpg.CheckViolationError, match="fund_accounts_segregated"):
            await conn.execute(insert, uuid.uuid4(), "suspense", "platform", None, True)
    finally:
        await conn.close()
