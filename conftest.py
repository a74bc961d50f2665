"""Test infrastructure: a real PostgreSQL and a real Kafka-protocol broker.

``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` point at existing servers;
without them an embedded PostgreSQL and a Tansu broker are started for the
session. Every service gets its own freshly migrated database per session,
and every test its own topic namespace, so tests never see each other's
events.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import hypothesis
import pytest
from sqlalchemy.engine import make_url

from helpers import SettingsFactory, seed_partners
from kumiai.migrations import upgrade
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.devstack import (
    EmbeddedPostgres,
    TansuBroker,
    create_database,
    database_url,
    free_port,
)

# Property tests draw the same examples on every run of ``make test`` (CI must never be
# flaky); ``HYPOTHESIS_PROFILE=explore`` draws new and many more, to look for what the
# fixed ones miss.
hypothesis.settings.register_profile("fixed", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", max_examples=2_000, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path) or item.path.name.startswith("test_int_"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield database_url(given, make_url(given).database or "postgres")
        return
    with tempfile.TemporaryDirectory(prefix="kumiai-pg-") as tmp:
        server = EmbeddedPostgres(data_dir=Path(tmp), port=free_port(), durable=False)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture(scope="session")
def bootstrap_servers() -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    broker = TansuBroker(port=free_port())
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
def own_broker() -> Iterator[TansuBroker]:
    """A broker this test may stop and restart (always a local Tansu)."""
    broker = TansuBroker(port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def service_databases(pg_server_url: str) -> Iterator[dict[str, str]]:
    """One freshly created and migrated database per service for this session."""
    run = uuid.uuid4().hex[:8]
    urls: dict[str, str] = {}
    for info in SERVICES:
        name = f"kumiai_test_{info.name}_{run}"
        asyncio.run(create_database(pg_server_url, name))
        urls[info.name] = database_url(pg_server_url, name)
        upgrade(info.root(), urls[info.name])
    yield urls
    asyncio.run(_drop_databases(pg_server_url, [make_url(u).database or "" for u in urls.values()]))


async def _drop_databases(server_url: str, names: list[str]) -> None:
    conn = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def clean_databases(service_databases: dict[str, str]) -> dict[str, str]:
    """Empty every service table before the test (schemas stay), then register the
    standard partners (``helpers.PARTNERS``) in each service's copy of the registry."""
    for url in service_databases.values():
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            # Connections left by an earlier test (a killed server's backends, say)
            # must not hold locks the truncation waits for.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
            if tables:
                names = ", ".join(f'"{t["tablename"]}"' for t in tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            await seed_partners(conn)
        finally:
            await conn.close()
    return service_databases


@pytest.fixture
def settings_for(
    clean_databases: dict[str, str], bootstrap_servers: str, tmp_path: Path
) -> SettingsFactory:
    """Settings of a service wired to the test's databases, broker and own topic namespace."""
    namespace = f"t{uuid.uuid4().hex[:10]}"

    def make(name: str, **overrides: object) -> ServiceSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": clean_databases[name],
            "kafka_bootstrap_servers": bootstrap_servers,
            "topic_namespace": namespace,
            "relay_poll_interval_s": 0.02,
            "broker_check_interval_s": 0.5,
            "consumer_retry_backoff_s": 0.01,
            "consumer_max_attempts": 3,
            # The local broker holds a new member's join for half the session timeout.
            "consumer_session_timeout_ms": 3_000,
            "database_pool_size": 5,
            "documents_dir": tmp_path / "documents" / name,
        }
        values.update(overrides)
        return service(name).settings_class()(**values)

    return make
