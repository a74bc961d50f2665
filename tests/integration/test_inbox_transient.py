"""A database that is restarting is the infrastructure's fault, never the message's."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import DBAPIError

from helpers import SettingsFactory, fetch, offline_consumer
from kumiai.db import DatabaseFailure, UnitOfWork, create_engine, database_failure
from kumiai.events import Envelope, EventPayload, EventRegistry
from kumiai.inbox import Handler, is_transient


class StepRecorded(EventPayload):
    event_type = "StepRecorded"
    schema_version = 1
    step: int


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, _PgError(sqlstate))


@pytest.mark.parametrize(
    ("sqlstate", "failure"),
    [
        ("57P03", DatabaseFailure.UNAVAILABLE),  # the database system is starting up
        ("57P01", DatabaseFailure.UNAVAILABLE),  # terminating connection (admin shutdown)
        ("08006", DatabaseFailure.UNAVAILABLE),  # connection failure
        ("53300", DatabaseFailure.UNAVAILABLE),  # too many connections
        ("40P01", DatabaseFailure.RACE),  # deadlock detected
        ("40001", DatabaseFailure.RACE),  # serialization failure
        ("22021", DatabaseFailure.BAD_VALUE),  # NUL byte in text
        ("23505", None),  # a unique violation is the handler's business
    ],
)
def test_database_failures_are_classified(sqlstate: str, failure: DatabaseFailure | None) -> None:
    error = _db_error(sqlstate)
    assert database_failure(error) is failure
    assert is_transient(error) is (failure in (DatabaseFailure.UNAVAILABLE, DatabaseFailure.RACE))


async def test_a_restarting_database_never_dead_letters_a_healthy_event(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription")
    registry = EventRegistry()
    registry.register(StepRecorded)
    failures = {"left": 6}

    async def record(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise _db_error("57P03")

    handlers: dict[str, Handler] = {"StepRecorded": record}
    engine = create_engine(settings.database_url, pool_size=2)
    consumer = offline_consumer(
        engine,
        settings.kafka_bootstrap_servers,
        handlers,
        registry,
        max_attempts=3,
        retry_backoff_s=0.001,
    )
    envelope = Envelope(
        type="StepRecorded",
        schema_version=1,
        source="onboarding",
        subject=str(uuid.uuid4()),
        sequence=1,
        data={"step": 1},
    )
    record_ = ConsumerRecord(
        topic="unused",
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=envelope.to_bytes(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=(),
    )
    try:
        await consumer._process(record_, producer=None)
    finally:
        await engine.dispose()
    assert failures["left"] == 0, "six transient failures, more than the three attempts allowed"
    assert consumer.stats.dead_lettered == 0
    assert consumer.stats.handled == 1
    letters = await fetch(settings.database_url, "SELECT count(*) AS n FROM dead_letters")
    assert letters[0]["n"] == 0
