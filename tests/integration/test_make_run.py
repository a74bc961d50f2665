"""`kumiai up` (what `make run` starts) on a machine with nothing running.

Embedded PostgreSQL and the local broker are started by the command itself,
the five services become ready, a published fund reaches the subscription
service, Ctrl-C (SIGINT) leaves no process behind, and the data survives a
restart. Whatever dies (a service, PostgreSQL, the broker) is restarted alone,
and the services' warnings reach the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest

from helpers import publish
from kumiai_tools.catalog import SERVICES
from kumiai_tools.devstack import free_port, port_open

STARTUP_LIMIT_S = 120
STOP_LIMIT_S = 60
T = TypeVar("T")

CONSOLE_WARNING = re.compile(
    r"^\d\d:\d\d:\d\d (?:onboarding|subscription|ledger|disclosure|subsidy) +"
    r"(?:WARNING|ERROR) +\S",
    re.MULTILINE,
)


@pytest.fixture
def home() -> Iterator[Path]:
    """A data directory outside pytest's, whose mode a concurrent pytest session may reset.

    The embedded PostgreSQL runs as another user when the tests run as root,
    and needs to traverse every directory above its data.
    """
    path = Path(tempfile.mkdtemp(prefix="kumiai-up-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Run:
    """A running `kumiai up`: its process and its console output."""

    proc: subprocess.Popen[bytes]
    output_path: Path
    banner: str = ""

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def child(self, matches: Callable[[psutil.Process], bool]) -> psutil.Process | None:
        for proc in psutil.Process(self.proc.pid).children():
            with contextlib.suppress(psutil.Error):
                if proc.status() != psutil.STATUS_ZOMBIE and matches(proc):
                    return proc
        return None

    def service(self, name: str) -> psutil.Process | None:
        return self.child(lambda p: f"{name}.app:create_app" in p.cmdline())

    def service_pids(self, names: list[str]) -> dict[str, int]:
        return {name: proc.pid for name in names if (proc := self.service(name))}

    def postmaster(self) -> psutil.Process | None:
        return self.child(lambda p: p.name() == "postgres")

    def broker(self) -> psutil.Process | None:
        return self.child(lambda p: "tansu" in Path(p.cmdline()[0]).name)


@contextmanager
def platform(
    home: Path, offset: int, pg_port: int, broker_port: int, stop: int = signal.SIGINT
) -> Iterator[Run]:
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
        [sys.executable, "-m", "kumiai_tools.cli", "up"], env=env, stdout=log, stderr=log
    )
    run = Run(proc, log_path)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while b"Kumiai is up" not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "not up within two minutes"
            time.sleep(0.2)
        run.banner = run.output()
        yield run
    finally:
        left = _stop(proc, home, stop)
        log.close()
    assert left == [], f"left running after {signal.Signals(stop).name}: {left}"
    assert proc.returncode == 0, run.output()


def _stop(proc: subprocess.Popen[bytes], home: Path, stop: int) -> list[str]:
    """Ctrl-C (or SIGTERM), then kill what still runs: even a failed test leaves nothing."""
    proc.send_signal(stop)
    try:
        proc.wait(timeout=STOP_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (left := _processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.1)
    described = []
    for leftover in left:
        with contextlib.suppress(psutil.Error):
            described.append(f"{leftover.pid} {leftover.name()}")
            leftover.kill()
    return described


def _processes_of(home: Path) -> list[psutil.Process]:
    """Live processes started for the platform in ``home``, orphans included."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get("KUMIAI_HOME") == str(
                home
            ):
                found.append(proc)
    return found


def _until(run: Run, probe: Callable[[], T | None], what: str, timeout_s: float = 60) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s}s\n{run.output()}"
        time.sleep(0.2)


def _answer(url: str, **kwargs: Any) -> httpx.Response | None:
    """The 200 answer of ``url``; None for anything else."""
    try:
        response = httpx.get(url, timeout=10, **kwargs)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None


