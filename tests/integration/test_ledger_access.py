"""Who reads what: a bank its own deposits and payouts, everyone else its own account.

Another party's object is "not found" (never "forbidden"), and the answer names
nothing of it; list filters take only values the ledger knows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpers import BANK, MUNICIPALITY, OTHER_BANK, STAFF, SettingsFactory
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, running
from ledger_flows import deposit_body


@pytest.fixture
async def client(settings_for: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        yield client


def credit(account: str, amount: int, bank: str = "hokkaido-bank") -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "credit for an access test",
        "reason": "testing who reads what",
        "postings": [
            {"account": f"bank/{bank}/clearing", "direction": "debit", "amount": amount},
            {"account": account, "direction": "credit", "amount": amount},
        ],
    }


async def book(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(
        "/entries", json=body, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text


async def test_a_bank_reads_only_its_own_deposits_and_payouts(client: httpx.AsyncClient) -> None:
    theirs = await client.post("/deposits", json=deposit_body("X-1", 900, "?"), headers=OTHER_BANK)
    ours = await client.post("/deposits", json=deposit_body("O-1", 800, "?"), headers=BANK)
    wallet = f"investor/{uuid.uuid4()}/wallet"
    await book(client, credit(wallet, 5_000, bank="other-bank"))
    their_payout = await client.post(
        "/payouts",
        json={"account": wallet, "amount": 500, "bank_id": "other-bank", "reference": "w"},
        headers={**STAFF, "Idempotency-Key": "p"},
    )
    peek = await client.get(f"/deposits/{theirs.json()['id']}", headers=BANK)
    missing = await client.get(f"/deposits/{uuid.uuid4()}", headers=BANK)
    listed = (await client.get("/deposits", headers=BANK)).json()["items"]
    filtered = await client.get("/deposits", params={"bank_id": "other-bank"}, headers=BANK)
    payouts = (await client.get("/payouts", headers=BANK)).json()["items"]
    confirm = await client.post(
        f"/payouts/{their_payout.json()['id']}/confirm", json={"note": "sent"}, headers=BANK
    )
    suspense = await client.get("/suspense", headers=BANK)
    assert peek.status_code == missing.status_code == 404
    assert peek.json()["detail"] == missing.json()["detail"] == "no such deposit"
    assert [d["id"] for d in listed] == [ours.json()["id"]]
    assert filtered.status_code == 404
    assert "other-bank" not in filtered.json()["detail"]
    assert payouts == []
    assert confirm.status_code == 404
    assert confirm.json()["detail"] == "no such payout"
    assert suspense.status_code == 403


@pytest.mark.parametrize("view", ["", "/balance", "/statement"])
async def test_each_party_reads_only_its_own_account(client: httpx.AsyncClient, view: str) -> None:
    investor, msme = str(uuid.uuid4()), str(uuid.uuid4())
    accounts = {
        "investor": f"investor/{investor}/wallet",
        "msme": f"msme/{msme}/payable",
        "municipality": "municipality/012025/subsidy",
        "other municipality": "municipality/011002/subsidy",
        "bank": "bank/hokkaido-bank/clearing",
        "other bank": "bank/other-bank/clearing",
    }
    for code in list(accounts.values())[:-2]:
        await book(client, credit(code, 1_000))
    await book(client, credit("suspense", 1_000, bank="other-bank"))
    readers = {
        "investor": bearer(Role.INVESTOR, investor),
        "msme": bearer(Role.MSME, msme),
        "municipality": MUNICIPALITY,
        "bank": BANK,
    }
    seen = {
        (reader, owner): (await client.get(f"/accounts/{code}{view}", headers=token)).status_code
        for reader, token in readers.items()
        for owner, code in accounts.items()
    }
    assert seen == {
        (reader, owner): 200 if reader == owner else 404 for reader in readers for owner in accounts
    }
    staff_view = await client.get(f"/accounts/{accounts['other bank']}{view}", headers=STAFF)
    assert staff_view.status_code == 200


async def test_list_filters_accept_only_known_values(client: httpx.AsyncClient) -> None:
    for path in ("/deposits", "/payouts"):
        for status in ("bogus", "MATCHED", "matched' OR 1=1"):
            refused = await client.get(path, params={"status": status}, headers=STAFF)
            assert refused.status_code == 422, (path, status)
            assert refused.json()["type"] == PROBLEM_BASE + "validation"
    bad_bank = await client.get("/deposits", params={"bank_id": "a/b"}, headers=STAFF)
    assert bad_bank.status_code == 422
    spec = (await client.get("/openapi.json")).json()
    deposits = {p["name"]: p for p in spec["paths"]["/deposits"]["get"]["parameters"]}
    payouts = {p["name"]: p for p in spec["paths"]["/payouts"]["get"]["parameters"]}
    schemas = spec["components"]["schemas"]

    def enum(parameter: dict[str, Any]) -> list[str]:
        ref = next(o["$ref"] for o in parameter["schema"]["anyOf"] if "$ref" in o)
        values: list[str] = schemas[ref.rsplit("/", 1)[-1]]["enum"]
        return values

    assert enum(deposits["status"]) == ["matched", "suspense", "returning", "returned"]
    assert enum(payouts["status"]) == ["instructed", "confirmed", "failed"]
    statement = {
        p["name"]: p for p in spec["paths"]["/accounts/{code}/statement"]["get"]["parameters"]
    }
    assert "^\\d+$" not in str(statement["cursor"]["schema"])
