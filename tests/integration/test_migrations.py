"""Migrations build exactly the schema the models describe."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kumiai.migrations import alembic_config
from kumiai.platform_tables import platform_metadata
from kumiai_tools.catalog import SERVICES, service


# SQLAlchemy reflects a CHECK added NOT VALID (kept for old rows) with a dialect option it
# cannot validate; the comparison itself is unaffected.
@pytest.mark.filterwarnings("ignore:Can't validate argument 'dialect_options'")
@pytest.mark.parametrize("name", [s.name for s in SERVICES])
async def test_models_and_migrations_agree(service_databases: dict[str, str], name: str) -> None:
    metadata: MetaData = importlib.import_module(f"{name}.db.models").metadata

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        both = [metadata, platform_metadata]  # alembic accepts a list of MetaData
        return list(compare_metadata(context, both))  # type: ignore[arg-type]

    engine = create_async_engine(service_databases[name])
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
            version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    finally:
        await engine.dispose()
    assert differences == [], f"{name}: models and migrations differ"
    head = ScriptDirectory.from_config(alembic_config(service(name).root(), "")).get_current_head()
    assert version == [(head,)], "the test database is at the newest revision"
