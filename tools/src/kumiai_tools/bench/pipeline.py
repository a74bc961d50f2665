"""The event pipeline under the sell-out: ``bus.lag_p99_ms`` for ``make bench``.

While the sell-out race runs (``kumiai_tools.bench.subscription``), a process
of its own runs what the platform runs beside the servers: the subscription
service's relay and the ledger's consumer, which books each placed order's
expected payment. The lag of an event is from its outbox row's creation (the
order's transaction) to the ledger's inbox recording it as handled (the
consumer's batch settling), both by the database server's clock.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from kumiai.service import ServiceRuntime, tune_garbage_collector
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import service

READY = "pipeline ready"


def _settings(name: str, database_url: str, bootstrap: str, namespace: str) -> ServiceSettings:
    return service(name).settings_class()(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        topic_namespace=namespace,
        log_level="WARNING",
    )


async def _serve(
    subscription_url: str, ledger_url: str, bootstrap: str, namespace: str, ready: str
) -> None:
    tune_garbage_collector()  # as the services' processes do at startup
    spec = service("subscription").module().SPEC  # type: ignore[attr-defined]
    settings = _settings("subscription", subscription_url, bootstrap, namespace)
    producer = ServiceRuntime(spec, settings)
    spec = service("ledger").module().SPEC  # type: ignore[attr-defined]
    consumer = ServiceRuntime(spec, _settings("ledger", ledger_url, bootstrap, namespace))
    tasks = [
        asyncio.create_task(producer.relay.run()),
        asyncio.create_task(consumer.consumer.run()),
    ]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await asyncio.wait_for(consumer.consumer.joined.wait(), 120)
    await asyncio.to_thread(Path(ready).write_text, READY)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await producer.close()
    await consumer.close()


def start(
    subscription_url: str, ledger_url: str, bootstrap: str, namespace: str
) -> subprocess.Popen[bytes]:
    """Start the pipeline process; returns once the ledger's consumer has joined."""
    ready = Path(tempfile.mkdtemp(prefix="kumiai-pipeline-")) / "ready"
    args = [subscription_url, ledger_url, bootstrap, namespace, str(ready)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kumiai_tools.bench.pipeline", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError("the pipeline process did not start")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def lags_ms(subscription_url: str, ledger_url: str, timeout_s: float = 120) -> list[float]:
    """Each published event's lag, once the ledger has handled every one (bounded wait)."""
    source = await asyncpg.connect(_dsn(subscription_url))
    sink = await asyncpg.connect(_dsn(ledger_url))
    try:
        written = {
            r["event_id"]: r["created_at"]
            for r in await source.fetch("SELECT event_id, created_at FROM outbox_events")
        }
        deadline = time.monotonic() + timeout_s
        while True:
            handled = await sink.fetch(
                "SELECT event_id, processed_at FROM inbox_events WHERE event_id = ANY($1)",
                list(written),
            )
            if len(handled) == len(written):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(handled)} of {len(written)} events handled")
            await asyncio.sleep(0.1)
    finally:
        await source.close()
        await sink.close()
    return [(r["processed_at"] - written[r["event_id"]]).total_seconds() * 1000 for r in handled]


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


if __name__ == "__main__":
    asyncio.run(_serve(*sys.argv[1:6]))
