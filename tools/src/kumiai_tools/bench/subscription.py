"""The sell-out race for ``make bench`` (see ``kumiai_tools.bench``).

A fund of 1,000 units; 5,000 verified investors each try to buy 1-3 units at
once over HTTP (``BENCH_SELLOUT_CONCURRENCY`` keep-alive connections, default
32, spread over two server processes with 4 database connections each:
``kumiai_tools.bench.servers``). Prints
``subscription.orders_per_s``, ``subscription.order_p99_ms`` (every order),
``subscription.placed_order_p99_ms`` (orders that got units) and
``subscription.oversold_units``, after checking the outcome in the database:
exactly 1,000 units sold (or all demand met) and no investor over the limit.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from kumiai.auth import Role, mint_token
from kumiai.cipher import DEVELOPMENT_KEY_SETTING, FieldCipher
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.bench.servers import replicas
from kumiai_tools.loadgen import encode_request, run_load
from subscription.settings import Settings

Report = Callable[[str, float, str], None]
UNITS = 1_000
INVESTORS = int(os.environ.get("BENCH_SELLOUT_INVESTORS", "5000"))
MAX_PER_INVESTOR = 3
CONCURRENCY = int(os.environ.get("BENCH_SELLOUT_CONCURRENCY", "32"))
DIGEST = "b" * 64


async def _prepare(dsn: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """An open offering and verified investors who acknowledged the risk notice."""
    cipher = FieldCipher.from_setting(DEVELOPMENT_KEY_SETTING)
    fund_id = uuid.uuid4()
    investors = [uuid.uuid4() for _ in range(INVESTORS)]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO offerings (fund_id, msme_id, name, currency, unit_price, "
            "handling_fee_per_unit, donation_per_unit, units_offered, units_sold, "
            "units_confirmed, investors, formation_threshold_units, max_units_per_investor, "
            "offering_start, offering_end, terms_digest, status, opened_by_event) "
            "VALUES ($1, $2, 'Sell-out race', 'JPY', 10000, 500, 0, $3, 0, 0, 0, 300, $4, "
            "$5, $6, $7, 'open', $8)",
            fund_id,
            uuid.uuid4(),
            UNITS,
            MAX_PER_INVESTOR,
            now - timedelta(minutes=1),
            now + timedelta(days=30),
            DIGEST,
            uuid.uuid4(),
        )
        version = Settings().risk_notice_version
        await conn.copy_records_to_table(
            "investors",
            columns=[
                "id",
                "verification",
                "risk_notice_version",
                "risk_acknowledged_at",
                "personal",
            ],
            records=[
                (
                    i,
                    "verified",
                    version,
                    now,
                    cipher.encrypt_json({"full_name": "Bench"}, context=f"investor:{i}".encode()),
                )
                for i in investors
            ],
        )
    finally:
        await conn.close()
    return fund_id, investors


async def _outcome(dsn: str, fund_id: uuid.UUID) -> tuple[int, int, int, set[uuid.UUID]]:
    """Units sold on the offering, units in its live subscriptions, investors over the
    limit, and the investors who got units."""
    conn = await asyncpg.connect(dsn)
    try:
        sold = await conn.fetchval("SELECT units_sold FROM offerings WHERE fund_id = $1", fund_id)
        placed = await conn.fetchval(
            "SELECT coalesce(sum(units), 0) FROM subscriptions "
            "WHERE fund_id = $1 AND status <> 'cancelled'",
            fund_id,
        )
        over = await conn.fetchval(
            "SELECT count(*) FROM (SELECT investor_id FROM subscriptions WHERE fund_id = $1 "
            "AND status <> 'cancelled' GROUP BY investor_id HAVING sum(units) > $2) AS o",
            fund_id,
            MAX_PER_INVESTOR,
        )
        buyers = {
            r["investor_id"]
            for r in await conn.fetch(
                "SELECT DISTINCT investor_id FROM subscriptions WHERE fund_id = $1", fund_id
            )
        }
    finally:
        await conn.close()
    return int(sold), int(placed), int(over), buyers


async def run(database_url: str, report: Report) -> None:
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    fund_id, investors = await _prepare(dsn)
    demand = {i: random.randint(1, MAX_PER_INVESTOR) for i in investors}  # noqa: S311
    requests = [
        encode_request(
            "POST",
            f"/offerings/{fund_id}/subscriptions",
            body={"units": demand[i], "terms_digest": DIGEST},
            headers={
                "Authorization": "Bearer "
                + mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.INVESTOR, tenant=str(i)),
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        for i in investors
    ]
    env = {
        **os.environ,
        "SUBSCRIPTION_DATABASE_URL": database_url,
        "SUBSCRIPTION_RUN_WORKERS": "false",
        "SUBSCRIPTION_DATABASE_POOL_SIZE": os.environ.get("BENCH_SELLOUT_POOL", "4"),
        "SUBSCRIPTION_LOG_LEVEL": "WARNING",
    }
    count = int(os.environ.get("BENCH_SELLOUT_WORKERS", "2"))
    with replicas("subscription.app:create_app", env, count) as ports:
        result = await run_load("127.0.0.1", ports, requests, concurrency=CONCURRENCY)
    sold, placed, over, buyers = await _outcome(dsn, fund_id)
    unexpected = result.errors(201, 409)
    if unexpected or over or sold != placed:
        raise RuntimeError(
            f"sell-out race went wrong: statuses {result.statuses}, sold {sold}, "
            f"in subscriptions {placed}, investors over the limit {over}"
        )
    left = UNITS - sold
    # Units stay unsold only if every investor turned away wanted more than were left.
    if left and any(demand[i] <= left for i in investors if i not in buyers):
        raise RuntimeError(f"{sold} units sold while an order for {left} or fewer was refused")
    report("subscription.orders_per_s", result.rate, "orders/s")
    report("subscription.order_p99_ms", result.percentile_ms(0.99), "ms")
    report("subscription.oversold_units", max(0, placed - UNITS), "units")
    placed_ms = sorted(result.latencies_by_status.get(201, [0.0]))
    report("subscription.placed_order_p99_ms", placed_ms[int(0.99 * len(placed_ms))], "ms")
