"""Ledger figures for ``make bench`` (see ``kumiai_tools.bench``).

Every figure is of manual entries booked by staff (transfers with a reason)
between non-fund accounts: a fund's escrow is written only by its flows.

- ``ledger.batch_postings_per_s``: postings written by ``POST /entries/batch``
  (1,000 entries of two postings each, one request at a time).
- ``ledger.entries_per_s`` / ``ledger.entry_p99_ms`` / ``ledger.entry_errors``:
  single-entry ``POST /entries`` over real HTTP from 16 concurrent keep-alive
  connections, entries spread over 20 partner banks' clearing accounts and
  500 investors' wallets.
- ``ledger.hot_account_entries_per_s`` / ``ledger.hot_account_p99_ms`` /
  ``ledger.hot_account_errors``: 64 concurrent writers all posting from one
  bank's clearing account to suspense.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from kumiai.auth import Role, mint_token
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.bench.servers import replicas
from kumiai_tools.loadgen import LoadResult, encode_request, run_load

Report = Callable[[str, float, str], None]
# Concurrent clients of the single-entry figure.
CONCURRENCY = int(os.environ.get("BENCH_LEDGER_CONCURRENCY", "16"))
HEADERS = {
    "Authorization": "Bearer "
    + mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.STAFF, tenant="platform")
}
BANKS = [f"bench-b{i}" for i in range(20)] + [f"bench-batch{i}" for i in range(4)] + ["bench-hot"]


def _transfer(bank: str, account: str, amount: int) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "benchmark transfer",
        "reason": "benchmark",
        "postings": [
            {"account": f"bank/{bank}/clearing", "direction": "debit", "amount": amount},
            {"account": account, "direction": "credit", "amount": amount},
        ],
    }


def _wallet(investor: str) -> str:
    return f"investor/{investor}/wallet"


async def _register_banks(database_url: str) -> None:
    """Clearing accounts are opened only for registered partner banks."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.executemany(
            "INSERT INTO partners (partner_id, kind, name, zengin_code, status, version,"
            " registered_at) VALUES ($1, 'bank', $1, NULL, 'active', 1, $2)"
            " ON CONFLICT (partner_id) DO NOTHING",
            [(bank, datetime.now(UTC)) for bank in BANKS],
        )
    finally:
        await conn.close()


def _requests(bodies: list[dict[str, Any]]) -> list[bytes]:
    return [
        encode_request(
            "POST", "/entries", body=body, headers={**HEADERS, "Idempotency-Key": str(uuid.uuid4())}
        )
        for body in bodies
    ]


async def _load(ports: list[int], bodies: list[dict[str, Any]], concurrency: int) -> LoadResult:
    """Send every body once as ``POST /entries`` from ``concurrency`` connections."""
    return await run_load("127.0.0.1", ports, _requests(bodies), concurrency=concurrency)


async def run(database_url: str, report: Report) -> None:
    await _register_banks(database_url)
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_RUN_WORKERS": "false",
        "LEDGER_DATABASE_POOL_SIZE": os.environ.get("BENCH_LEDGER_POOL", "8"),
        "LEDGER_LOG_LEVEL": "WARNING",
    }
    count = int(os.environ.get("BENCH_LEDGER_WORKERS", "2"))
    with replicas("ledger.app:create_app", env, count) as ports:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{ports[0]}", timeout=60, limits=limits
        ) as client:
            await _wait_ready(client)
            await _batch(client, report)
        await _single(ports, report)
        await _hot(ports, report)


async def _wait_ready(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("ledger did not start")


async def _batch(client: httpx.AsyncClient, report: Report) -> None:
    investors = [str(uuid.uuid4()) for _ in range(100)]
    batches = 10
    postings = 0
    started = time.perf_counter()
    for b in range(batches):
        entries = [
            _transfer(f"bench-batch{b % 4}", _wallet(investors[i % len(investors)]), 1_000 + i)
            for i in range(1_000)
        ]
        response = await client.post(
            "/entries/batch",
            json={"entries": entries},
            headers={**HEADERS, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code != 201:
            raise RuntimeError(response.text)
        postings += 2 * len(entries)
    report("ledger.batch_postings_per_s", postings / (time.perf_counter() - started), "postings/s")


async def _single(ports: list[int], report: Report) -> None:
    investors = [str(uuid.uuid4()) for _ in range(500)]
    bodies = [
        _transfer(f"bench-b{i % 20}", _wallet(investors[i % len(investors)]), 100 + i)
        for i in range(6_000)
    ]
    await _load(ports, bodies[:1_000], CONCURRENCY)  # warm-up: accounts opened, pools filled
    result = await _load(ports, bodies[1_000:], CONCURRENCY)
    report("ledger.entries_per_s", result.rate, "entries/s")
    report("ledger.entry_p99_ms", result.percentile_ms(0.99), "ms")
    report("ledger.entry_errors", result.errors(201), "errors")


async def _hot(ports: list[int], report: Report) -> None:
    bodies = [_transfer("bench-hot", "suspense", 100 + i) for i in range(3_000)]
    await _load(ports, bodies[:200], 64)
    result = await _load(ports, bodies[200:], 64)
    report("ledger.hot_account_entries_per_s", result.rate, "entries/s")
    report("ledger.hot_account_p99_ms", result.percentile_ms(0.99), "ms")
    report("ledger.hot_account_errors", result.errors(201), "errors")
