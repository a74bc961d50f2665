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

from helpers import SettingsFactory, fetch
from kumiai.auth import Role
from kumiai.catalog import service
from kumiai.devstack import free_port, wait_for_port
from kumiai.testing import bearer, running

HEADERS = bearer(Role.SERVICE, "concurrency-test")


def _entry(purpose: str, debit: str, credit: str, amount: int) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "description": f"{purpose} under load",
        "postings": [
            {"account": debit, "direction": "debit", "amount": amount},
            {"account": credit, "direction": "credit", "amount": amount},
        ],
    }


async def test_concurrent_writers_on_a_hot_escrow_lose_nothing(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger", run_workers=False, database_pool_size=16)
    fund = f"fund/{uuid.uuid4()}/escrow"
    wallets = [f"investor/{uuid.uuid4()}/wallet" for _ in range(20)]
    rng = random.Random(7)
    deposits = [rng.randint(1_000, 9_000) for _ in range(200)]
    refunds = [(rng.choice(wallets), rng.randint(1, 3_000)) for _ in range(150)]
    statuses: Counter[int] = Counter()
    refunded: Counter[str] = Counter()
    async with running(service("ledger").create_app(settings)) as client:
        gate = asyncio.Semaphore(64)

        async def send(body: dict[str, Any]) -> httpx.Response:
            async with gate:
                response = await client.post(
                    "/entries", json=body, headers={**HEADERS, "Idempotency-Key": str(uuid.uuid4())}
                )
            statuses[response.status_code] += 1
            return response

        async def refund(wallet: str, amount: int) -> None:
            response = await send(_entry("refund", fund, wallet, amount))
            if response.status_code == 201:
                refunded[wallet] += amount
            else:
                assert response.status_code == 409, response.text

        await send(_entry("deposit", "bank/hot/clearing", fund, 1))  # open the accounts
        jobs: list[Coroutine[Any, Any, object]] = [
            send(_entry("deposit", "bank/hot/clearing", fund, d)) for d in deposits
        ]
        jobs += [refund(w, a) for w, a in refunds]
        rng.shuffle(jobs)
        await asyncio.gather(*jobs)
        escrow = (await client.get(f"/accounts/{fund}/balance", headers=HEADERS)).json()
        trial = (await client.get("/trial-balance", headers=HEADERS)).json()
        wallet_balances = {
            w: (await client.get(f"/accounts/{w}/balance", headers=HEADERS)).json()["posted"]
            for w in refunded
        }
    assert set(statuses) <= {201, 409}, f"only successes and refused overdrafts: {statuses}"
    assert statuses[201] >= 201
    assert escrow["posted"] == 1 + sum(deposits) - sum(refunded.values())
    assert wallet_balances == dict(refunded)
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

    fund = f"fund/{uuid.uuid4()}/escrow"
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
                            json=_entry("deposit", "bank/crash/clearing", fund, 100 + i),
                            headers={**HEADERS, "Idempotency-Key": key},
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
            trial = (await client.get("/trial-balance", headers=HEADERS)).json()
            escrow = (await client.get(f"/accounts/{fund}/balance", headers=HEADERS)).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    stored = await fetch(
        settings.database_url, "SELECT idempotency_key, id::text AS id FROM journal_entries"
    )
    keys = {r["idempotency_key"]: r["id"] for r in stored}
    assert all(keys.get(k) == v for k, v in acknowledged.items()), "an acknowledged entry is gone"
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
        fund,
    )
    assert escrow["posted"] == sums[0]["total"]
    assert trial["balanced"] is True
    assert len(keys) >= len(acknowledged) >= 150
