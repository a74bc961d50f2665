"""Supervision of `kumiai up` without the platform: backoff, restarts, stop order, console lines."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai_tools.devstack import (
    Backoff,
    Child,
    Console,
    EmbeddedPostgres,
    LogPump,
    Supervisor,
    console_line,
)

# -- backoff --------------------------------------------------------------------------


def test_backoff_doubles_from_one_second_up_to_thirty() -> None:
    backoff = Backoff()
    assert [backoff.delay(uptime_s=0.5) for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_backoff_starts_over_after_a_process_stayed_up_a_while() -> None:
    backoff = Backoff(reset_after_s=60)
    for _ in range(4):
        backoff.delay(uptime_s=1)
    assert backoff.delay(uptime_s=59) == 16
    assert backoff.delay(uptime_s=60) == 1
    assert backoff.delay(uptime_s=0) == 2


@given(st.lists(st.floats(min_value=0, max_value=1e6), max_size=200))
def test_backoff_stays_within_its_bounds(uptimes: list[float]) -> None:
    backoff = Backoff(initial_s=1, max_s=30)
    for uptime in uptimes:
        assert 1 <= backoff.delay(uptime) <= 30


# -- supervisor -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeProcess:
    """Records what the supervisor does to it; ``exit`` makes it end."""

    def __init__(self, name: str, journal: list[str], *, obeys_terminate: bool = True) -> None:
        self.name = name
        self.journal = journal
        self.obeys_terminate = obeys_terminate
        self.code: int | None = None
        self.spawns = 0
        self.fail_spawn = False

    def exit(self, code: int) -> None:
        self.code = code

    def spawn(self) -> None:
        if self.fail_spawn:
            raise RuntimeError("port taken")
        self.spawns += 1
        self.code = None
        self.journal.append(f"spawn {self.name}")

    def poll(self) -> int | None:
        return self.code

    def terminate(self) -> None:
        self.journal.append(f"terminate {self.name}")
        if self.obeys_terminate:
            self.code = -signal.SIGTERM

    def kill(self) -> None:
        self.journal.append(f"kill {self.name}")
        self.code = -signal.SIGKILL

    def close(self) -> None:
        self.journal.append(f"close {self.name}")


class Lines:
    """A console stand-in that keeps what it was told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)


def test_a_crashed_process_is_restarted_alone_after_its_backoff() -> None:
    journal: list[str] = []
    console, clock = Lines(), Clock()
    sup = Supervisor(console, clock=clock)
    ledger, onboarding = FakeProcess("ledger", journal), FakeProcess("onboarding", journal)
    sup.start(Child("ledger", ledger, layer=1))
    sup.start(Child("onboarding", onboarding, layer=1))
    journal.clear()

    ledger.exit(-9)
    sup.check()
    assert console.lines == ["ledger exited with code -9; restarting in 1 s"]
    assert journal == ["close ledger"]
    clock.now += 0.9
    sup.check()
    assert ledger.spawns == 1, "not before its backoff is over"
    clock.now += 0.1
    sup.check()
    assert ledger.spawns == 2
    assert onboarding.spawns == 1, "the others are left alone"
    assert console.lines[-1] == "ledger restarted"

    ledger.exit(1)
    clock.now += 5
    sup.check()
    assert console.lines[-1] == "ledger exited with code 1; restarting in 2 s"
    clock.now += 2
    sup.check()
    ledger.exit(1)
    clock.now += 120
    sup.check()
    assert console.lines[-1] == "ledger exited with code 1; restarting in 1 s", "a good run resets"


def test_a_process_that_cannot_start_is_retried_with_backoff() -> None:
    journal: list[str] = []
    console, clock = Lines(), Clock()
    sup = Supervisor(console, clock=clock)
    broker = FakeProcess("broker", journal)
    sup.adopt(Child("broker", broker))
    broker.exit(-9)
    broker.fail_spawn = True
    sup.check()
    clock.now += 1
    sup.check()
    assert console.lines[-1] == "broker could not start (port taken); retrying in 2 s"
    broker.fail_spawn = False
    clock.now += 2
    sup.check()
    assert broker.spawns == 1
    assert console.lines[-1] == "broker restarted"


