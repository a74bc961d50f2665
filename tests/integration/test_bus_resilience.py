"""Nothing is lost or reordered when the broker or the relay restarts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from helpers import SettingsFactory, fetch
from kumiai.service import ServiceRuntime
from kumiai_tools.catalog import service
from kumiai_tools.devstack import TansuBroker
from kumiai_tools.testing import eventually, running, sample_fund_opened


async def _published_count(url: str) -> int:
    rows = await fetch(
        url, "SELECT count(*) AS n FROM outbox_events WHERE published_at IS NOT NULL"
    )
    return int(rows[0]["n"])


async def _offering_ids(url: str) -> set[str]:
    rows = await fetch(url, "SELECT fund_id FROM offerings")
    return {str(r["fund_id"]) for r in rows}


async def _publish_many(app: FastAPI, count: int, pause_s: float = 0.0) -> list[str]:
    """Open ``count`` funds as onboarding does: ``FundOpened`` through its outbox, one by one.

    (The way to a published fund through the API is tested in the onboarding tests.)
    """
    ids = []
    for _ in range(count):
        payload = sample_fund_opened()
        async with _runtime(app).unit_of_work() as uow:
            await uow.emit(payload, subject=str(payload.fund_id))
        ids.append(str(payload.fund_id))
        if pause_s:
            await asyncio.sleep(pause_s)
    return ids


async def test_events_published_but_not_consumed_survive_a_broker_restart(
    settings_for: SettingsFactory, own_broker: TansuBroker
) -> None:
    ob = settings_for("onboarding", kafka_bootstrap_servers=own_broker.bootstrap_servers)
    sub = settings_for("subscription", kafka_bootstrap_servers=own_broker.bootstrap_servers)
    onboarding = service("onboarding").create_app(ob)
    async with running(onboarding):
        before = await _publish_many(onboarding, 5)
        await eventually(
            lambda: _at_least(_published_count(ob.database_url), 5), what="5 events on the broker"
        )
        # The broker forgets everything; nobody had consumed those five events.
        await asyncio.to_thread(own_broker.restart)
        after = await _publish_many(onboarding, 5)
        subscription = service("subscription").create_app(sub)
        async with running(subscription):
            offered = await eventually(
                lambda: _superset(_offering_ids(sub.database_url), set(before + after)),
                timeout_s=60,
                what="all ten offerings",
            )
        relay = _runtime(onboarding).relay.stats
    assert offered == set(before + after)
    assert relay.replays >= 2, "the relay should have noticed the lost log and replayed"
    assert relay.replayed >= 5


async def test_broker_restart_in_the_middle_of_a_burst_loses_nothing(
    settings_for: SettingsFactory, own_broker: TansuBroker
) -> None:
    ob = settings_for("onboarding", kafka_bootstrap_servers=own_broker.bootstrap_servers)
    sub = settings_for("subscription", kafka_bootstrap_servers=own_broker.bootstrap_servers)
    onboarding = service("onboarding").create_app(ob)
    subscription = service("subscription").create_app(sub)
    async with running(onboarding), running(subscription):
        burst = asyncio.create_task(_publish_many(onboarding, 40, pause_s=0.05))
        await eventually(lambda: _at_least(_offering_count(sub.database_url), 5), what="a start")
        await asyncio.to_thread(own_broker.restart)
        ids = await burst
        offered = await eventually(
            lambda: _superset(_offering_ids(sub.database_url), set(ids)),
            timeout_s=90,
            what="all forty offerings",
        )
        consumer = _runtime(subscription).consumer.stats
    assert offered == set(ids)
    handled = await fetch(
        sub.database_url, "SELECT count(*) AS n FROM inbox_events WHERE outcome = 'handled'"
    )
    assert handled[0]["n"] == 40, "each event handled exactly once"
    assert consumer.dead_lettered == 0
    parked = await fetch(sub.database_url, "SELECT count(*) AS n FROM inbox_parked")
    assert parked[0]["n"] == 0


async def test_relay_restart_in_the_middle_of_a_burst_loses_nothing(
    settings_for: SettingsFactory,
) -> None:
    ob = settings_for("onboarding")
    sub = settings_for("subscription")
    onboarding = service("onboarding").create_app(ob)
    subscription = service("subscription").create_app(sub)
    async with running(onboarding), running(subscription):
        runtime = _runtime(onboarding)
        burst = asyncio.create_task(_publish_many(onboarding, 30, pause_s=0.02))
        await eventually(lambda: _at_least(_published_count(ob.database_url), 3), what="a start")
        await runtime.stop_workers()
        await asyncio.sleep(0)  # let the burst write while no relay runs
        stopped_at = await _published_count(ob.database_url)
        await runtime.start_workers()
        ids = await burst
        offered = await eventually(
            lambda: _superset(_offering_ids(sub.database_url), set(ids)),
            timeout_s=60,
            what="all thirty offerings",
        )
    assert offered == set(ids)
    assert stopped_at < 30, "the relay should have stopped before the burst ended"


@pytest.mark.parametrize("units", [1])
async def test_standby_relay_takes_over(settings_for: SettingsFactory, units: int) -> None:
    """Two instances of one service: one relay leads, the other waits on the lock."""
    ob = settings_for("onboarding")
    first = service("onboarding").create_app(ob)
    second = service("onboarding").create_app(ob)
    async with running(first):
        await eventually(lambda: _true(_runtime(first).relay.stats.leading), what="leader")
        async with running(second):
            await asyncio.sleep(0.5)
            assert not _runtime(second).relay.stats.leading
            await _runtime(first).stop_workers()
            await eventually(
                lambda: _true(_runtime(second).relay.stats.leading), what="standby takes over"
            )
            await _publish_many(first, units)
            await eventually(
                lambda: _at_least(_published_count(ob.database_url), units), what="published"
            )


def _runtime(app: object) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime  # type: ignore[attr-defined]
    return runtime


async def _true(value: bool) -> bool:
    return value


async def _offering_count(url: str) -> int:
    return len(await _offering_ids(url))


async def _at_least(value: object, n: int) -> bool:
    got = await value  # type: ignore[misc]
    return bool(got >= n)


async def _superset(value: object, wanted: set[str]) -> set[str] | None:
    got: set[str] = await value  # type: ignore[misc]
    return got if wanted <= got else None


_ = uuid


async def test_a_replay_cut_short_is_started_again(
    settings_for: SettingsFactory, own_broker: TansuBroker
) -> None:
    """The broker fails again in the middle of a replay: the next check replays everything."""
    ob = settings_for(
        "onboarding", kafka_bootstrap_servers=own_broker.bootstrap_servers, run_workers=False
    )
    runtime = ServiceRuntime(service("onboarding").module().SPEC, ob)  # type: ignore[attr-defined]
    relay = runtime.relay
    try:
        subjects = set()
        async with runtime.unit_of_work() as uow:
            for _ in range(3):
                payload = sample_fund_opened()
                subjects.add(str(payload.fund_id))
                await uow.emit(payload, subject=str(payload.fund_id))
        await relay._connect()
        await relay._ensure_broker_has_log()
        assert await relay._publish_pending() == 3
        await asyncio.to_thread(own_broker.restart)
        await relay._disconnect()
        await relay._connect()
        real_send = relay._send

        async def failing_send(rows: Any, *, check_offsets: bool) -> None:
            raise ConnectionError("broker went away again")

        relay._send = failing_send  # type: ignore[method-assign]
        with pytest.raises(ConnectionError):
            await relay._ensure_broker_has_log()
        relay._send = real_send  # type: ignore[method-assign]
        await relay._disconnect()
        await relay._connect()
        await relay._ensure_broker_has_log()
        on_broker = await _subjects_on_broker(
            own_broker.bootstrap_servers, relay.topic, ob.topic_partitions, len(subjects)
        )
    finally:
        await relay._disconnect()
        await runtime.close()
    assert on_broker == subjects, "every retained event is back on the broker"
    assert relay.stats.replays == 2, "first run, then the replay after the restart"


async def _subjects_on_broker(bootstrap: str, topic: str, partitions: int, wanted: int) -> set[str]:
    """Read the topic from the start and return the subjects of its messages.

    The messages are read rather than counted from end offsets: Tansu reports a
    partition's end offset as one past the first record of its last batch.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen: list[str] = []

        async def read() -> set[str] | None:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(m.key.decode() for m in messages if m.key is not None)
            return set(seen) if len(seen) >= wanted else None

        await eventually(read, timeout_s=15, what=f"{wanted} messages on {topic}")
        assert len(seen) == len(set(seen)), f"each event once after the replay: {seen}"
        return set(seen)
    finally:
        await consumer.stop()
