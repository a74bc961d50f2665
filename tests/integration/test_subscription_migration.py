"""The subscription schema's newest migration carries existing rows over: subscriptions of
funds that already failed become refunded, the per-issuer lock rows come from the
subscriptions, and the downgrade restores the calendar-year totals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from alembic import command

from kumiai.migrations import alembic_config, upgrade
from kumiai_tools.catalog import service
from kumiai_tools.devstack import create_database, database_url

BEFORE = "0003"


@pytest.fixture
async def blank_database(pg_server_url: str) -> AsyncIterator[str]:
    name = f"kumiai_test_submig_{uuid.uuid4().hex[:8]}"
    await create_database(pg_server_url, name)
    try:
        yield database_url(pg_server_url, name)
    finally:
        conn = await asyncpg.connect(
            pg_server_url.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))


async def _offering(conn: asyncpg.Connection, msme: uuid.UUID, status: str) -> uuid.UUID:
    fund = uuid.uuid4()
    now = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO offerings (fund_id, msme_id, name, currency, unit_price, "
        "handling_fee_per_unit, units_offered, units_sold, units_confirmed, investors, "
        "formation_threshold_units, max_units_per_investor, offering_start, offering_end, "
        "status, closed_at, opened_by_event) VALUES ($1, $2, 'Fund', 'JPY', 10000, 500, 100, "
        "10, 10, 2, 50, 50, $3, $4, $5, $6, $7)",
        fund,
        msme,
        now - timedelta(days=40),
        now - timedelta(days=10),
        status,
        now - timedelta(days=10) if status != "open" else None,
        uuid.uuid4(),
    )
    return fund


async def _subscription(
    conn: asyncpg.Connection,
    fund: uuid.UUID,
    investor: uuid.UUID,
    msme: uuid.UUID,
    status: str,
    placed_at: datetime,
) -> uuid.UUID:
    sub = uuid.uuid4()
    paid = None if status == "placed" else 52_500
    await conn.execute(
        "INSERT INTO subscriptions (id, fund_id, investor_id, msme_id, units, unit_price, "
        "handling_fee_per_unit, amount_due, currency, payment_reference, payment_deadline, "
        "cooling_off_until, commitment_year, status, amount_paid, placed_at) VALUES ($1, $2, "
        "$3, $4, 5, 10000, 500, 52500, 'JPY', $5, $6, $6, $7, $8, $9, $10)",
        sub,
        fund,
        investor,
        msme,
        f"TEST{sub.hex[:12]}",
        placed_at + timedelta(days=7),
        placed_at.year,
        status,
        paid,
        placed_at,
    )
    return sub


async def test_existing_rows_are_carried_over_and_back(blank_database: str) -> None:
    root = service("subscription").root()
    await asyncio.to_thread(upgrade, root, blank_database, BEFORE)
    investor, msme = uuid.uuid4(), uuid.uuid4()
    last_year = datetime(2025, 12, 31, 3, 0, tzinfo=UTC)
    this_year = datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    conn = await _connect(blank_database)
    try:
        await conn.execute(
            "INSERT INTO investors (id, verification, personal) VALUES ($1, 'verified', $2)",
            investor,
            b"\x01sealed",
        )
        failed = await _offering(conn, msme, "closed_failed")
        still_open = await _offering(conn, msme, "open")
        refunded = await _subscription(conn, failed, investor, msme, "confirmed", last_year)
        kept = await _subscription(conn, still_open, investor, msme, "confirmed", this_year)
        gone = await _subscription(conn, still_open, investor, msme, "cancelled", this_year)
        await conn.execute(
            "INSERT INTO issuer_commitments (investor_id, msme_id, year, amount) "
            "VALUES ($1, $2, 2025, 50000), ($1, $2, 2026, 50000)",
            investor,
            msme,
        )
    finally:
        await conn.close()

    await asyncio.to_thread(upgrade, root, blank_database)
    conn = await _connect(blank_database)
    try:
        states = {
            r["id"]: (r["status"], r["refund_reason"], r["refunded_at"])
            for r in await conn.fetch(
                "SELECT id, status, refund_reason, refunded_at FROM subscriptions"
            )
        }
        [closed_at] = await conn.fetch("SELECT closed_at FROM offerings WHERE fund_id = $1", failed)
        locks = await conn.fetch(
            "SELECT investor_id, msme_id, last_placed_at FROM issuer_commitments"
        )
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'subscriptions'"
        )
        constraints = {
            r["conname"]
            for r in await conn.fetch(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'subscriptions'::regclass"
            )
        }
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE subscriptions SET status = 'refunded' WHERE id = $1", kept)
    finally:
        await conn.close()
    assert states[refunded] == ("refunded", "fund_failed", closed_at["closed_at"])
    assert states[kept] == ("confirmed", None, None)
    assert states[gone] == ("cancelled", None, None)
    assert [(r["investor_id"], r["msme_id"], r["last_placed_at"]) for r in locks] == [
        (investor, msme, this_year)
    ]
    assert "commitment_year" not in {r["column_name"] for r in columns}
    assert {
        "ck_subscriptions_status_known",
        "ck_subscriptions_refund_recorded",
        "ck_subscriptions_refund_reason_known",
    } <= constraints

    await asyncio.to_thread(command.downgrade, alembic_config(root, blank_database), BEFORE)
    conn = await _connect(blank_database)
    try:
        back = await conn.fetch(
            "SELECT id, status, commitment_year FROM subscriptions ORDER BY placed_at"
        )
        totals = await conn.fetch(
            "SELECT year, amount FROM issuer_commitments WHERE investor_id = $1 ORDER BY year",
            investor,
        )
    finally:
        await conn.close()
    assert {r["id"]: (r["status"], r["commitment_year"]) for r in back} == {
        refunded: ("confirmed", 2025),
        kept: ("confirmed", 2026),
        gone: ("cancelled", 2026),
    }
    # Refunded money no longer counted: only the live subscription of 2026 remains.
    assert [(r["year"], r["amount"]) for r in totals] == [(2026, 50_000)]
