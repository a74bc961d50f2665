"""A subject's events are handled once each and in order, however they arrive."""

from __future__ import annotations

import uuid

from helpers import SettingsFactory, fetch
from kumiai.db import UnitOfWork, create_engine, session_factory
from kumiai.events import Envelope, EventPayload, EventRegistry
from kumiai.inbox import EventConsumer, Handler


class StepRecorded(EventPayload):
    event_type = "StepRecorded"
    schema_version = 1
    step: int


def _envelope(subject: str, seq: int) -> Envelope:
    return Envelope(
        type="StepRecorded",
        schema_version=1,
        source="onboarding",
        subject=subject,
        sequence=seq,
        data={"step": seq},
    )


async def test_out_of_order_arrivals_are_parked_then_handled_in_order(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription")
    registry = EventRegistry()
    registry.register(StepRecorded)
    seen: list[tuple[str, int]] = []

    async def record(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, StepRecorded)
        seen.append((envelope.subject, payload.step))

    handlers: dict[str, Handler] = {"StepRecorded": record}
    engine = create_engine(settings.database_url, pool_size=2)
    consumer = EventConsumer(
        service="subscription",
        sessions=session_factory(engine),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=["unused"],
        handlers=handlers,
        registry=registry,
        own_topic="unused",
        group_id="unused",
        dead_letter_topic="unused",
    )
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first, second, third = _envelope(a, 1), _envelope(a, 2), _envelope(a, 3)
    try:
        outcomes = [
            await consumer.handle(third),  # ahead of 1 and 2: parked
            await consumer.handle(_envelope(b, 1)),  # another subject is not held up
            await consumer.handle(second),  # still ahead of 1: parked
            await consumer.handle(first),  # handled, then 2 and 3 from the parking
            await consumer.handle(second),  # replayed copy: already handled
            await consumer.handle(third),
        ]
    finally:
        await engine.dispose()
    assert outcomes == ["parked", "handled", "parked", "handled", "duplicate", "duplicate"]
    assert seen == [(b, 1), (a, 1), (a, 2), (a, 3)]
    parked = await fetch(settings.database_url, "SELECT count(*) AS n FROM inbox_parked")
    assert parked[0]["n"] == 0
    position = await fetch(
        settings.database_url,
        "SELECT last_seq FROM inbox_subjects WHERE subject = $1",
        a,
    )
    assert position[0]["last_seq"] == 3
