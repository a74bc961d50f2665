"""Starting and stopping a service is bounded, whatever the broker does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from helpers import SettingsFactory
from kumiai_tools.catalog import service
from kumiai_tools.testing import running


@pytest.fixture
async def silent_broker() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: a hung broker."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("name", ["subscription", "ledger"])
async def test_a_service_stops_in_bounded_time_with_a_hung_broker(
    settings_for: SettingsFactory, silent_broker: str, name: str
) -> None:
    settings = settings_for(name, kafka_bootstrap_servers=silent_broker)
    app = service(name).create_app(settings)
    started = time.monotonic()
    async with running(app) as client:
        await asyncio.sleep(0.5)  # let the relay and consumer get stuck connecting
        ready = await client.get("/readyz")
        probed = time.monotonic()
    stopped = time.monotonic()
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert probed - started < 10, "the readiness probe is bounded"
    assert stopped - probed < 20, "stopping the relay, consumer and timers is bounded"
    runtime = app.state.runtime
    assert runtime.tasks == []
