"""Distributions at the size of the largest platform, for ``make bench``.

A formed fund held by 70,000 investors (``BENCH_DISTRIBUTION_INVESTORS``): prints
``distribution.compute_70k_ms`` (the pure calculation of three periods, the third
crossing recoup, as a declaration recomputes them) and ``distribution.declare_70k_s``
(subscription hears the third period's ``SalesReported``, computes, writes every
line and records ``DividendDeclared`` and its ``DistributionAllocated`` batches, in one
transaction), after checking that the lines add up to the declared totals.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import asyncpg

from kumiai.contracts.disclosure import SalesReported
from kumiai.db import UnitOfWork, create_engine, session_factory
from kumiai_tools.testing import sample_fund_opened
from subscription.distributions import rules
from subscription.distributions import service as distributions
from subscription.distributions.rules import PeriodSales

Report = Callable[[str, float, str], None]
INVESTORS = int(os.environ.get("BENCH_DISTRIBUTION_INVESTORS", "70000"))
SALES = (800_000, 300_000_000, 900_000_000)
"""Below the threshold, then well below recoup, then across it (for 70,000 units)."""


def compute(report: Report) -> None:
    terms = rules.DistributionTerms(
        unit_price=10_000,
        handling_fee_per_unit=500,
        rate_before_recoup_ppm=30_000,
        rate_after_recoup_ppm=10_000,
        sales_threshold=1_000_000,
        success_fee_rate_ppm=20_000,
    )
    register = {str(uuid.uuid4()): 1 + i % 5 for i in range(INVESTORS)}
    started = time.perf_counter()
    schedule = rules.distribute(
        terms, register, [PeriodSales(s) for s in SALES], lines_of={len(SALES)}
    )
    report("distribution.compute_70k_ms", (time.perf_counter() - started) * 1000, "ms")
    last = schedule.periods[-1]
    assert sum(line.gross for line in last.lines) + last.retained == last.distributable_amount


async def _formed_fund(dsn: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A formed fund with its terms and a frozen register of ``INVESTORS`` holders."""
    opened = sample_fund_opened()
    fund_id, msme_id = opened.fund_id, opened.msme_id
    investors = [uuid.uuid4() for _ in range(INVESTORS)]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO offerings (fund_id, msme_id, name, currency, unit_price, "
            "handling_fee_per_unit, donation_per_unit, units_offered, units_sold, "
            "units_confirmed, investors, formation_threshold_units, max_units_per_investor, "
            "offering_start, offering_end, terms_digest, terms, status, opened_by_event) "
            "VALUES ($1, $2, 'Bench fund', 'JPY', 10000, 500, 0, $3, $3, $3, $4, 1, 5, "
            "$5, $6, $7, $8::jsonb, 'closed_succeeded', $9)",
            fund_id,
            msme_id,
            INVESTORS * 5,
            INVESTORS,
            now - timedelta(days=60),
            now - timedelta(days=30),
            opened.terms_digest,
            opened.model_dump_json(),
            uuid.uuid4(),
        )
        await conn.copy_records_to_table(
            "investors",
            columns=["id", "verification", "personal"],
            records=[(i, "verified", b"bench") for i in investors],
        )
        await conn.copy_records_to_table(
            "holdings",
            columns=["fund_id", "investor_id", "units", "amount_paid"],
            records=[
                (fund_id, i, 1 + n % 5, (1 + n % 5) * 10_500) for n, i in enumerate(investors)
            ],
        )
    finally:
        await conn.close()
    return fund_id, msme_id


async def declare(dsn: str, report: Report) -> None:
    fund_id, msme_id = await _formed_fund(dsn)
    engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"), pool_size=2)
    sessions = session_factory(engine)

    def sales(number: int) -> SalesReported:
        return SalesReported(
            report_id=uuid.uuid4(),
            fund_id=fund_id,
            msme_id=msme_id,
            period_number=number,
            period_start=date(2026 + number, 4, 1),
            period_end=date(2027 + number, 3, 31),
            sales=SALES[number - 1],
            confirmation_id=uuid.uuid4(),
            approved_at=datetime.now(UTC),
        )

    try:
        for number in (1, 2):
            async with UnitOfWork(sessions, source="subscription", topic="bench") as uow:
                await distributions.record_sales(uow, event=sales(number), payment_days=30)
        started = time.perf_counter()
        async with UnitOfWork(sessions, source="subscription", topic="bench") as uow:
            await distributions.record_sales(uow, event=sales(3), payment_days=30)
        report("distribution.declare_70k_s", time.perf_counter() - started, "s")
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        gross, lines = await conn.fetchrow(
            "SELECT sum(gross), count(*) FROM distribution_lines "
            "WHERE fund_id = $1 AND period_number = 3",
            fund_id,
        )
        declared = await conn.fetchval(
            "SELECT total_gross FROM distributions WHERE fund_id = $1 AND period_number = 3",
            fund_id,
        )
        batches = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE type = 'DistributionAllocated'"
        )
    finally:
        await conn.close()
    if (lines, gross) != (INVESTORS, declared) or batches != 3 * rules.batches(INVESTORS, 1_000):
        raise AssertionError(f"declared {declared}, lines {lines} summing to {gross}")


async def run(url: str, report: Report) -> None:
    compute(report)
    await declare(url.replace("postgresql+asyncpg://", "postgresql://"), report)
