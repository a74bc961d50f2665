"""What the ledger accepts from a caller: strict, bounded integers and plausible dates.

Amounts beyond the database's range used to answer 500, and ``"40000"``, ``true``
and ``1e3`` were coerced (``true`` became a 1-yen deposit).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.errors import PROBLEM_BASE
from kumiai.inputs import MAX_AMOUNT
from kumiai.periods import japan_date
from kumiai_tools.catalog import service
from kumiai_tools.testing import running
from ledger.deposits.rules import value_date_window
from ledger_flows import deposit_body

CLEARING = "bank/hokkaido-bank/clearing"
WALLET = f"investor/{uuid.uuid4()}/wallet"
HUGE = [10**30, 2**63 - 1, 2**63, MAX_AMOUNT + 1, -(2**63), 0, -1]
COERCED = ["40000", True, 1e3, 40000.0, None, [1], {"yen": 1}]


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        yield client, settings.database_url


def entry(amount: Any) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "amount test",
        "reason": "testing the bounds",
        "postings": [
            {"account": CLEARING, "direction": "debit", "amount": amount},
            {"account": WALLET, "direction": "credit", "amount": amount},
        ],
    }


def payout(amount: Any) -> dict[str, Any]:
    return {"account": WALLET, "amount": amount, "bank_id": "hokkaido-bank", "reference": "x"}


async def _send(client: httpx.AsyncClient, where: str, amount: Any) -> httpx.Response:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    if where == "deposit":
        body = deposit_body(str(uuid.uuid4()), 1, "KM0000000000")
        return await client.post("/deposits", json={**body, "amount": amount}, headers=BANK)
    if where == "entry":
        return await client.post("/entries", json=entry(amount), headers={**STAFF, **key})
    if where == "batch":
        batch = {"entries": [entry(amount)]}
        return await client.post("/entries/batch", json=batch, headers={**STAFF, **key})
    return await client.post("/payouts", json=payout(amount), headers={**STAFF, **key})


@pytest.mark.parametrize("where", ["deposit", "entry", "batch", "payout"])
async def test_amounts_out_of_range_or_not_integers_are_refused_not_coerced(
    ledger: tuple[httpx.AsyncClient, str], where: str
) -> None:
    client, url = ledger
    for amount in [*HUGE, *COERCED]:
        refused = await _send(client, where, amount)
        assert refused.status_code == 422, (where, amount, refused.text)
        assert refused.json()["type"] == PROBLEM_BASE + "validation", (where, amount)
        assert any(p["name"].endswith("amount") for p in refused.json()["invalid_params"])
    rows = await fetch(url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 0, "nothing was booked"


async def test_the_largest_amount_is_booked_and_sums_of_them_stay_exact(
    ledger: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = ledger
    for _ in range(3):
        booked = await _send(client, "entry", MAX_AMOUNT)
        assert booked.status_code == 201, booked.text
    account = (await client.get(f"/accounts/{WALLET}/balance", headers=STAFF)).json()
    assert account["posted"] == 3 * MAX_AMOUNT


async def test_the_bounds_are_in_the_schema(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = ledger
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for model in ("DepositIn", "PostingIn", "PayoutIn"):
        amount = schemas[model]["properties"]["amount"]
        assert (amount["type"], amount["exclusiveMinimum"], amount["maximum"]) == (
            "integer",
            0,
            MAX_AMOUNT,
        ), model
    for model in ("EntryIn", "DepositIn", "PayoutIn", "ResolutionIn", "SuspenseMatchIn"):
        assert schemas[model]["additionalProperties"] is False, model
        for name, field in schemas[model]["properties"].items():
            options = [field, *field.get("anyOf", [])]
            if any(o.get("type") == "string" and "format" not in o for o in options):
                assert any("maxLength" in o or "enum" in o or "$ref" in o for o in options), (
                    model,
                    name,
                )


async def test_other_fields_are_strict_too(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, url = ledger
    key = {"Idempotency-Key": str(uuid.uuid4())}
    cases = [
        ("/entries", {**entry(100), "pending": "true"}, STAFF),
        ("/entries", {**entry(100), "pending": 1}, STAFF),
        ("/entries", {**entry(100), "effective_date": 1_700_000_000}, STAFF),
        ("/entries", {**entry(100), "effective_date": "2026-11-28T00:00:00"}, STAFF),
        ("/entries", {**entry(100), "smuggled": "field"}, STAFF),
        ("/entries", {**entry(100), "description": "nul \x00 byte"}, STAFF),
        ("/entries", {**entry(100), "reason": "x" * 501}, STAFF),
        (
            "/entries/batch",
            {"entries": [entry(100), {**entry(100), "description": "nul \x00 byte"}]},
            STAFF,
        ),
        ("/entries/batch", {"entries": [{**entry(100), "smuggled": "field"}]}, STAFF),
        ("/deposits", {**deposit_body("T", 100, "KM1"), "value_date": 20261128}, BANK),
        ("/deposits", {**deposit_body("T", 100, "KM1"), "bank_transaction_id": "x" * 101}, BANK),
    ]
    for path, body, who in cases:
        refused = await client.post(path, json=body, headers={**who, **key})
        assert refused.status_code == 422, (body, refused.text)
    rows = await fetch(url, "SELECT count(*) AS n FROM journal_entries")
    assert rows[0]["n"] == 0


async def test_implausible_value_dates_are_refused(ledger: tuple[httpx.AsyncClient, str]) -> None:
    client, url = ledger
    earliest, latest = value_date_window(datetime.now(UTC))
    today = japan_date(datetime.now(UTC))
    assert latest == today + timedelta(days=1)
    verdicts = {}
    for name, day in [
        ("day after tomorrow", latest + timedelta(days=1)),
        ("next year", latest + timedelta(days=365)),
        ("over a year ago", earliest - timedelta(days=1)),
        ("ten years ago", today - timedelta(days=3653)),
        ("tomorrow", latest),
        ("a year ago", earliest),
        ("today", today),
    ]:
        response = await client.post(
            "/deposits",
            json=deposit_body(f"VD-{name}", 1_000, "KM0000000000", value_date=day.isoformat()),
            headers=BANK,
        )
        verdicts[name] = response.status_code
        if response.status_code == 422:
            assert response.json()["type"] == PROBLEM_BASE + "implausible-value-date"
            assert day.isoformat() in response.json()["detail"]
    assert verdicts == {
        "day after tomorrow": 422,
        "next year": 422,
        "over a year ago": 422,
        "ten years ago": 422,
        "tomorrow": 201,
        "a year ago": 201,
        "today": 201,
    }
    rows = await fetch(url, "SELECT count(*) AS n FROM deposits")
    assert rows[0]["n"] == 3
