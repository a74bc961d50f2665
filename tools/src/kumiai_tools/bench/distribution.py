"""Distributions at the size of the largest platform, for ``make bench``.

A formed fund held by 70,000 investors (``BENCH_DISTRIBUTION_INVESTORS``): prints
``distribution.compute_70k_ms`` (the pure calculation of three periods, the third
crossing recoup, as a declaration recomputes them) and ``distribution.declare_70k_s``
(subscription hears the third period's ``SalesReported``, computes, writes every
line and records ``DividendDeclared`` and its ``DistributionAllocated`` batches, in one
transaction), after checking that the lines add up to the declared totals.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from kumiai.auth import Role
from kumiai.cipher import FieldCipher
from kumiai.contracts.disclosure import SalesReported
from kumiai.db import UnitOfWork, create_engine, session_factory
from kumiai.events import Envelope
from kumiai.kafka import ensure_topics
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai.zengin import parse_transfer_file
from kumiai_tools.catalog import service
from kumiai_tools.devstack import free_port
from kumiai_tools.testing import bearer, sample_fund_opened
from subscription.distributions import rules
from subscription.distributions import service as distributions
from subscription.distributions.rules import PeriodSales

Report = Callable[[str, float, str], None]
T = TypeVar("T")
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


def _sales(fund_id: uuid.UUID, msme_id: uuid.UUID, number: int) -> SalesReported:
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


async def declare(dsn: str, report: Report) -> None:
    fund_id, msme_id = await _formed_fund(dsn)
    engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"), pool_size=2)
    sessions = session_factory(engine)

    try:
        for number in (1, 2):
            async with UnitOfWork(sessions, source="subscription", topic="bench") as uow:
                await distributions.record_sales(
                    uow, event=_sales(fund_id, msme_id, number), payment_days=30
                )
        started = time.perf_counter()
        async with UnitOfWork(sessions, source="subscription", topic="bench") as uow:
            await distributions.record_sales(
                uow, event=_sales(fund_id, msme_id, 3), payment_days=30
            )
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


BANK = "bench-bank"
BANK_TOKEN = bearer(Role.BANK, BANK)
STAFF = bearer(Role.STAFF, "bench")
PAYOUT_ACCOUNTS = (("0001", "001"), ("0005", "001"), ("0009", "001"), ("0116", "101"))
"""Bank and branch codes the investors' payout accounts use (known to zengin-code)."""