def test_stop_ends_services_before_what_they_use_and_kills_the_stubborn() -> None:
    journal: list[str] = []
    sup = Supervisor(Lines(), stop_timeout_s=0.2, kill_timeout_s=0.2)
    postgres = FakeProcess("postgres", journal)
    ledger = FakeProcess("ledger", journal, obeys_terminate=False)
    sup.adopt(Child("postgres", postgres, layer=0))
    sup.start(Child("ledger", ledger, layer=1))
    waiting = FakeProcess("subsidy", journal)
    sup.start(Child("subsidy", waiting, layer=1))
    waiting.exit(3)
    sup.check()
    journal.clear()

    started = time.monotonic()
    sup.request_stop()
    sup.check()
    sup.stop()

    assert time.monotonic() - started < 5
    assert journal.index("kill ledger") < journal.index("terminate postgres")
    assert "spawn subsidy" not in journal, "nothing restarts while stopping"
    assert all(not c.running for c in sup.children)


def test_a_second_stop_request_does_not_wait_for_a_clean_shutdown() -> None:
    journal: list[str] = []
    sup = Supervisor(Lines(), stop_timeout_s=60, kill_timeout_s=1)
    sup.start(Child("ledger", FakeProcess("ledger", journal, obeys_terminate=False)))
    sup.request_stop()
    sup.request_stop()
    started = time.monotonic()
    sup.stop()
    assert time.monotonic() - started < 5
    assert journal[-2:] == ["kill ledger", "close ledger"]


# -- console lines --------------------------------------------------------------------

JST = timezone(timedelta(hours=9))


def test_a_warning_is_one_readable_line() -> None:
    line = (
        '{"error": "KafkaConnectionError: no broker", "event": "consumer interrupted", '
        '"level": "warning", "logger": "kumiai.inbox", "timestamp": "2026-03-01T12:04:05.1Z"}'
    )
    assert console_line("ledger", line, tz=JST) == (
        "21:04:05 ledger       WARNING  consumer interrupted"
        '  error="KafkaConnectionError: no broker"'
    )


def test_an_error_shows_the_last_line_of_its_traceback_and_a_foreign_logger() -> None:
    line = (
        '{"event": "Unclosed client\\nsession: x", "level": "error", "logger": "aiokafka", '
        '"timestamp": "2026-03-01T00:00:00Z", "attempt": 3, '
        '"exception": "Traceback (most recent call last):\\n  File \\"x\\"\\nValueError: bad"}'
    )
    shown = console_line("subscription", line, tz=UTC)
    assert shown == (
        "00:00:00 subscription ERROR    Unclosed client | session: x"
        '  logger=aiokafka attempt=3 exception="ValueError: bad"'
    )


@pytest.mark.parametrize("level", ["debug", "info"])
def test_quiet_levels_stay_in_the_log_file(level: str) -> None:
    assert console_line("ledger", f'{{"event": "request", "level": "{level}"}}') is None
    shown = console_line("ledger", f'{{"event": "request", "level": "{level}"}}', show_all=True)
    assert shown is not None
    assert "request" in shown


def test_lines_that_are_not_json_are_shown_as_they_are() -> None:
    shown = console_line("ledger", "ModuleNotFoundError: No module named 'x'\n")
    assert shown is not None
    assert shown.endswith(" ledger       ModuleNotFoundError: No module named 'x'")
    assert console_line("ledger", "   \n") is None


# -- output pump ----------------------------------------------------------------------


DROPPED = re.compile(r"\((\d+) lines not shown here; the log files have them\)")


