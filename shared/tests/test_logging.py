"""Observability: every log line is one JSON object, whichever library writes it; counters."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry, generate_latest

from kumiai.observability import CountersCollector, configure_logging


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Logging configured onto a buffer, and put back as it was afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    uvicorn = logging.getLogger("uvicorn")
    saved_uvicorn = (list(uvicorn.handlers), uvicorn.propagate)
    saved_structlog = structlog.get_config()
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        uvicorn.handlers[:], uvicorn.propagate = saved_uvicorn
        structlog.configure(**saved_structlog)
        logging.captureWarnings(False)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert all(isinstance(r, dict) for r in records)
    return records


def test_a_standard_library_record_is_one_json_line(logged: io.StringIO) -> None:
    logging.getLogger("aiokafka").warning("x")
    [record] = lines(logged)
    assert record["event"] == "x"
    assert record["level"] == "warning"
    assert record["logger"] == "aiokafka"
    assert record["timestamp"].endswith("Z")


def test_structlog_and_the_standard_library_share_one_format(logged: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        structlog.get_logger("kumiai.inbox").warning("consumer interrupted", error="boom")
        logging.getLogger("aiokafka.conn").info("connecting to %s", "broker:9092")
    finally:
        structlog.contextvars.clear_contextvars()
    ours, theirs = lines(logged)
    assert ours["event"] == "consumer interrupted"
    assert ours["error"] == "boom"
    assert theirs["event"] == "connecting to broker:9092"
    assert (
        ours.keys() - {"error"}
        == theirs.keys()
        == {
            "event",
            "level",
            "logger",
            "timestamp",
            "request_id",
        }
    )


def test_a_traceback_stays_inside_its_line(logged: io.StringIO) -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        structlog.get_logger("kumiai.timers").exception("timer pass failed")
    for record in lines(logged):
        assert record["level"] == "error"
        assert record["exception"].endswith("ValueError: bad")


def test_uvicorn_loggers_lose_their_plain_text_handler(logged: io.StringIO) -> None:
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(logging.StreamHandler(io.StringIO()))
    configure_logging("INFO", stream=logged)
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    assert uvicorn.handlers == []
    [record] = lines(logged)
    assert record["logger"] == "uvicorn.error"


def test_configuring_again_does_not_repeat_lines(logged: io.StringIO) -> None:
    configure_logging("INFO", stream=logged)
    configure_logging("WARNING", stream=logged)
    logging.getLogger("aiokafka").info("hidden at WARNING")
    logging.getLogger("aiokafka").error("shown once")
    assert [r["event"] for r in lines(logged)] == ["shown once"]


def test_counts_kept_elsewhere_are_exposed_as_counters() -> None:
    counts = {"published": 3}
    collector = CountersCollector(
        {"kumiai_relay_published_events": ("Events published", lambda: counts["published"])}
    )
    registry = CollectorRegistry()
    registry.register(collector)
    counts["published"] = 5
    [family] = collector.collect()
    assert (family.name, family.type) == ("kumiai_relay_published_events", "counter")
    assert [(s.name, s.value) for s in family.samples] == [
        ("kumiai_relay_published_events_total", 5)
    ]
    text = generate_latest(registry).decode().splitlines()
    assert "# TYPE kumiai_relay_published_events_total counter" in text
    assert "kumiai_relay_published_events_total 5.0" in text


def test_a_library_repeating_itself_is_held_back_and_counted(
    logged: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = {"now": 1_000.0}
    monkeypatch.setattr("kumiai.observability.time.monotonic", lambda: clock["now"])
    noisy = logging.getLogger("aiokafka.conn")
    for _ in range(50):
        noisy.error("Unable connect to node with id %s", 1)
    structlog.get_logger("kumiai.relay").warning("relay interrupted")
    structlog.get_logger("kumiai.relay").warning("relay interrupted")
    clock["now"] += 11
    noisy.error("Unable connect to node with id %s", 1)
    records = lines(logged)
    theirs = [r for r in records if r["logger"] == "aiokafka.conn"]
    ours = [r for r in records if r["logger"] == "kumiai.relay"]
    assert len(theirs) == 2, "once per window"
    assert "repeated" not in theirs[0]
    assert theirs[1]["repeated"] == 49
    assert len(ours) == 2, "the platform's own lines are never held back"
