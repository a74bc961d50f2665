"""Service defaults: one FastAPI app shape for every service.

Health, readiness, metrics, problem details, auth, request context, and the
relay and consumer started with the app and stopped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kumiai.auth import TokenVerifier
from kumiai.contracts import onboarding as _contracts  # noqa: F401 - registers payloads
from kumiai.db import UnitOfWork, create_engine, session_factory
from kumiai.errors import Problem, install_problem_handlers
from kumiai.events import registry
from kumiai.inbox import EventConsumer, Handler
from kumiai.kafka import broker_reachable
from kumiai.observability import HttpMetrics, RequestContextMiddleware, configure_logging
from kumiai.outbox import Relay
from kumiai.settings import ServiceSettings
from kumiai.timers import Timer, run_timer
from kumiai.topics import consumer_group, dead_letter_topic, events_topic, relay_marker_topic


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
    version: str = "0.1.0"


# Connections the relay (its leadership lock and its work) and the consumer
# hold, on top of ``database_pool_size`` for requests; each timer takes one more.
WORKER_CONNECTIONS = 3


class ServiceRuntime:
    """Per-process resources of a service: database, relay, consumer."""

    def __init__(self, spec: ServiceSpec, settings: ServiceSettings) -> None:
        self.spec = spec
        self.settings = settings
        ns = settings.topic_namespace
        self.topic = events_topic(spec.name, ns)
        self.engine: AsyncEngine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size
            + (WORKER_CONNECTIONS + len(spec.timers) if settings.run_workers else 0),
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
            handlers=spec.handlers,
            registry=registry,
            own_topic=self.topic,
            group_id=consumer_group(spec.name, ns),
            dead_letter_topic=dead_letter_topic(spec.name, ns),
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
        )
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
                for timer in self.spec.timers
            ),
        ]

    async def stop_workers(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []

    async def close(self) -> None:
        await self.stop_workers()
        await self.engine.dispose()


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
    status: str
    service: str
    checks: dict[str, bool]


def service_root(module_file: str) -> Path:
    """The service's folder (holding ``migrations/``) from a module in ``src/<name>/``."""
    return Path(module_file).resolve().parents[2]


def build_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    """Assemble a service's FastAPI app with the platform's defaults."""
    configure_logging(settings.log_level)
    runtime = ServiceRuntime(spec, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_workers:
            await runtime.start_workers()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        responses={},
        separate_input_output_schemas=False,
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(settings)
    metrics_registry = CollectorRegistry()
    _install_worker_metrics(metrics_registry, runtime)
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
        responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    )
    async def readyz() -> JSONResponse:
        """Readiness: the database and the broker are reachable."""
        checks = {"database": await _database_ok(runtime), "broker": False}
        checks["broker"] = await broker_reachable(settings.kafka_bootstrap_servers)
        ok = all(checks.values())
        body = Readiness(status="ok" if ok else "unavailable", service=spec.name, checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], operation_id=f"{spec.name}_metrics")
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    for router in spec.routers:
        app.include_router(router)
    _ensure_problem_schema(app)
    return app


async def _database_ok(runtime: ServiceRuntime) -> bool:
    try:
        async with runtime.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 3)
    except Exception:
        return False
    return True


def _install_worker_metrics(registry: CollectorRegistry, runtime: ServiceRuntime) -> None:
    relay = runtime.relay.stats
    consumer = runtime.consumer.stats
    gauges: dict[str, tuple[str, Any]] = {
        "kumiai_relay_published_events": ("Events published by the relay", lambda: relay.published),
        "kumiai_relay_replays": (
            "Times the relay re-published after broker loss",
            lambda: relay.replays,
        ),
        "kumiai_consumer_handled_events": ("Events handled", lambda: consumer.handled),
        "kumiai_consumer_duplicate_events": (
            "Redelivered events skipped",
            lambda: consumer.duplicates,
        ),
        "kumiai_consumer_parked_events": (
            "Events parked ahead of a predecessor",
            lambda: consumer.parked,
        ),
        "kumiai_consumer_dead_lettered_events": (
            "Events sent to the dead-letter topic",
            lambda: consumer.dead_lettered,
        ),
    }
    for name, (doc, read) in gauges.items():
        Gauge(name, doc, registry=registry).set_function(read)


def _ensure_problem_schema(app: FastAPI) -> None:
    """Make the Problem schema part of every service's OpenAPI components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model_schema in (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            .get("$defs", {})
            .items()
        ):
            components.setdefault(name, model_schema)
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        problem.pop("$defs", None)
        components.setdefault("Problem", problem)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
