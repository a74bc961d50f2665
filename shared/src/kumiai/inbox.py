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
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

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

# The set-based forms, for a batch: the positions of many subjects at once
# (in key order), parked events at once, and every settled event at once.
# The positions come back as one row of arrays, not a row per subject.
_LOCK_POSITIONS = text(
    "WITH locked AS ("
    "  INSERT INTO inbox_subjects (consumer, source, subject, last_seq)"
    "  SELECT :consumer, s.source, s.subject, 0"
    "  FROM unnest(CAST(:sources AS text[]), CAST(:subjects AS text[])) AS s(source, subject)"
    "  ORDER BY s.source, s.subject"
    "  ON CONFLICT (consumer, source, subject) DO UPDATE SET last_seq = inbox_subjects.last_seq"
    "  RETURNING source, subject, last_seq"
    ") SELECT array_agg(source), array_agg(subject), array_agg(last_seq) FROM locked"
)

_PARK = text(
    "INSERT INTO inbox_parked (consumer, source, subject, seq, envelope) "
    "SELECT :consumer, p.source, p.subject, p.seq, CAST(p.envelope AS jsonb) "
    "FROM unnest(CAST(:sources AS text[]), CAST(:subjects AS text[]), "
    "CAST(:seqs AS bigint[]), CAST(:envelopes AS text[])) AS p(source, subject, seq, envelope) "
    "ON CONFLICT DO NOTHING"
)

