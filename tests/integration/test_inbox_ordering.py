"""A subject's events are handled once each and in order, however they arrive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from helpers import SettingsFactory, fetch, offline_consumer
from kumiai.db import UnitOfWork, create_engine
from kumiai.events import Envelope, EventPayload, EventRegistry
from kumiai.inbox import BatchHandler, Handler


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
    consumer = offline_consumer(engine, settings.kafka_bootstrap_servers, handlers, registry)
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


class StepCounted(EventPayload):
    event_type = "StepCounted"
    schema_version = 1
    step: int


async def test_a_batch_is_handled_in_each_subjects_order_with_batch_handlers_taking_runs(
    settings_for: SettingsFactory,
) -> None:
    """One fetched batch, set-based: out-of-order, duplicate, ignored and batched events."""
    settings = settings_for("subscription")
    registry = EventRegistry()
    registry.register(StepRecorded)
    registry.register(StepCounted)
    seen: list[tuple[str, int]] = []
    runs: list[list[tuple[str, int]]] = []

    async def record(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, StepRecorded)
        seen.append((envelope.subject, payload.step))

    async def count(uow: UnitOfWork, events: Sequence[tuple[EventPayload, Envelope]]) -> None:
        runs.append([(e.subject, e.sequence) for _, e in events])
        seen.extend((e.subject, e.sequence) for _, e in events)

    handlers: dict[str, Handler] = {"StepRecorded": record, "StepCounted": BatchHandler(count)}
    engine = create_engine(settings.database_url, pool_size=2)
    consumer = offline_consumer(engine, settings.kafka_bootstrap_servers, handlers, registry)

    def event(kind: str, subject: str, seq: int) -> Envelope:
        envelope = _envelope(subject, seq)
        return envelope.model_copy(update={"type": kind})

    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    batch = [
        event("StepCounted", a, 1),
        event("StepCounted", b, 1),
        event("StepCounted", a, 2),
        event("StepCounted", c, 2),  # ahead of c/1: parked
        event("StepRecorded", a, 3),  # another type: handled alone, after a/2
        event("StepCounted", b, 1),  # a copy in the same batch
        event("Unheard", b, 2),  # no handler: ignored, but it advances b
        event("StepCounted", b, 3),
        event("StepCounted", c, 1),  # c/2 follows from the parking after commit
    ]
    try:
        outcomes = await consumer.handle_many(batch)
        again = await consumer.handle_many(batch)
    finally:
        await engine.dispose()
    assert outcomes == [
        "handled", "handled", "handled", "parked", "handled",
        "duplicate", "ignored", "handled", "handled",
    ]  # fmt: skip
    assert again == ["duplicate"] * len(batch)
    assert runs == [[(a, 1), (b, 1), (a, 2)], [(b, 3), (c, 1)], [(c, 2)]]
    assert seen == [(a, 1), (b, 1), (a, 2), (a, 3), (b, 3), (c, 1), (c, 2)]
    positions = await fetch(
        settings.database_url,
        "SELECT subject, last_seq FROM inbox_subjects WHERE subject = ANY($1::text[])",
        [a, b, c],
    )
    assert {r["subject"]: r["last_seq"] for r in positions} == {a: 3, b: 3, c: 2}
    recorded = await fetch(
        settings.database_url,
        "SELECT outcome, count(*) AS n FROM inbox_events WHERE event_id = ANY($1::uuid[]) "
        "GROUP BY outcome",
        [e.id for e in batch],
    )
    assert {r["outcome"]: r["n"] for r in recorded} == {"handled": 7, "ignored": 1}
    parked = await fetch(
        settings.database_url,
        "SELECT count(*) AS n FROM inbox_parked WHERE subject = ANY($1::text[])",
        [a, b, c],
    )
    assert parked[0]["n"] == 0
