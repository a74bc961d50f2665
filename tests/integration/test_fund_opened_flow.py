"""The first flow over the real broker: onboarding publishes a fund, subscription offers it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from helpers import SettingsFactory, fetch, offering, publish
from kumiai.events import Envelope
from kumiai.topics import dead_letter_topic, events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import eventually, running


async def test_fund_opened_reaches_subscription(settings_for: SettingsFactory) -> None:
    onboarding = service("onboarding").create_app(settings_for("onboarding"))
    subscription = service("subscription").create_app(settings_for("subscription"))
    async with running(onboarding) as ob, running(subscription) as sub:
        fund = await publish(ob, name="Sake brewery: restoring the kura")
        seen = await eventually(lambda: offering(sub, fund["id"]), what="offering")
    assert seen["name"] == "Sake brewery: restoring the kura"
    assert seen["units_offered"] == 1_000
    assert seen["units_sold"] == 0
    assert seen["unit_price"] == 10_000
    assert seen["price_per_unit_with_fee"] == 10_500
    assert seen["phase"] == "open"
    assert seen["days_left"] == 30
    assert fund["target_amount"] == 10_000_000


async def test_same_event_delivered_twice_has_one_effect(settings_for: SettingsFactory) -> None:
    ob_settings = settings_for("onboarding")
    sub_settings = settings_for("subscription")
    onboarding = service("onboarding").create_app(ob_settings)
    subscription = service("subscription").create_app(sub_settings)
    async with running(onboarding) as ob, running(subscription) as sub:
        fund = await publish(ob)
        await eventually(lambda: offering(sub, fund["id"]), what="offering")
        [row] = await fetch(
            ob_settings.database_url,
            "SELECT envelope::text FROM outbox_events WHERE subject = $1",
            fund["id"],
        )
        envelope = Envelope.model_validate_json(row[0])
        producer = AIOKafkaProducer(bootstrap_servers=ob_settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            topic = events_topic("onboarding", ob_settings.topic_namespace)
            for _ in range(2):
                await producer.send_and_wait(
                    topic, envelope.to_bytes(), key=envelope.subject.encode()
                )
        finally:
            await producer.stop()
        consumer = subscription.state.runtime.consumer
        await eventually(
            lambda: _value(consumer.stats.duplicates >= 2), what="both redeliveries skipped"
        )
    inbox = await fetch(
        sub_settings.database_url,
        "SELECT outcome FROM inbox_events WHERE event_id = $1",
        envelope.id,
    )
    offerings = await fetch(
        sub_settings.database_url,
        "SELECT units_offered FROM offerings WHERE fund_id = $1",
        uuid.UUID(fund["id"]),
    )
    assert [r["outcome"] for r in inbox] == ["handled"]
    assert len(offerings) == 1


async def _value(x: bool) -> bool:
    return x


async def test_poison_messages_are_dead_lettered_and_later_events_flow(
    settings_for: SettingsFactory,
) -> None:
    ob_settings = settings_for("onboarding")
    sub_settings = settings_for("subscription")
    namespace = ob_settings.topic_namespace
    onboarding = service("onboarding").create_app(ob_settings)
    subscription = service("subscription").create_app(sub_settings)
    key = str(uuid.uuid4())
    unreadable = b"this is not an event"
    bad_payload = Envelope(
        type="FundOpened",
        schema_version=1,
        source="onboarding",
        subject=key,
        sequence=1,
        data={"fund_id": key},  # required terms missing
    )
    async with running(onboarding) as ob, running(subscription) as sub:
        producer = AIOKafkaProducer(bootstrap_servers=ob_settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            topic = events_topic("onboarding", namespace)
            await producer.send_and_wait(topic, unreadable, key=key.encode())
            await producer.send_and_wait(topic, bad_payload.to_bytes(), key=key.encode())
        finally:
            await producer.stop()
        fund = await publish(ob)
        later = await eventually(lambda: offering(sub, fund["id"]), what="later event handled")
        assert later["fund_id"] == fund["id"]
        dead = await eventually(
            lambda: _rows(sub_settings.database_url, "SELECT * FROM dead_letters ORDER BY id", 2),
            what="two dead letters",
        )
    assert [bytes(r["value"]) for r in dead] == [unreadable, bad_payload.to_bytes()]
    assert "not an event envelope" in dead[0]["error"]
    assert "FundOpened v1" in dead[1]["error"]
    assert dead[1]["event_id"] == bad_payload.id
    on_topic = await _drain_topic(
        sub_settings.kafka_bootstrap_servers, dead_letter_topic("subscription", namespace), 2
    )
    assert [m[0] for m in on_topic] == [unreadable, bad_payload.to_bytes()]
    assert all(dict(m[1])["original_topic"] == topic.encode() for m in on_topic)


async def _rows(url: str, query: str, count: int) -> list[asyncpg.Record] | None:
    rows = await fetch(url, query)
    return rows if len(rows) >= count else None


async def _drain_topic(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, list[Any]]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got: list[tuple[bytes, list[Any]]] = []
    try:

        async def more() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                got.extend((r.value or b"", list(r.headers)) for r in records)
            return len(got) >= count

        await eventually(more, what=f"{count} messages on {topic}")
    finally:
        await consumer.stop()
    return got
