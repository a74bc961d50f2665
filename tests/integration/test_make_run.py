"""`kumiai up` (what `make run` starts) on a machine with nothing running.

Embedded PostgreSQL and the local broker are started by the command itself,
the five services become ready, a published fund reaches the subscription
service, Ctrl-C (SIGINT) leaves no process behind, and the data survives a
restart.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

from helpers import publish
from kumiai.catalog import SERVICES
from kumiai.devstack import free_port, port_open

STARTUP_LIMIT_S = 120


@contextmanager
def platform(home: Path, offset: int, pg_port: int, broker_port: int) -> Iterator[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
    }
    env.update(
        KUMIAI_HOME=str(home),
        KUMIAI_PORT_OFFSET=str(offset),
        KUMIAI_POSTGRES_PORT=str(pg_port),
        KUMIAI_BROKER_PORT=str(broker_port),
    )
    log_path = home / f"up-{time.monotonic_ns()}.log"
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "kumiai.cli", "up"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while b"Kumiai is up" not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "not up within two minutes"
            time.sleep(0.2)
        yield log_path.read_text()
    finally:
        family = _family(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        log.close()
        _, alive = psutil.wait_procs(family, timeout=20)
        assert alive == [], f"left running after Ctrl-C: {alive}"


def _family(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def _free_port_offset() -> int:
    while True:
        offset = random.randint(20_000, 50_000)
        if not any(port_open("127.0.0.1", s.port + offset) for s in SERVICES):
            return offset


def _poll(url: str, **kwargs: Any) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        response = httpx.get(url, timeout=5, **kwargs)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_make_run_starts_the_platform_and_stops_cleanly(tmp_path: Path) -> None:
    offset = _free_port_offset()
    pg_port, broker_port = free_port(), free_port()
    base = {s.name: f"http://127.0.0.1:{s.port + offset}" for s in SERVICES}
    with platform(tmp_path, offset, pg_port, broker_port) as banner:
        assert "A staff token:" in banner
        token = banner.split("A staff token: ")[1].split()[0]
        for name, url in base.items():
            ready = httpx.get(f"{url}/readyz", timeout=5)
            assert ready.json()["checks"] == {"database": True, "broker": True}, name
        listed = httpx.get(
            f"{base['onboarding']}/funds",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert listed.json() == {"items": [], "next_cursor": None}, listed.text
        fund = asyncio.run(_open_fund(base["onboarding"]))
        assert fund["status"] == "open"
        fund_id = fund["id"]
        offered = _poll(f"{base['subscription']}/offerings/{fund_id}")
        assert offered.json()["name"] == "Orchard: new cold store"
    # Data lives under KUMIAI_HOME and survives a restart (the broker does not need to).
    with platform(tmp_path, offset, pg_port, broker_port):
        again = _poll(f"{base['subscription']}/offerings/{fund_id}")
        assert again.status_code == 200
        assert again.json()["fund_id"] == fund_id


async def _open_fund(url: str) -> dict[str, Any]:
    """A business's way through onboarding to an open fund, over real HTTP."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return await publish(client, name="Orchard: new cold store")
