"""Service defaults: one FastAPI app shape for every service.

Health, readiness, metrics, problem details, auth (with each partner's rate
limit and the record of its calls), request context, and the relay and consumer
started with the app and stopped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kumiai.auth import TokenVerifier
from kumiai.contracts import onboarding as _contracts  # noqa: F401 - registers payloads
from kumiai.db import UnitOfWork, create_engine, session_factory
from kumiai.errors import install_problem_handlers
from kumiai.events import registry
from kumiai.guard import InputGuardMiddleware, LargeBody
from kumiai.inbox import EventConsumer, Handler
from kumiai.inputs import refuse_unknown_query
from kumiai.kafka import broker_reachable
from kumiai.observability import (
    CountersCollector,
    HttpMetrics,
    RequestContextMiddleware,
    configure_logging,
)
from kumiai.openapi import document_problems
from kumiai.outbox import Relay
from kumiai.partner_call_routes import partner_calls_router
from kumiai.partner_calls import PartnerCallsMiddleware, retention_timer
from kumiai.partners import PARTNER_HANDLERS, PartnerDirectory
from kumiai.ratelimit import PartnerRateLimit
from kumiai.settings import ServiceSettings
from kumiai.timers import Timer, run_timer
from kumiai.topics import consumer_group, dead_letter_topic, events_topic, relay_marker_topic

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service itself: name, routes, and the events it handles."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    consumes: Sequence[str] = ()
    """Producing services whose topics this service listens to."""
    timers: Sequence[Timer] = ()
    """Work that falls due with time, run beside the relay and consumer."""
    large_bodies: Sequence[LargeBody] = ()
    """Routes that take a body larger than ``max_body_bytes`` (file uploads)."""
    version: str = "0.1.0"

    def all_handlers(self) -> dict[str, Handler]:
        """The service's handlers, plus the partner registry's for every service that
        hears onboarding (its owner writes the registry itself)."""
        hears_owner = "onboarding" in self.consumes and self.name != "onboarding"
        extra = PARTNER_HANDLERS if hears_owner else {}
        return {**extra, **self.handlers}


# Connections the relay (its leadership lock and its work) and the consumer
# hold, on top of ``database_pool_size`` for requests; each timer takes one more.
WORKER_CONNECTIONS = 3


class ServiceRuntime:
    """Per-process resources of a service: database, relay, consumer, timers."""

    def __init__(self, spec: ServiceSpec, settings: ServiceSettings) -> None:
        self.spec = spec
        self.settings = settings
        ns = settings.topic_namespace
        self.topic = events_topic(spec.name, ns)
        # The service's own timers, and those every service runs.
        self.timers: tuple[Timer, ...] = (
            *spec.timers,
            retention_timer(settings.partner_calls_retention_days),
        )
        self.engine: AsyncEngine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size
            + (WORKER_CONNECTIONS + len(self.timers) if settings.run_workers else 0),
        )
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.relay = Relay(
            service=spec.name,
            engine=self.engine,
            sessions=self.sessions,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic=self.topic,
            marker_topic=relay_marker_topic(spec.name, ns),
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            poll_interval_s=settings.relay_poll_interval_s,
            batch_size=settings.relay_batch_size,
            broker_check_interval_s=settings.broker_check_interval_s,
            retention=timedelta(hours=settings.outbox_retention_hours),
        )
        self.consumer = EventConsumer(
            service=spec.name,
            sessions=self.sessions,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=[events_topic(s, ns) for s in spec.consumes],
            handlers=spec.all_handlers(),
            registry=registry,
            own_topic=self.topic,
            group_id=consumer_group(spec.name, ns),
            dead_letter_topic=dead_letter_topic(spec.name, ns),
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            session_timeout_ms=settings.consumer_session_timeout_ms,
            max_records=settings.consumer_max_records,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        )
        self.partners = PartnerDirectory(self.sessions)
        self.tasks: list[asyncio.Task[None]] = []

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, source=self.spec.name, topic=self.topic)

    async def start_workers(self) -> None:
        self.tasks = [
            asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-relay"),
            asyncio.create_task(self.consumer.run(), name=f"{self.spec.name}-consumer"),
            *(
                asyncio.create_task(
                    run_timer(timer, self.unit_of_work), name=f"{self.spec.name}-{timer.name}"
                )
                for timer in self.timers
            ),
        ]

    async def stop_workers(self, *, timeout_s: float = 15.0) -> None:
        """Cancel the relay, consumer and timers and let them close their clients; bounded
        even if a client library swallows the cancellation or hangs on a slow broker."""
        pending = {t for t in self.tasks if not t.done()}
        for task in pending:
            task.cancel()
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout_s)
        if pending:
            log.error("workers did not stop", tasks=sorted(t.get_name() for t in pending))
        for task in self.tasks:
            if task.done() and not task.cancelled():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    task.result()
        self.tasks = []

    async def close(self) -> None:
        await self.stop_workers()
        await self.engine.dispose()


COLLECT_AFTER_OBJECTS = 10_000
"""Objects allocated (net) between two collections of the youngest generation."""


@functools.cache
def tune_garbage_collector() -> None:
    """Keep the garbage collector off the request path; once per process.

    What the process builds at startup (modules, routes, models, schemas) lives as
    long as it does, yet every full collection walked all of it: under load a
    serving process paused about 100 ms every few seconds, which was the tail
    of request latency. It is frozen (never scanned again), and the youngest
    generation is collected after ``COLLECT_AFTER_OBJECTS`` net allocations instead
    of 700: a request's objects die by reference counting long before that, and
    cyclic garbage is still collected, a little later.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(COLLECT_AFTER_OBJECTS, older, oldest)


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def unit_of_work(request: Request) -> UnitOfWork:
    """Dependency: a unit of work for this request (opened by the use case).

    ``async`` so that FastAPI calls it on the event loop, not in a worker thread.
    """
    return runtime_of(request).unit_of_work()


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