async def _register_bank(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO partners (partner_id, kind, name, zengin_code, status, version,"
            " registered_at) VALUES ($1, 'bank', $1, NULL, 'active', 1, now())"
            " ON CONFLICT (partner_id) DO NOTHING",
            BANK,
        )
    finally:
        await conn.close()


async def _with_payout_accounts(dsn: str, cipher: FieldCipher) -> None:
    """Give every investor of the register real personal details and a payout account."""
    conn = await asyncpg.connect(dsn)
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM investors")]
        rows = []
        for n, investor in enumerate(ids):
            bank, branch = PAYOUT_ACCOUNTS[n % len(PAYOUT_ACCOUNTS)]
            personal = {
                "full_name": f"投資家 {n}",
                "address": "札幌市北区北四条西5-6",
                "phone": "+81-11-000-0000",
                "email": f"investor{n}@example.jp",
                "payout_account": {
                    "bank_code": bank,
                    "branch_code": branch,
                    "account_type": "ordinary",
                    "account_number": f"{n % 10_000_000:07d}",
                    "account_holder": "ヤマダ タロウ",
                },
            }
            context = f"investor:{investor}".encode()
            rows.append((investor, cipher.encrypt_json(personal, context=context)))
        await conn.execute("CREATE TEMP TABLE personal_rows (id uuid, personal bytea)")
        await conn.copy_records_to_table("personal_rows", records=rows)
        await conn.execute(
            "UPDATE investors i SET personal = p.personal FROM personal_rows p WHERE p.id = i.id"
        )
    finally:
        await conn.close()


async def _publish(bootstrap: str, topic: str, payload: SalesReported, sequence: int) -> None:
    await ensure_topics(bootstrap, [topic], partitions=6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        envelope = Envelope(
            type=payload.event_type,
            schema_version=payload.schema_version,
            source="disclosure",
            subject=str(payload.fund_id),
            sequence=sequence,
            data=payload.model_dump(mode="json"),
        )
        await producer.send_and_wait(topic, envelope.to_bytes(), key=envelope.subject.encode())
    finally:
        await producer.stop()


async def _until(probe: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 300) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{what}: not within {timeout_s} s")


@contextlib.contextmanager
def _serving(name: str, settings: ServiceSettings) -> Iterator[str]:
    """The service in a process of its own under uvicorn, as it runs; its base URL."""
    info = service(name)
    port = free_port()
    prefix = info.env_prefix
    env = {
        **os.environ,
        f"{prefix}ENVIRONMENT": "test",
        f"{prefix}DATABASE_URL": settings.database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        f"{prefix}TOPIC_NAMESPACE": settings.topic_namespace,
        f"{prefix}RELAY_POLL_INTERVAL_S": "0.01",
        f"{prefix}LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            info.app_factory,
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _ready(url: str) -> bool | None:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            return True if (await client.get("/readyz")).status_code == 200 else None
    except httpx.TransportError:
        return None


@dataclass(frozen=True)
class Platform:
    """Subscription and the ledger as a bank, the business and staff reach them."""

    subscription: httpx.AsyncClient
    ledger: httpx.AsyncClient
    bootstrap: str
    topic: str
    sub_dsn: str
    led_dsn: str

    async def declared(self, fund_id: uuid.UUID, number: int) -> dict[str, Any] | None:
        found = await self.ledger.get(f"/funds/{fund_id}/distributions", headers=STAFF)
        rows = found.json()["distributions"] if found.status_code == 200 else []
        return next((d for d in rows if d["period_number"] == number), None)

    async def pay(self, fund_id: uuid.UUID, owed: dict[str, Any]) -> None:
        """The business's bank reports its transfer of what the declaration says."""
        paid_in = await self.ledger.post(
            "/deposits",
            json={
                "bank_transaction_id": f"bench-{fund_id}",
                "amount": owed["business_owes"],
                "currency": "JPY",
                "value_date": datetime.now(UTC).date().isoformat(),
                "payment_reference": owed["payment_reference"],
            },
            headers=BANK_TOKEN,
        )
        if paid_in.json().get("status") != "matched":
            raise AssertionError(f"the business's payment was not matched: {paid_in.text}")

    async def transfer_file(self, fund_id: uuid.UUID) -> bytes | None:
        """The bank's bulk transfer file; not found until the payment reaches subscription,
        not ready until every payout has."""
        answer = await self.subscription.get(
            f"/funds/{fund_id}/distributions/3/transfer-file", headers=BANK_TOKEN
        )
        if answer.status_code not in (200, 404, 409):
            raise AssertionError(f"transfer file: {answer.status_code} {answer.text[:300]}")
        return answer.content if answer.status_code == 200 else None


async def end_to_end(settings: dict[str, ServiceSettings], bootstrap: str, report: Report) -> None:
    """From the third period's ``SalesReported`` on the broker to every investor's net
    booked, instructed, announced back to subscription, the bank's transfer file built
    and the payment on every statement: subscription and the ledger as they run, each in
    its own process."""
    sub_dsn = settings["subscription"].database_url.replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    led_dsn = settings["ledger"].database_url.replace("postgresql+asyncpg://", "postgresql://")
    fund_id, msme_id = await _formed_fund(sub_dsn)
    keys = settings["subscription"].data_keys  # type: ignore[attr-defined]
    await _with_payout_accounts(sub_dsn, FieldCipher.from_setting(keys.get_secret_value()))
    for dsn in (sub_dsn, led_dsn):
        await _register_bank(dsn)
    topic = events_topic("disclosure", settings["subscription"].topic_namespace)
    with (
        _serving("subscription", settings["subscription"]) as sub_url,
        _serving("ledger", settings["ledger"]) as led_url,
    ):
        await _until(lambda: _ready(sub_url), "subscription ready", 60)
        await _until(lambda: _ready(led_url), "ledger ready", 60)
        async with (
            httpx.AsyncClient(base_url=sub_url, timeout=60) as subscription,
            httpx.AsyncClient(base_url=led_url, timeout=60) as ledger,
        ):
            platform = Platform(subscription, ledger, bootstrap, topic, sub_dsn, led_dsn)
            await _distribute(platform, fund_id, msme_id, report)


async def _distribute(
    platform: Platform, fund_id: uuid.UUID, msme_id: uuid.UUID, report: Report
) -> None:
    for number in (1, 2):  # the earlier periods, declared and left unpaid
        await _publish(platform.bootstrap, platform.topic, _sales(fund_id, msme_id, number), number)
    await _until(lambda: platform.declared(fund_id, 2), "periods 1 and 2 declared")
    await _until(lambda: _all_lines_in(platform.led_dsn, 2), "the lines of periods 1 and 2")

    started = time.perf_counter()
    await _publish(platform.bootstrap, platform.topic, _sales(fund_id, msme_id, 3), 3)
    third = await _until(lambda: platform.declared(fund_id, 3), "period 3 declared")
    await platform.pay(fund_id, third)
    content = await _until(lambda: platform.transfer_file(fund_id), "the transfer file", 120)
    on_statements = await _paid_lines(platform.sub_dsn, fund_id)
    report("distribution.run_70k_s", time.perf_counter() - started, "s")
    parsed = parse_transfer_file(content)  # checked, not timed: the bank reads it
    paid = await _until(lambda: declared_paid(platform.led_dsn, fund_id), "period 3 paid", 5)
    if (parsed.count, parsed.total) != (paid[0], third["total_net"]) or on_statements != INVESTORS:
        raise AssertionError(
            f"file {parsed.count} payouts of {parsed.total}, ledger {paid}, declared "
            f"{third['total_net']}, {on_statements} statements show the payment"
        )


async def _all_lines_in(dsn: str, periods: int) -> bool | None:
    """Whether the ledger kept every batch of lines of the first ``periods`` periods."""
    conn = await asyncpg.connect(dsn)
    try:
        kept = await conn.fetchval(
            "SELECT count(*) FROM distribution_batches WHERE period_number <= $1", periods
        )
    finally:
        await conn.close()
    return True if kept == periods * rules.batches(INVESTORS, 1_000) else None


async def declared_paid(dsn: str, fund_id: uuid.UUID) -> tuple[int, int] | None:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT payout_count, total_net FROM distributions"
            " WHERE fund_id = $1 AND period_number = 3 AND status = 'paid'",
            fund_id,
        )
    finally:
        await conn.close()
    return None if row is None else (int(row[0]), int(row[1]))


async def _paid_lines(dsn: str, fund_id: uuid.UUID) -> int:
    """Statement lines of period 3 that show the payment (what My page reads)."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM distribution_lines l JOIN distribution_payments p"
                " ON p.fund_id = l.fund_id AND p.period_number = l.period_number"
                " WHERE l.fund_id = $1 AND l.period_number = 3",
                fund_id,
            )
        )
    finally:
        await conn.close()
