"""A caller's Idempotency-Key lives in its own namespace, never in the ledger's own.

Two attacks of the review: an investor keyed a payout ``<another payout id>/confirm``
and every later confirmation of that payout failed; a staff entry keyed
``deposit/<bank>/<transaction>`` blocked that bank's deposit for ever.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.auth import Role, mint_token
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, running
from ledger_flows import deposit_body

CLEARING = "bank/hokkaido-bank/clearing"


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        yield client, settings.database_url


def credit(account: str, amount: int) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "credit for a key test",
        "reason": "testing key namespaces",
        "postings": [
            {"account": CLEARING, "direction": "debit", "amount": amount},
            {"account": account, "direction": "credit", "amount": amount},
        ],
    }


def token(role: Role, tenant: str, subject: str) -> dict[str, str]:
    minted = mint_token(secret=DEVELOPMENT_JWT_SECRET, role=role, tenant=tenant, subject=subject)
    return {"Authorization": f"Bearer {minted}"}


async def test_an_investors_key_cannot_block_the_confirmation_of_a_payout(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    for investor in (victim, attacker):
        booked = await client.post(
            "/entries",
            json=credit(f"investor/{investor}/wallet", 5_000),
            headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert booked.status_code == 201
    order = {"amount": 1_000, "bank_id": "hokkaido-bank", "reference": "withdrawal"}
    target = await client.post(
        "/payouts",
        json={**order, "account": f"investor/{victim}/wallet"},
        headers={**bearer(Role.INVESTOR, str(victim)), "Idempotency-Key": "mine"},
    )
    for suffix in ("confirm", "fail"):
        planted = await client.post(
            "/payouts",
            json={**order, "account": f"investor/{attacker}/wallet"},
            headers={
                **bearer(Role.INVESTOR, str(attacker)),
                "Idempotency-Key": f"{target.json()['id']}/{suffix}",
            },
        )
        assert planted.status_code == 201, planted.text
    confirmed = await client.post(
        f"/payouts/{target.json()['id']}/confirm", json={"note": "sent"}, headers=BANK
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"


async def test_a_staff_key_cannot_block_a_banks_deposit(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    planted = await client.post(
        "/entries",
        json=credit("suspense", 100),
        headers={**STAFF, "Idempotency-Key": "deposit/hokkaido-bank/T-1"},
    )
    assert planted.status_code == 201
    deposit = await client.post(
        "/deposits", json=deposit_body("T-1", 7_000, "KM0000000000"), headers=BANK
    )
    assert deposit.status_code == 201, deposit.text
    assert deposit.json()["amount"] == 7_000
    held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
    assert held["posted"] == 7_100
    keys = await fetch(url, "SELECT idempotency_key, origin FROM journal_entries ORDER BY seq")
    assert [(k["idempotency_key"], k["origin"]) for k in keys] == [
        ("client/staff/platform/staff:platform/deposit/hokkaido-bank/T-1", "manual"),
        ("deposit/hokkaido-bank/T-1", "flow"),
    ]


async def test_a_key_replays_only_for_the_caller_who_used_it(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    investor = uuid.uuid4()
    wallet = f"investor/{investor}/wallet"
    body = credit(wallet, 2_000)
    staff = await client.post(
        "/entries", json=body, headers={**STAFF, "Idempotency-Key": "shared-key"}
    )
    assert staff.status_code == 201
    # Same subject, another role or tenant: never the staff member's stored answer.
    bank_as_staff = await client.post(
        "/entries",
        json=body,
        headers={
            **token(Role.BANK, "hokkaido-bank", "staff:platform"),
            "Idempotency-Key": "shared-key",
        },
    )
    assert bank_as_staff.status_code == 403
    assert "id" not in bank_as_staff.json()
    colleague = await client.post(
        "/entries",
        json=body,
        headers={
            **token(Role.STAFF, "platform", "staff:colleague"),
            "Idempotency-Key": "shared-key",
        },
    )
    assert colleague.status_code == 201, "another staff member's key is theirs alone"
    assert colleague.json()["id"] != staff.json()["id"]
    order = {"account": wallet, "amount": 500, "bank_id": "hokkaido-bank", "reference": "w"}
    by_staff = await client.post(
        "/payouts", json=order, headers={**STAFF, "Idempotency-Key": "payout-key"}
    )
    by_investor_as_staff = await client.post(
        "/payouts",
        json=order,
        headers={
            **token(Role.INVESTOR, str(investor), "staff:platform"),
            "Idempotency-Key": "payout-key",
        },
    )
    assert by_staff.status_code == by_investor_as_staff.status_code == 201
    assert by_investor_as_staff.json()["id"] != by_staff.json()["id"]
    assert "Idempotent-Replayed" not in by_investor_as_staff.headers
    balance = (await client.get(f"/accounts/{wallet}/balance", headers=STAFF)).json()
    assert (balance["posted"], balance["pending_debits"]) == (4_000, 1_000)
    keys = [r["idempotency_key"] for r in await fetch(url, "SELECT idempotency_key FROM payouts")]
    assert sorted(keys) == [
        f"client/investor/{investor}/staff:platform/payout-key",
        "client/staff/platform/staff:platform/payout-key",
    ]


async def test_keys_the_ledger_derives_never_start_with_client(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = ledger
    await client.post("/deposits", json=deposit_body("T-9", 700, "???"), headers=BANK)
    stray = (await client.get("/suspense", headers=STAFF)).json()["items"][0]
    await client.post(
        f"/deposits/{stray['id']}/return", json={"note": "unknown payer"}, headers=STAFF
    )
    await client.post(
        "/entries", json=credit("suspense", 1), headers={**STAFF, "Idempotency-Key": "k"}
    )
    rows = await fetch(url, "SELECT idempotency_key, origin FROM journal_entries")
    payouts = await fetch(url, "SELECT idempotency_key FROM payouts")
    assert {r["origin"] for r in rows if r["idempotency_key"].startswith("client/")} == {"manual"}
    assert all(
        not r["idempotency_key"].startswith("client/") for r in rows if r["origin"] == "flow"
    )
    assert [p["idempotency_key"].startswith("return/") for p in payouts] == [True]