class Health(BaseModel):
    status: str
    service: str


class Readiness(BaseModel):
    status: str = Field(
        description="ok; degraded (serving, but the broker is unreachable: events wait in "
        "the outbox); unavailable (the database is unreachable)"
    )
    service: str
    checks: dict[str, bool]


def service_root(module_file: str) -> Path:
    """The service's folder (holding ``migrations/``) from a module in ``src/<name>/``."""
    return Path(module_file).resolve().parents[2]


def build_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    """Assemble a service's FastAPI app with the platform's defaults."""
    configure_logging(settings.log_level)
    runtime = ServiceRuntime(spec, settings)
    broker = BrokerProbe(settings.kafka_bootstrap_servers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_garbage_collector()
        if settings.run_workers:
            await runtime.start_workers()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPIOffline(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        responses={},
        separate_input_output_schemas=False,
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(settings, service=spec.name)
    rate = settings.partner_rate_limit
    app.state.partner_rate_limit = (
        PartnerRateLimit(rate_per_s=rate[0], burst=rate[1]) if rate is not None else None
    )
    metrics_registry = CollectorRegistry()
    _install_worker_metrics(metrics_registry, runtime)
    app.add_middleware(
        InputGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        large_bodies=spec.large_bodies,
    )
    # Outside the guard, so a request the guard re-runs after a lost race is one line;
    # inside the request context, so the line carries the request id.
    app.add_middleware(PartnerCallsMiddleware, sessions=runtime.sessions)
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(metrics_registry, spec.name))
    install_problem_handlers(app)

    @app.get("/healthz", tags=["operations"], operation_id=f"{spec.name}_healthz")
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok", service=spec.name)

    @app.get(
        "/readyz",
        tags=["operations"],
        operation_id=f"{spec.name}_readyz",
        responses={503: {"model": Readiness, "description": "The database is unreachable"}},
    )
    async def readyz() -> JSONResponse:
        """Readiness: the service can serve requests (its database answers).

        An unreachable broker is reported as ``degraded`` and does not take the
        service out of rotation: writes still commit, their events wait in the
        outbox until the broker is back.
        """
        database, broker_ok = await asyncio.gather(_database_ok(runtime), broker.reachable())
        checks = {"database": database, "broker": broker_ok}
        status = "unavailable" if not database else "ok" if broker_ok else "degraded"
        body = Readiness(status=status, service=spec.name, checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if database else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        operation_id=f"{spec.name}_metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    for router in spec.routers:
        app.include_router(router)
    app.include_router(partner_calls_router(service=spec.name, unit_of_work=unit_of_work))
    document_problems(app)
    return app


class BrokerProbe:
    """Whether the broker answers, asked at most once per ``interval_s`` (probes are
    frequent; a Kafka admin client per probe is not cheap)."""

    def __init__(self, bootstrap_servers: str, *, interval_s: float = 2.0) -> None:
        self._bootstrap = bootstrap_servers
        self._interval = interval_s
        self._checked_at = -float("inf")
        self._ok = False
        self._lock = asyncio.Lock()

    async def reachable(self) -> bool:
        async with self._lock:
            now = asyncio.get_running_loop().time()
            if now - self._checked_at >= self._interval:
                self._ok = await broker_reachable(self._bootstrap)
                self._checked_at = asyncio.get_running_loop().time()
            return self._ok


async def _database_ok(runtime: ServiceRuntime) -> bool:
    try:
        async with runtime.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 3)
    except Exception:
        return False
    return True


def _install_worker_metrics(registry: CollectorRegistry, runtime: ServiceRuntime) -> None:
    # Read through the runtime at every scrape: the counts live in the relay and
    # the consumer, and only ever grow, so they are counters, not gauges.
    relay, consumer = runtime.relay, runtime.consumer
    counters: dict[str, tuple[str, Callable[[], float]]] = {
        "kumiai_relay_published_events": (
            "Events published by the relay",
            lambda: relay.stats.published,
        ),
        "kumiai_relay_replays": (
            "Times the relay re-published after broker loss",
            lambda: relay.stats.replays,
        ),
        "kumiai_consumer_handled_events": ("Events handled", lambda: consumer.stats.handled),
        "kumiai_consumer_duplicate_events": (
            "Redelivered events skipped",
            lambda: consumer.stats.duplicates,
        ),
        "kumiai_consumer_parked_events": (
            "Events parked ahead of a predecessor",
            lambda: consumer.stats.parked,
        ),
        "kumiai_consumer_dead_lettered_events": (
            "Events sent to the dead-letter topic",
            lambda: consumer.stats.dead_lettered,
        ),
    }
    registry.register(CountersCollector(counters))