def _checks(url: str) -> dict[str, bool]:
    """The readiness checks of the service at ``url``; empty while it does not answer."""
    try:
        checks: dict[str, bool] = httpx.get(f"{url}/readyz", timeout=3).json()["checks"]
    except (httpx.HTTPError, ValueError, KeyError):
        return {}
    return checks


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


def test_make_run_starts_the_platform_and_stops_cleanly(home: Path) -> None:
    offset = _free_port_offset()
    pg_port, broker_port = free_port(), free_port()
    base = {s.name: f"http://127.0.0.1:{s.port + offset}" for s in SERVICES}
    with platform(home, offset, pg_port, broker_port) as run:
        assert "A staff token:" in run.banner
        token = run.banner.split("A staff token: ")[1].split()[0]
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
        metrics = httpx.get(f"{base['onboarding']}/metrics", timeout=5).text
        assert "# TYPE kumiai_relay_published_events_total counter" in metrics
        published = re.search(r"^kumiai_relay_published_events_total (\S+)$", metrics, re.M)
        assert published is not None, metrics
        assert float(published[1]) >= 1
    # Data lives under KUMIAI_HOME and survives a restart (the broker does not need to).
    with platform(home, offset, pg_port, broker_port):
        again = _poll(f"{base['subscription']}/offerings/{fund_id}")
        assert again.status_code == 200
        assert again.json()["fund_id"] == fund_id
    for log in (home / "logs").glob("*.log"):
        for line in log.read_text().splitlines():
            assert isinstance(json.loads(line), dict), f"{log.name}: {line}"


def test_make_run_restarts_what_dies_and_shows_warnings(home: Path) -> None:
    offset = _free_port_offset()
    base = {s.name: f"http://127.0.0.1:{s.port + offset}" for s in SERVICES}
    with platform(home, offset, free_port(), free_port(), stop=signal.SIGTERM) as run:
        token = run.banner.split("A staff token: ")[1].split()[0]
        staff = {"Authorization": f"Bearer {token}"}
        ledger = run.service("ledger")
        assert ledger is not None
        others = run.service_pids([n for n in base if n != "ledger"])
        assert len(others) == 4

        ledger.send_signal(signal.SIGKILL)
        _until(
            run,
            lambda: re.search(r"ledger exited with code -9; restarting in \d+ s", run.output()),
            "the supervisor reports the crash",
        )
        _until(run, lambda: (p := run.service("ledger")) and p.pid != ledger.pid, "a new ledger")
        _until(run, lambda: _checks(base["ledger"]).get("database"), "the new ledger is ready")
        assert run.service_pids(list(others)) == others, "the others stayed up"

        postmaster = run.postmaster()
        assert postmaster is not None
        postmaster.send_signal(signal.SIGKILL)
        _until(run, lambda: "postgres exited with code -9" in run.output(), "PostgreSQL reaped")
        _until(run, lambda: (p := run.postmaster()) and p.pid != postmaster.pid, "a new postmaster")
        _until(
            run, lambda: _checks(base["onboarding"]).get("database"), "the database answers again"
        )
        funds = _until(
            run,
            lambda: _answer(f"{base['onboarding']}/funds", headers=staff),
            "a request that reads the database",
        )
        assert funds.json()["items"] == []

        broker = run.broker()
        assert broker is not None
        broker.send_signal(signal.SIGKILL)
        _until(run, lambda: "broker exited with code -9" in run.output(), "the broker reaped")
        _until(run, lambda: (p := run.broker()) and p.pid != broker.pid, "a new broker")
        _until(run, lambda: _checks(base["subscription"]).get("broker"), "the broker answers again")

        _until(
            run, lambda: CONSOLE_WARNING.search(run.output()), "a service warning on the console"
        )
        assert run.service_pids(list(others)) == others


async def _open_fund(url: str) -> dict[str, Any]:
    """A business's way through onboarding to an open fund, over real HTTP."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return await publish(client, name="Orchard: new cold store")
