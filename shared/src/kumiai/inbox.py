"""Idempotent, ordered consumption of other services' events.

For each message: parse the envelope and, in one transaction, run the handler
and record the event as handled; the Kafka offset is committed only after
that transaction. Each (source, subject) is handled in ``sequence`` order
and its position is stored beside the effect, so a redelivered event (at or
below the position) is skipped. An event that arrives ahead of a missing
predecessor (the broker lost it and the producer's relay is replaying) is
parked in the database and handled right after the predecessor. A handler
that keeps failing sends the message to the dead-letter topic (and the
``dead_letters`` table) after ``max_attempts``, and the consumer moves on.

Messages of one partition batch are handled in one transaction; if any of
them fails, the batch is rolled back and retried one message at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kumiai.context import set_correlation_id
from kumiai.db import DatabaseFailure, UnitOfWork, database_failure
from kumiai.events import Envelope, EventPayload, EventRegistry, UnknownEventError
from kumiai.kafka import CLIENT_TIMEOUT_MS, ensure_topics, new_producer
from kumiai.platform_tables import dead_letters, inbox_events, inbox_parked
from kumiai.tasks import bounded, raise_if_cancelling

log = structlog.get_logger(__name__)

Handler = Callable[[UnitOfWork, EventPayload, Envelope], Awaitable[None]]
"""Maps an event to a use case; runs inside the unit of work that records it."""

# Creates the subject's position row if needed and locks it until commit, so
# two consumers of one subject (a rebalance overlap) take turns.
_LOCK_POSITION = text(
    "INSERT INTO inbox_subjects (consumer, source, subject, last_seq) "
    "VALUES (:consumer, :source, :subject, 0) "
    "ON CONFLICT (consumer, source, subject) DO UPDATE SET last_seq = inbox_subjects.last_seq "
    "RETURNING last_seq"
)

# Advance the position, record the event, clear parked copies; answer whether
# the next event of the subject is already parked.
_SETTLE = text(
    "WITH advanced AS ("
    "  UPDATE inbox_subjects SET last_seq = :seq"
    "  WHERE consumer = :consumer AND source = :source AND subject = :subject"
    "), recorded AS ("
    "  INSERT INTO inbox_events (consumer, event_id, outcome)"
    "  VALUES (:consumer, :event_id, :outcome) ON CONFLICT DO NOTHING"
    "), cleared AS ("
    "  DELETE FROM inbox_parked"
    "  WHERE consumer = :consumer AND source = :source AND subject = :subject AND seq <= :seq"
    ") SELECT EXISTS ("
    "  SELECT 1 FROM inbox_parked"
    "  WHERE consumer = :consumer AND source = :source AND subject = :subject"
    "  AND seq = :seq + 1"
    ")"
)


def is_transient(exc: BaseException) -> bool:
    """Failures of the infrastructure, not of the message: retried without limit.

    A database that is down, restarting ("the system is starting up") or out
    of connections, and a transaction that lost a deadlock, say nothing about
    the message; only its own handler's errors count towards dead-lettering.
    """
    if database_failure(exc) in (DatabaseFailure.UNAVAILABLE, DatabaseFailure.RACE):
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    return isinstance(exc, ConnectionError | OSError | TimeoutError)


class PoisonMessage(Exception):
    """The message can never be handled (unreadable, or an unknown schema version)."""


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    parked: int = 0
    dead_lettered: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class _Settled:
    outcome: str
    successor_parked: bool = False


class EventConsumer:
    """A service's consumer loop over the topics it listens to."""

    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        topics: Iterable[str],
        handlers: Mapping[str, Handler],
        registry: EventRegistry,
        own_topic: str,
        group_id: str,
        dead_letter_topic: str,
        max_attempts: int = 5,
        retry_backoff_s: float = 0.2,
        partitions: int = 6,
        replication_factor: int = 1,
        session_timeout_ms: int = 10_000,
    ) -> None:
        self.service = service
        self._session_timeout_ms = session_timeout_ms
        self.consumer_name = service
        self._sessions = sessions
        self._bootstrap = bootstrap_servers
        self.topics = sorted(set(topics))
        self._handlers = dict(handlers)
        self._registry = registry
        self._own_topic = own_topic
        self.group_id = group_id
        self.dead_letter_topic = dead_letter_topic
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_s
        self._partitions = partitions
        self._replication = replication_factor
        self.stats = ConsumerStats()

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until cancelled; reconnects with backoff on broker or database failures."""
        backoff = 0.2
        while True:
            consumer = None
            producer = None
            try:
                await ensure_topics(
                    self._bootstrap,
                    [*self.topics, self.dead_letter_topic],
                    partitions=self._partitions,
                    replication_factor=self._replication,
                    client_id=f"{self.service}-consumer",
                )
                producer = new_producer(self._bootstrap, client_id=f"{self.service}-dead-letter")
                await producer.start()
                consumer = AIOKafkaConsumer(
                    *self.topics,
                    bootstrap_servers=self._bootstrap,
                    group_id=self.group_id,
                    client_id=f"{self.service}-consumer",
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    request_timeout_ms=CLIENT_TIMEOUT_MS + 30_000,
                    metadata_max_age_ms=5_000,
                    # The broker may hold a new member's join for up to half of it.
                    session_timeout_ms=self._session_timeout_ms,
                    heartbeat_interval_ms=max(self._session_timeout_ms // 3, 100),
                )
                await consumer.start()
                backoff = 0.2
                while True:
                    batches = await consumer.getmany(timeout_ms=500, max_records=500)
                    for tp, records in batches.items():
                        await self._process_partition_batch(records, producer)
                        await self._commit(consumer, tp, records[-1].offset + 1)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelling()
                log.warning(
                    "consumer interrupted",
                    service=self.service,
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                # Both at once: leaving the consumer group takes a broker round trip or two.
                await asyncio.gather(
                    *(bounded(c.stop(), 10) for c in (consumer, producer) if c is not None)
                )

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "")})
        except Exception as exc:
            # Effects are already recorded; a lost commit only means redelivery,
            # which the inbox absorbs.
            log.info("offset commit failed", partition=tp.partition, error=str(exc))

    async def _process_partition_batch(
        self, records: Sequence[ConsumerRecord[bytes, bytes]], producer: Any
    ) -> None:
        """Handle a partition's records in order: readable ones together, poison apart."""
        batch: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for record in records:
            try:
                envelope = self._parse(record.value)
                self._resolve(envelope)
            except PoisonMessage as exc:
                await self._flush(batch, producer)
                batch = []
                await self._dead_letter(record, producer, exc, 1)
                continue
            batch.append((record, envelope))
        await self._flush(batch, producer)

    async def _flush(
        self, batch: list[tuple[ConsumerRecord[bytes, bytes], Envelope]], producer: Any
    ) -> None:
        if not batch:
            return
        try:
            await self.handle_many([envelope for _, envelope in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("batch failed; handling one by one", size=len(batch), error=str(exc))
            for record, _ in batch:
                await self._process(record, producer)

    async def _process(self, record: ConsumerRecord[bytes, bytes], producer: Any) -> None:
        """Handle one record with retries; dead-letter it when it keeps failing."""
        attempts = 0
        while True:
            try:
                await self.handle_bytes(record.value)
                return
            except asyncio.CancelledError:
                raise
            except PoisonMessage as exc:
                await self._dead_letter(record, producer, exc, attempts + 1)
                return
            except Exception as exc:
                if is_transient(exc):
                    # The database or network is down, not the message: wait, never dead-letter.
                    log.warning("transient failure; retrying", error=str(exc))
                    await asyncio.sleep(min(self._backoff * 4, 5.0))
                    continue
                attempts += 1
                if attempts >= self._max_attempts:
                    await self._dead_letter(record, producer, exc, attempts)
                    return
                log.warning("handler failed; will retry", attempt=attempts, error=str(exc))
                await asyncio.sleep(self._backoff * attempts)

    # -- handling ------------------------------------------------------------------------

    @staticmethod
    def _parse(raw: bytes | None) -> Envelope:
        if raw is None:
            raise PoisonMessage("empty message")
        try:
            return Envelope.from_bytes(raw)
        except ValidationError as exc:
            raise PoisonMessage(f"not an event envelope: {exc.error_count()} error(s)") from exc

    def _resolve(self, envelope: Envelope) -> tuple[Handler | None, EventPayload | None]:
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return None, None
        try:
            return handler, self._registry.payload(envelope)
        except (UnknownEventError, ValidationError) as exc:
            raise PoisonMessage(f"{envelope.type} v{envelope.schema_version}: {exc}") from exc

    async def handle_bytes(self, raw: bytes | None) -> str:
        """Handle one message's bytes; returns what happened (for tests and metrics)."""
        return await self.handle(self._parse(raw))

    async def handle(self, envelope: Envelope) -> str:
        """Handle one envelope exactly once and in its subject's order."""
        [outcome] = await self.handle_many([envelope])
        return outcome

    async def handle_many(self, envelopes: Sequence[Envelope]) -> list[str]:
        """Handle envelopes in order in one transaction; all or none take effect."""
        settled: list[_Settled] = []
        uow = UnitOfWork(self._sessions, source=self.service, topic=self._own_topic)
        async with uow:
            for envelope in envelopes:
                set_correlation_id(envelope.correlation_id)
                structlog.contextvars.bind_contextvars(
                    correlation_id=envelope.correlation_id, event_id=str(envelope.id)
                )
                uow.correlation_id = envelope.correlation_id
                uow.causation_id = envelope.id
                handler, payload = self._resolve(envelope)
                settled.append(await self._settle(uow, envelope, handler, payload))
        for envelope, result in zip(envelopes, settled, strict=True):
            self._count(envelope, result.outcome)
        for envelope, result in zip(envelopes, settled, strict=True):
            if result.successor_parked:
                await self._drain_parked_safely(envelope)
        return [result.outcome for result in settled]

    def _count(self, envelope: Envelope, outcome: str) -> None:
        if outcome == "handled":
            self.stats.handled += 1
        elif outcome == "ignored":
            self.stats.ignored += 1
        elif outcome == "duplicate":
            self.stats.duplicates += 1
        elif outcome == "parked":
            self.stats.parked += 1
            log.warning(
                "event ahead of its predecessor; parked",
                source=envelope.source,
                subject=envelope.subject,
                sequence=envelope.sequence,
            )

    def _keys(self, envelope: Envelope) -> dict[str, Any]:
        return {
            "consumer": self.consumer_name,
            "source": envelope.source,
            "subject": envelope.subject,
        }

    async def _settle(
        self,
        uow: UnitOfWork,
        envelope: Envelope,
        handler: Handler | None,
        payload: EventPayload | None,
    ) -> _Settled:
        session = uow.session
        position = int(await session.scalar(_LOCK_POSITION, self._keys(envelope)) or 0)
        if envelope.sequence <= position:
            return _Settled("duplicate")
        if envelope.sequence > position + 1:
            # Not recorded as handled: the producer's replay delivers it again too.
            await session.execute(
                insert(inbox_parked)
                .values(
                    **self._keys(envelope),
                    seq=envelope.sequence,
                    envelope=envelope.model_dump(mode="json"),
                )
                .on_conflict_do_nothing()
            )
            return _Settled("parked")
        outcome = "ignored"
        if handler is not None:
            assert payload is not None
            await handler(uow, payload, envelope)
            outcome = "handled"
        successor = await self._advance(session, envelope, outcome)
        # An ignored event still advances the position; to callers it counts as handled.
        return _Settled(outcome if outcome == "handled" else "ignored", successor)

    async def _advance(self, session: AsyncSession, envelope: Envelope, outcome: str) -> bool:
        successor = await session.scalar(
            _SETTLE,
            {
                **self._keys(envelope),
                "seq": envelope.sequence,
                "event_id": envelope.id,
                "outcome": outcome,
            },
        )
        return bool(successor)

    async def _drain_parked_safely(self, envelope: Envelope) -> None:
        # The predecessor is committed; a parked successor that fails now is
        # delivered again by the producer's replay, so its failure stays here.
        try:
            await self._drain_parked(envelope)
        except Exception as exc:
            log.warning(
                "parked successor not handled yet", subject=envelope.subject, error=str(exc)
            )

    async def _drain_parked(self, envelope: Envelope) -> None:
        """Handle the parked successors of a just-handled event, in order."""
        after = envelope.sequence
        while True:
            async with self._sessions() as session:
                stored = await session.scalar(
                    select(inbox_parked.c.envelope).where(
                        inbox_parked.c.consumer == self.consumer_name,
                        inbox_parked.c.source == envelope.source,
                        inbox_parked.c.subject == envelope.subject,
                        inbox_parked.c.seq == after + 1,
                    )
                )
            if stored is None:
                return
            parked = Envelope.model_validate(stored)
            if await self.handle(parked) not in ("handled", "ignored"):
                return
            after = parked.sequence

    # -- dead letters --------------------------------------------------------------------

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        producer: Any,
        error: BaseException,
        attempts: int,
    ) -> None:
        envelope: Envelope | None = None
        with contextlib.suppress(Exception):
            envelope = Envelope.from_bytes(record.value or b"")
        reason = f"{type(error).__name__}: {error}"[:2000]
        successor = False
        async with self._sessions() as session, session.begin():
            await session.execute(
                dead_letters.insert().values(
                    consumer=self.consumer_name,
                    event_id=envelope.id if envelope else None,
                    event_type=envelope.type if envelope else None,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode(errors="replace") if record.key else None,
                    value=record.value or b"",
                    error=reason,
                    attempts=attempts,
                )
            )
            if envelope is not None:
                # Settled: later events of the subject flow, a replay is skipped.
                position = int(await session.scalar(_LOCK_POSITION, self._keys(envelope)) or 0)
                if envelope.sequence == position + 1:
                    successor = await self._advance(session, envelope, "dead-lettered")
                else:
                    await session.execute(
                        insert(inbox_events)
                        .values(
                            consumer=self.consumer_name,
                            event_id=envelope.id,
                            outcome="dead-lettered",
                        )
                        .on_conflict_do_nothing()
                    )
        await producer.send_and_wait(
            self.dead_letter_topic,
            value=record.value or b"",
            key=record.key,
            headers=[
                ("error", reason.encode()),
                ("original_topic", record.topic.encode()),
                ("original_partition", str(record.partition).encode()),
                ("original_offset", str(record.offset).encode()),
                ("attempts", str(attempts).encode()),
            ],
        )
        self.stats.dead_lettered += 1
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=reason,
        )
        if envelope is not None and successor:
            await self._drain_parked_safely(envelope)
