"""JSON logs carrying the request and correlation ids, and Prometheus metrics."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumiai.context import set_correlation_id

REQUEST_ID_HEADER = "x-request-id"
CORRELATION_ID_HEADER = "x-correlation-id"

# Libraries that install their own plain-text handlers; their records are sent
# to the root handler instead, so that every line is JSON.
_REROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class _JsonLinesHandler(logging.StreamHandler[TextIO]):
    """One JSON object per line, on ``stream`` or else on ``sys.stdout`` as it is at each line."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stdout)
        self._follows_stdout = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follows_stdout:
            # Test runners swap sys.stdout; a stream captured once would go stale.
            self.stream = sys.stdout
        super().emit(record)


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Make every log line, structlog's and the standard library's, one JSON object."""
    numeric_level = logging.getLevelName(level.upper())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = _JsonLinesHandler(stream)
    handler.addFilter(RepeatFilter())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(allow=["repeated"])],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    # Called once per app, and tests build many apps in one process: replace, never stack.
    for old in [h for h in root.handlers if isinstance(h, _JsonLinesHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _REROUTED_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


class RepeatFilter(logging.Filter):
    """Lets the same library message through once per ``window_s``, counting the rest.

    A Kafka client whose broker is down logs the same connection error many
    times a second; one line per window says as much, and the next one that
    passes carries how many were held back (``repeated``).
    """

    def __init__(self, window_s: float = 10.0) -> None:
        super().__init__()
        self._window = window_s
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("kumiai") or not isinstance(record.msg, str):
            return True  # the platform's own lines are never held back
        key = (record.name, record.levelno, record.msg)
        now = time.monotonic()
        last, held = self._seen.get(key, (-float("inf"), 0))
        if now - last < self._window:
            self._seen[key] = (last, held + 1)
            return False
        if len(self._seen) > 1_000:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if held:
            record.repeated = held
        return True


class CountersCollector(Collector):
    """Exposes monotonic counts kept elsewhere as Prometheus counters, read at each scrape."""

    def __init__(self, counters: Mapping[str, tuple[str, Callable[[], float]]]) -> None:
        self._counters = dict(counters)

    def describe(self) -> Iterator[CounterMetricFamily]:
        for name, (doc, _) in self._counters.items():
            yield CounterMetricFamily(name, doc)

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, (doc, read) in self._counters.items():
            yield CounterMetricFamily(name, doc, value=read())


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests handled",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.service = service


_REQUEST_ID = REQUEST_ID_HEADER.encode()
_CORRELATION_ID = CORRELATION_ID_HEADER.encode()


def _ids(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The request's id and correlation id from its headers (new ones when absent); only
    these two headers are decoded."""
    request_id = correlation_id = ""
    for key, value in headers:
        name = key.lower()
        if name == _REQUEST_ID:
            request_id = value.decode()
        elif name == _CORRELATION_ID:
            correlation_id = value.decode()
    request_id = request_id or str(uuid.uuid4())
    return request_id, correlation_id or request_id


class RequestContextMiddleware:
    """Gives every request an id (echoed back), binds it to logs, and measures it."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = structlog.get_logger("kumiai.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, correlation_id = _ids(scope.get("headers", []))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, correlation_id=correlation_id)
        set_correlation_id(correlation_id)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                    (CORRELATION_ID_HEADER.encode(), correlation_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(self.metrics.service, method, path, str(status)).inc()
            self.metrics.latency.labels(self.metrics.service, method, path).observe(elapsed)
            if path not in ("/healthz", "/metrics"):
                self.log.info(
                    "request",
                    method=method,
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