class StuckTerminal(io.StringIO):
    """A terminal that accepts nothing until released."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()

    def write(self, text: str) -> int:
        self.released.wait(30)
        return super().write(text)


def test_every_line_reaches_the_log_file_while_the_terminal_is_stuck(tmp_path: Path) -> None:
    terminal = StuckTerminal()
    console = Console(terminal, capacity=10)
    read_end, write_end = os.pipe()
    log_path = tmp_path / "ledger.log"
    pump = LogPump("ledger", os.fdopen(read_end, "rb"), log_path, console)
    pump.start()
    lines = [
        f'{{"event": "e{i}", "level": "{"warning" if i % 2 else "info"}"}}\n'.encode()
        for i in range(2_000)
    ]
    with os.fdopen(write_end, "wb") as child_output:
        for line in lines:
            child_output.write(line)
        child_output.write(b"no newline at the end")
    try:
        assert pump.join(30), "the pump must not wait for the terminal"
        assert log_path.read_bytes() == b"".join(lines) + b"no newline at the end\n"
    finally:
        terminal.released.set()
    console.close()
    shown = terminal.getvalue().splitlines()
    assert "WARNING  e1" in shown[0]
    notices = [int(m[1]) for m in map(DROPPED.fullmatch, shown) if m]
    assert notices, "the terminal says that it missed lines"
    assert len(shown) - len(notices) + sum(notices) == 1_001, "every notable line is accounted for"


def test_without_a_log_file_every_line_goes_to_the_terminal(tmp_path: Path) -> None:
    terminal = io.StringIO()
    console = Console(terminal)
    read_end, write_end = os.pipe()
    pump = LogPump("ledger", os.fdopen(read_end, "rb"), tmp_path, console)
    pump.start()
    with os.fdopen(write_end, "wb") as child_output:
        child_output.write(b'{"event": "started", "level": "info"}\n')
    assert pump.join(10)
    console.close()
    shown = terminal.getvalue().splitlines()
    assert shown[0].startswith(f"ledger: cannot open {tmp_path}")
    assert "INFO     started" in shown[1]


# -- stale lock files of PostgreSQL ---------------------------------------------------


@pytest.fixture
def pgdata(tmp_path: Path) -> EmbeddedPostgres:
    server = EmbeddedPostgres(data_dir=tmp_path, port=54329)
    server.pgdata.mkdir()
    return server


def _ended_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def test_lock_files_of_a_dead_server_are_removed(pgdata: EmbeddedPostgres) -> None:
    pid_file = pgdata.pgdata / "postmaster.pid"
    socket_lock = pgdata.pgdata / ".s.PGSQL.54329.lock"
    pid_file.write_text(f"{_ended_pid()}\n/data\n")
    # A live process that is not PostgreSQL took the pid over.
    socket_lock.write_text(f"{os.getpid()}\n")
    pgdata.remove_stale_locks()
    assert not pid_file.exists()
    assert not socket_lock.exists()


def test_a_lock_file_that_names_no_process_is_left_to_a_human(pgdata: EmbeddedPostgres) -> None:
    pid_file = pgdata.pgdata / "postmaster.pid"
    pid_file.write_text("")
    with pytest.raises(RuntimeError, match="names no process"):
        pgdata.remove_stale_locks()
    assert pid_file.exists()


def test_the_lock_file_of_a_running_server_is_kept(
    pgdata: EmbeddedPostgres, tmp_path: Path
) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    impostor = tmp_path / "postgres"
    shutil.copy(sleep, impostor)
    proc = subprocess.Popen([str(impostor), "30"])
    try:
        pid_file = pgdata.pgdata / "postmaster.pid"
        pid_file.write_text(f"{proc.pid}\n")
        with pytest.raises(RuntimeError, match="still holds"):
            pgdata.remove_stale_locks()
        assert pid_file.exists()
    finally:
        proc.kill()
        proc.wait(10)