# ``processed_at`` is when the batch settles, not when its transaction began.
_SETTLE_ALL = text(
    "WITH last AS ("
    "  SELECT * FROM unnest(CAST(:sources AS text[]), CAST(:subjects AS text[]),"
    "  CAST(:seqs AS bigint[])) AS l(source, subject, seq)"
    "), advanced AS ("
    "  UPDATE inbox_subjects AS s SET last_seq = last.seq FROM last"
    "  WHERE s.consumer = :consumer AND s.source = last.source AND s.subject = last.subject"
    "), recorded AS ("
    "  INSERT INTO inbox_events (consumer, event_id, outcome, processed_at)"
    "  SELECT :consumer, e.event_id, e.outcome, clock_timestamp()"
    "  FROM unnest(CAST(:event_ids AS uuid[]), CAST(:outcomes AS text[])) AS e(event_id, outcome)"
    "  ON CONFLICT DO NOTHING"
    "), cleared AS ("
    "  DELETE FROM inbox_parked AS p USING last"
    "  WHERE p.consumer = :consumer AND p.source = last.source AND p.subject = last.subject"
    "  AND p.seq <= last.seq"
    ") SELECT last.source, last.subject, last.seq FROM last WHERE EXISTS ("
    "  SELECT 1 FROM inbox_parked AS p"
    "  WHERE p.consumer = :consumer AND p.source = last.source AND p.subject = last.subject"
    "  AND p.seq = last.seq + 1"
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


_READ_SLICE = 100
"""Records read between two yields to the event loop while the previous fetch is handled."""


@dataclass
class _Fetch:
    """A fetch's records, read: envelopes (or why not), payloads, and the offsets to commit."""

    read: dict[
        TopicPartition, list[tuple[ConsumerRecord[bytes, bytes], Envelope | PoisonMessage]]
    ] = field(default_factory=dict)
    payloads: dict[UUID, EventPayload] = field(default_factory=dict)
    ends: dict[TopicPartition, int] = field(default_factory=dict)


class BatchHandler:
    """A handler that can also take a run of events of its type at once.

    ``many`` gets the run in order, in one unit of work; events of one subject
    may be in it more than once, in sequence order. Called with one event it
    behaves as any handler. A batch handler that emits events sets the unit
    of work's correlation and causation for each itself.
    """

    def __init__(
        self,
        many: Callable[[UnitOfWork, Sequence[tuple[EventPayload, Envelope]]], Awaitable[None]],
    ) -> None:
        self.many = many

    async def __call__(self, uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        await self.many(uow, [(payload, envelope)])


class _Plan:
    """What becomes of each event of a batch, from its subject's position.

    Walks the batch in order, so a subject's later events in the same batch
    follow the earlier ones: due (the next in sequence), duplicate (at or
    below the position) or parked (a predecessor is missing).
    """

    def __init__(self, envelopes: Sequence[Envelope], handled: Callable[[Envelope], bool]) -> None:
        self._envelopes = envelopes
        self._handled = handled
        self.outcomes: list[str] = []
        self.due: list[Envelope] = []
        self.parked: list[Envelope] = []
        self.settled: list[tuple[Envelope, str]] = []

    def subjects(self) -> list[tuple[str, str]]:
        """Each subject once, in one order for every consumer (no lock-order deadlock)."""
        return sorted({(e.source, e.subject) for e in self._envelopes})

    def classify(self, positions: Mapping[tuple[str, str], int]) -> None:
        position = dict(positions)
        for envelope in self._envelopes:
            key = (envelope.source, envelope.subject)
            if envelope.sequence <= position[key]:
                self.outcomes.append("duplicate")
            elif envelope.sequence > position[key] + 1:
                # Not recorded as handled: the producer's replay delivers it again too.
                self.outcomes.append("parked")
                self.parked.append(envelope)
            else:
                position[key] = envelope.sequence
                outcome = "handled" if self._handled(envelope) else "ignored"
                self.outcomes.append(outcome)
                self.due.append(envelope)
                self.settled.append((envelope, outcome))

    def last_settled(self) -> list[Envelope]:
        """The last settled event of each subject: where its position ends."""
        last: dict[tuple[str, str], Envelope] = {}
        for envelope, _ in self.settled:
            last[(envelope.source, envelope.subject)] = envelope
        return list(last.values())


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
        max_records: int = 1_000,
        fetch_max_wait_ms: int = 50,
    ) -> None:
        self.service = service
        self._session_timeout_ms = session_timeout_ms
        self._max_records = max_records
        self._fetch_max_wait_ms = fetch_max_wait_ms
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
        self.joined = asyncio.Event()
        """Set once the consumer has joined its group and fetched (for benchmarks and tests)."""

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
                    fetch_max_wait_ms=self._fetch_max_wait_ms,
                )
                await consumer.start()
                backoff = 0.2
                await self._consume(consumer, producer)
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

    async def _consume(self, consumer: AIOKafkaConsumer, producer: Any) -> None:
        """Handle fetch after fetch, reading the next one while this one is handled.

        Handling is strictly one fetch after the other; only the reading of the
        next (parsing and validating its events, CPU) overlaps with the database
        work of the current one.
        """
        ahead = asyncio.create_task(self._fetch(consumer))
        try:
            while True:
                fetch = await ahead
                ahead = asyncio.create_task(self._fetch(consumer))
                if fetch.read:
                    await self._process_fetch(fetch, producer)
                    await self._commit(consumer, fetch.ends)
        finally:
            ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)

    async def _fetch(self, consumer: AIOKafkaConsumer) -> _Fetch:
        records = await consumer.getmany(timeout_ms=500, max_records=self._max_records)
        self.joined.set()
        fetch = _Fetch()
        for tp, partition in records.items():
            read = []
            for record in partition:
                read.append(self._read(record, fetch.payloads))
                if len(read) % _READ_SLICE == 0:
                    await asyncio.sleep(0)  # the fetch being handled goes on meanwhile
            fetch.read[tp] = read
            fetch.ends[tp] = partition[-1].offset + 1
        return fetch

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        except Exception as exc:
            # Effects are already recorded; a lost commit only means redelivery,
            # which the inbox absorbs.
            log.info("offset commit failed", error=str(exc))

    async def _process_fetch(self, fetch: _Fetch, producer: Any) -> None:
        """Handle a fetch: every partition's readable records in one transaction.

        A subject's events share a partition (they are keyed by subject), so
        keeping each partition's order keeps every subject's. A partition with
        an unreadable record is handled apart, in order around it.
        """
        together: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for read in fetch.read.values():
            if any(isinstance(envelope, PoisonMessage) for _, envelope in read):
                await self._process_partition(read, fetch.payloads, producer)
            else:
                # Every pair holds an envelope: the partition's pairs as they are, not copies.
                together.extend(cast(list[tuple[ConsumerRecord[bytes, bytes], Envelope]], read))
        await self._flush(together, fetch.payloads, producer)

    def _read(
        self, record: ConsumerRecord[bytes, bytes], payloads: dict[UUID, EventPayload]
    ) -> tuple[ConsumerRecord[bytes, bytes], Envelope | PoisonMessage]:
        try:
            envelope = self._parse(record.value)
            _, payload = self._resolve(envelope)
        except PoisonMessage as exc:
            return record, exc
        if payload is not None:
            payloads[envelope.id] = payload
        return record, envelope

    async def _process_partition(
        self,
        read: Sequence[tuple[ConsumerRecord[bytes, bytes], Envelope | PoisonMessage]],
        payloads: Mapping[UUID, EventPayload],
        producer: Any,
    ) -> None:
        """Handle a partition's records in order: readable ones together, poison apart."""
        batch: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        for record, envelope in read:
            if isinstance(envelope, PoisonMessage):
                await self._flush(batch, payloads, producer)
                batch = []
                await self._dead_letter(record, producer, envelope, 1)
            else:
                batch.append((record, envelope))
        await self._flush(batch, payloads, producer)

    async def _flush(
        self,
        batch: list[tuple[ConsumerRecord[bytes, bytes], Envelope]],
        payloads: Mapping[UUID, EventPayload],
        producer: Any,
    ) -> None:
        if not batch:
            return
        try:
            await self.handle_many([envelope for _, envelope in batch], payloads)
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

    async def handle_many(
        self, envelopes: Sequence[Envelope], payloads: Mapping[UUID, EventPayload] | None = None
    ) -> list[str]:
        """Handle envelopes in order in one transaction; all or none take effect.

        Set-based: one statement locks every subject's position, the events
        are sorted in memory into duplicates, parked and due ones, the due
        ones are handled (a run of one type by a batch handler at once), and
        one statement records them all.
        """
        plan = _Plan(envelopes, lambda e: e.type in self._handlers)
        uow = UnitOfWork(self._sessions, source=self.service, topic=self._own_topic)
        async with uow:
            session = uow.session
            plan.classify(await self._lock_positions(session, plan.subjects()))
            if plan.parked:
                await session.execute(_PARK, self._parked_rows(plan.parked))
            for run in self._runs(plan.due):
                await self._handle_run(uow, run, payloads or {})
            successors = await self._settle_all(session, plan)
        for envelope, outcome in zip(envelopes, plan.outcomes, strict=True):
            self._count(envelope, outcome)
        for envelope in envelopes:
            key = (envelope.source, envelope.subject, envelope.sequence)
            if key in successors:
                successors.discard(key)
                await self._drain_parked_safely(envelope)
        return plan.outcomes

    async def _lock_positions(
        self, session: AsyncSession, subjects: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        sources, names, positions = (
            await session.execute(
                _LOCK_POSITIONS,
                {
                    "consumer": self.consumer_name,
                    "sources": [source for source, _ in subjects],
                    "subjects": [subject for _, subject in subjects],
                },
            )
        ).one()
        return dict(zip(zip(sources or (), names or (), strict=True), positions or (), strict=True))

    def _parked_rows(self, parked: Sequence[Envelope]) -> dict[str, Any]:
        return {
            "consumer": self.consumer_name,
            "sources": [e.source for e in parked],
            "subjects": [e.subject for e in parked],
            "seqs": [e.sequence for e in parked],
            "envelopes": [e.model_dump_json() for e in parked],
        }

    def _runs(self, due: Sequence[Envelope]) -> list[list[tuple[Envelope, Handler | None]]]:
        """Consecutive due events that one batch handler takes at once; others alone."""
        runs: list[list[tuple[Envelope, Handler | None]]] = []
        for envelope in due:
            handler = self._handlers.get(envelope.type)
            last = runs[-1] if runs else None
            if isinstance(handler, BatchHandler) and last is not None and last[-1][1] is handler:
                last.append((envelope, handler))
            else:
                runs.append([(envelope, handler)])
        return runs

    async def _handle_run(
        self,
        uow: UnitOfWork,
        run: Sequence[tuple[Envelope, Handler | None]],
        payloads: Mapping[UUID, EventPayload],
    ) -> None:
        envelope, handler = run[0]
        if handler is None:
            return
        if isinstance(handler, BatchHandler) and len(run) > 1:
            uow.correlation_id = None
            uow.causation_id = None
            await handler.many(uow, [(self._payload(e, payloads), e) for e, _ in run])
            return
        set_correlation_id(envelope.correlation_id)
        structlog.contextvars.bind_contextvars(
            correlation_id=envelope.correlation_id, event_id=str(envelope.id)
        )
        uow.correlation_id = envelope.correlation_id
        uow.causation_id = envelope.id
        await handler(uow, self._payload(envelope, payloads), envelope)

    def _payload(self, envelope: Envelope, payloads: Mapping[UUID, EventPayload]) -> EventPayload:
        """The event's payload, read once per delivery."""
        if envelope.id in payloads:
            return payloads[envelope.id]
        _, payload = self._resolve(envelope)
        assert payload is not None
        return payload

    async def _settle_all(self, session: AsyncSession, plan: _Plan) -> set[tuple[str, str, int]]:
        """Advance every position, record the events; answer which subjects' next event
        is already parked (as the last handled event of each)."""
        settled = plan.settled
        if not settled:
            return set()
        last = plan.last_settled()
        rows = await session.execute(
            _SETTLE_ALL,
            {
                "consumer": self.consumer_name,
                "sources": [e.source for e in last],
                "subjects": [e.subject for e in last],
                "seqs": [e.sequence for e in last],
                "event_ids": [e.id for e, _ in settled],
                "outcomes": [outcome for _, outcome in settled],
            },
        )
        return {(row.source, row.subject, int(row.seq)) for row in rows}

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
