"""Many writers at once, and a ledger killed in the middle of a burst."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.auth import Principal, Role
from kumiai.idempotency import client_key
from kumiai_tools.catalog import service
from kumiai_tools.devstack import free_port, wait_for_port
from kumiai_tools.testing import running
from ledger_flows import Flows, deposit_body

CLEARING = "bank/hokkaido-bank/clearing"
STAFF_PRINCIPAL = Principal(subject="staff:platform", role=Role.STAFF, tenant="platform")


def _entry(debit: str, credit: str, amount: int) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "transfer under load",
        "reason": "load test",
        "postings": [
            {"account": debit, "direction": "debit", "amount": amount},
            {"account": credit, "direction": "credit", "amount": amount},
        ],
    }


async def test_concurrent_payments_and_refunds_on_a_hot_escrow_lose_nothing(
    settings_for: SettingsFactory,
) -> None:
    """Banks report 200 payments into one fund while investors cancel 60 subscriptions."""
    settings = settings_for("ledger", run_workers=False, database_pool_size=16)
    app = service("ledger").create_app(settings)
    flows = Flows(app)
    rng = random.Random(7)
    statuses: Counter[int] = Counter()
    outcomes: dict[str, str] = {}
    async with running(app) as client:
        fund = await flows.open_fund(units_offered=1_000, max_units_per_investor=5)
        subs = [await flows.subscribe(fund, units=rng.randint(1, 5)) for _ in range(200)]
        cancelled = rng.sample(subs, 60)
        gate = asyncio.Semaphore(64)

        async def pay(n: int) -> None:
            placed = subs[n]
            async with gate:
                response = await client.post(
                    "/deposits",
                    json=deposit_body(f"HOT-{n}", placed.amount_due, placed.payment_reference),
                    headers=BANK,
                )
            statuses[response.status_code] += 1
            outcomes[str(placed.subscription_id)] = response.json()["status"]

        async def cancel_some() -> None:
            for placed in cancelled:
                await flows.cancel(placed)

        jobs: list[Coroutine[Any, Any, None]] = [pay(n) for n in range(len(subs))]
        rng.shuffle(jobs)
        await asyncio.gather(cancel_some(), *jobs)
        escrow = (
            await client.get(f"/accounts/fund/{fund.fund_id}/escrow/balance", headers=STAFF)
        ).json()
        held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        trial = (await client.get("/trial-balance", headers=STAFF)).json()
        wallets = {
            str(p.investor_id): (
                await client.get(f"/accounts/investor/{p.investor_id}/wallet", headers=STAFF)
            ).json()
            for p in cancelled
        }
    assert statuses == {201: 200}, f"every report is booked: {statuses}"
    gone = {str(p.subscription_id) for p in cancelled}
    kept = [p for p in subs if str(p.subscription_id) not in gone]
    assert all(outcomes[str(p.subscription_id)] == "matched" for p in kept)
    refunded = [p for p in cancelled if outcomes[str(p.subscription_id)] == "matched"]
    late = [p for p in cancelled if outcomes[str(p.subscription_id)] == "suspense"]
    assert len(refunded) + len(late) == len(cancelled)
    assert escrow["posted"] == sum(p.amount_due for p in kept)
    assert held["posted"] == sum(p.amount_due for p in late), "paid after cancelling: suspense"
    for p in refunded:
        account = wallets[str(p.investor_id)]
        assert account["balance"]["posted"] == p.amount_due
        assert account["balance"]["pending_debits"] == p.amount_due, "paid back via the bank"
    assert trial["balanced"] is True


async def test_concurrent_writers_on_one_account_never_overdraw_it(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger", run_workers=False, database_pool_size=16)
    wallets = [f"investor/{uuid.uuid4()}/wallet" for _ in range(20)]
    rng = random.Random(7)
    credits = [rng.randint(1_000, 9_000) for _ in range(200)]
    debits = [(rng.choice(wallets), rng.randint(1, 3_000)) for _ in range(150)]
    statuses: Counter[int] = Counter()
    paid_out: Counter[str] = Counter()
    async with running(service("ledger").create_app(settings)) as client:
        gate = asyncio.Semaphore(64)

        async def send(body: dict[str, Any]) -> httpx.Response:
            async with gate:
                response = await client.post(
                    "/entries", json=body, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
                )
            statuses[response.status_code] += 1
            return response

        async def debit(wallet: str, amount: int) -> None:
            response = await send(_entry("suspense", wallet, amount))
            if response.status_code == 201:
                paid_out[wallet] += amount
            else:
                assert response.status_code == 409, response.text

        await send(_entry(CLEARING, "suspense", 1))  # open the accounts
        jobs: list[Coroutine[Any, Any, object]] = [
            send(_entry(CLEARING, "suspense", c)) for c in credits
        ]
        jobs += [debit(w, a) for w, a in debits]
        rng.shuffle(jobs)
        await asyncio.gather(*jobs)
        held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        trial = (await client.get("/trial-balance", headers=STAFF)).json()
        wallet_balances = {
            w: (await client.get(f"/accounts/{w}/balance", headers=STAFF)).json()["posted"]
            for w in paid_out
        }
    assert set(statuses) <= {201, 409}, f"only successes and refused overdrafts: {statuses}"
    assert statuses[201] >= 201
    assert held["posted"] == 1 + sum(credits) - sum(paid_out.values())
    assert held["posted"] >= 0
    assert wallet_balances == dict(paid_out)
    assert trial["balanced"] is True


async def test_killing_the_ledger_mid_burst_keeps_every_acknowledged_entry(
    settings_for: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_for("ledger", run_workers=False)
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": settings.database_url,
        "LEDGER_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "LEDGER_RUN_WORKERS": "false",
        "LEDGER_ENVIRONMENT": "test",
    }

    def start() -> subprocess.Popen[bytes]:
        log = open(tmp_path / "ledger.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "ledger.app:create_app",
                "--factory",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
        wait_for_port("127.0.0.1", port, timeout_s=30, proc=proc)
        return proc

    target = f"investor/{uuid.uuid4()}/wallet"
    acknowledged: dict[str, str] = {}
    proc = start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def writer(n: int) -> None:
                for i in range(10_000):
                    key = f"crash-{n}-{i}"
                    try:
                        response = await client.post(
                            "/entries",
                            json=_entry(CLEARING, target, 100 + i),
                            headers={**STAFF, "Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        return
                    if response.status_code == 201:
                        acknowledged[key] = response.json()["id"]
                        if len(acknowledged) >= 150:
                            enough.set()

            enough = asyncio.Event()
            writers = [asyncio.create_task(writer(n)) for n in range(16)]
            await asyncio.wait_for(enough.wait(), 60)
            proc.send_signal(signal.SIGKILL)
            await asyncio.gather(*writers)
    finally:
        proc.kill()
        proc.wait()
    proc = start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            trial = (await client.get("/trial-balance", headers=STAFF)).json()
            kept = (await client.get(f"/accounts/{target}/balance", headers=STAFF)).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    stored = await fetch(
        settings.database_url, "SELECT idempotency_key, id::text AS id FROM journal_entries"
    )
    keys = {r["idempotency_key"]: r["id"] for r in stored}
    assert all(keys.get(client_key(STAFF_PRINCIPAL, k)) == v for k, v in acknowledged.items()), (
        "an acknowledged entry is gone"
    )
    partial = await fetch(
        settings.database_url,
        "SELECT e.id FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id "
        "GROUP BY e.id HAVING count(p.id) <> 2",
    )
    assert partial == []
    sums = await fetch(
        settings.database_url,
        "SELECT sum(p.amount) AS total FROM postings p JOIN accounts a ON a.id = p.account_id "
        "WHERE a.code = $1",
        target,
    )
    assert kept["posted"] == sums[0]["total"]
    assert trial["balanced"] is True
    assert len(keys) >= len(acknowledged) >= 150
