"""Alembic helpers shared by every service's migration tree, and ``kumiai-migrate``.

``kumiai-migrate`` creates each service's database if it is missing and
applies its migrations: it runs ``python -m <service>.migrate`` for every
service in the catalog (or those named), so this library imports no service.
Each service's ``migrate`` module calls ``migrate_service`` with its own tree.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kumiai.platform_tables import PLATFORM_TABLES_V1, platform_metadata


def create_platform_tables_v1() -> None:
    """Create the outbox, inbox, dead-letter and idempotency tables as of version 1.

    Called from each service's first migration. Later changes to these tables
    come as new, separately versioned helpers so old migrations never change.
    """
    from alembic import op

    bind = op.get_bind()
    tables = [platform_metadata.tables[name] for name in PLATFORM_TABLES_V1]
    platform_metadata.create_all(bind, tables=tables, checkfirst=False)


def create_partner_registry_v1() -> None:
    """Create the service's copy of the partner registry (``kumiai.partners``)."""
    from alembic import op

    op.create_table(
        "partners",
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("zengin_code", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('bank', 'municipality')", name="ck_partners_kind_known"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_partners_status_known"),
        sa.PrimaryKeyConstraint("partner_id", name="pk_partners"),
    )


def create_partner_calls_v1() -> None:
    """Create the append-only record of partners' requests (``kumiai.partner_calls``)."""
    from alembic import op

    op.create_table(
        "partner_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("partner_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_partner_calls"),
    )
    op.create_index("ix_partner_calls_partner", "partner_calls", ["partner_id", "id"])
    append_only_v1("partner_calls")


def partner_calls_retention_v1() -> None:
    """Let the retention delete partners' calls older than 30 days (``kumiai.partner_calls``);
    any change, and the delete of a younger line, stays refused."""
    from alembic import op

    op.create_index("ix_partner_calls_at", "partner_calls", ["at"])
    op.execute("DROP TRIGGER partner_calls_append_only ON partner_calls")
    op.execute(
        "CREATE TRIGGER partner_calls_append_only BEFORE UPDATE ON partner_calls "
        "FOR EACH STATEMENT EXECUTE FUNCTION kumiai_refuse_change()"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION kumiai_refuse_recent_partner_call_delete() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF OLD.at > now() - interval '30 days' THEN "
        "RAISE EXCEPTION 'DELETE of a partner call younger than 30 days is refused: the table "
        "is append-only until then' USING ERRCODE = 'restrict_violation'; "
        "END IF; RETURN OLD; END $$"
    )
    op.execute(
        "CREATE TRIGGER partner_calls_retention BEFORE DELETE ON partner_calls "
        "FOR EACH ROW EXECUTE FUNCTION kumiai_refuse_recent_partner_call_delete()"
    )


def partner_calls_retention_v1_downgrade() -> None:
    from alembic import op

    op.execute("DROP TRIGGER partner_calls_retention ON partner_calls")
    op.execute("DROP FUNCTION kumiai_refuse_recent_partner_call_delete()")
    op.execute("DROP TRIGGER partner_calls_append_only ON partner_calls")
    op.execute(
        "CREATE TRIGGER partner_calls_append_only BEFORE UPDATE OR DELETE ON partner_calls "
        "FOR EACH STATEMENT EXECUTE FUNCTION kumiai_refuse_change()"
    )
    op.drop_index("ix_partner_calls_at", table_name="partner_calls")


def run_env(target_metadata: MetaData) -> None:
    """The body of a service's ``migrations/env.py``: online migrations over asyncpg."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    metadata = [target_metadata, platform_metadata]

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())


def alembic_config(service_root: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(service_root / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    return config


def upgrade(service_root: Path, database_url: str, revision: str = "head") -> None:
    """Apply a service's migrations (blocking; run it in a thread from async code)."""
    command.upgrade(alembic_config(service_root, database_url), revision)


def append_only_v1(*tables: str) -> None:
    """Make ``tables`` append-only: the database refuses UPDATE and DELETE of their rows.

    ``TRUNCATE`` stays possible for operators (and test set-up).
    """
    from alembic import op

    op.execute(
        "CREATE OR REPLACE FUNCTION kumiai_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME "
        "USING ERRCODE = 'restrict_violation'; END $$"
    )
    for table in tables:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kumiai_refuse_change()"
        )


async def create_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the server if it does not exist."""
    import asyncpg

    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name``."""
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.set(database=name).render_as_string(hide_password=False)


def migrate_service(name: str, service_root: Path) -> str:
    """Create the service's database if missing and upgrade it; the database URL used.

    ``<NAME>_DATABASE_URL`` names the database itself; otherwise ``DATABASE_URL``
    names a server, on which ``kumiai_<name>`` is used.
    """
    own = os.environ.get(f"{name.upper()}_DATABASE_URL")
    if own:
        url = own
    else:
        server = os.environ.get("DATABASE_URL")
        if not server:
            raise SystemExit(f"set {name.upper()}_DATABASE_URL or DATABASE_URL")
        url = database_url(server, f"kumiai_{name}")
        asyncio.run(create_database(server, f"kumiai_{name}"))
    upgrade(service_root, url)
    return url


def main(argv: list[str] | None = None) -> int:
    """``kumiai-migrate [service ...]``: migrate every service's database, or those named."""
    from kumiai.catalog import SERVICES

    names = (argv if argv is not None else sys.argv[1:]) or [s.name for s in SERVICES]
    known = {s.name: s for s in SERVICES}
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}", file=sys.stderr)
        return 64
    for name in names:
        done = subprocess.run([sys.executable, "-m", known[name].migrate_module], check=False)
        if done.returncode != 0:
            return done.returncode
        print(f"migrated {name}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
