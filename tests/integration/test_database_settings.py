"""What every service's connections are set up with."""

from __future__ import annotations

from sqlalchemy import text

from kumiai.db import create_engine


async def test_connections_plan_without_jit(pg_server_url: str) -> None:
    """Short transactions only: compiling a trigger's query per statement costs more than
    it saves (decision 0017)."""
    engine = create_engine(pg_server_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SHOW jit")) == "off"
            await conn.commit()
            assert await conn.scalar(text("SHOW jit")) == "off", "kept across transactions"
    finally:
        await engine.dispose()
