"""Transactional outbox and the relay that publishes it to Kafka.

``record_event`` writes an event in the caller's transaction. The ``Relay``
publishes unpublished rows in order, keyed by subject, and marks them
published. Published rows are kept for a retention period because the local
broker keeps everything in memory: when the relay finds its marker gone from
the broker, it re-publishes every retained event in order. Consumers
de-duplicate and keep each subject in order (``kumiai.inbox``), so a replay
only delivers what was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import Row, TextClause, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kumiai.events import Envelope, EventPayload
from kumiai.kafka import CLIENT_TIMEOUT_MS, ensure_topics, new_producer
from kumiai.platform_tables import outbox_events, relay_markers
from kumiai.tasks import bounded, raise_if_cancelling

log = structlog.get_logger(__name__)


async def record_event(
    session: AsyncSession,
    payload: EventPayload,
    *,
    source: str,
    topic: str,
    subject: str,
    correlation_id: str | None = None,
    causation_id: UUID | None = None,
) -> Envelope:
    """Write ``payload`` to the outbox inside the session's transaction (one statement)."""
    # Taking the subject's next number locks its counter row until commit, so a
    # subject's events are numbered, committed and published in one order. The
    # number is taken and the event written in one round trip: callers on a hot
    # subject hold its counter for as short a time as possible. ``created_at`` is
    # when the event is written, not when its transaction began.
    written = await record_events(
        session,
        [(payload, correlation_id)],
        source=source,
        topic=topic,
        subject=subject,
        causation_id=causation_id,
    )
    assert written is not None
    return written[0]


_RECORD_EVENTS = (
    "next AS ("
    " INSERT INTO outbox_subjects (subject, last_seq)"
    " SELECT CAST(:subject AS text), CAST(:count AS bigint) FROM guard"
    " ON CONFLICT (subject) DO UPDATE SET last_seq = outbox_subjects.last_seq + EXCLUDED.last_seq"
    " RETURNING last_seq - CAST(:count AS bigint) AS before"
    ") INSERT INTO outbox_events"
    " (event_id, topic, subject, subject_seq, type, schema_version, envelope, created_at)"
    " SELECT e.event_id, CAST(:topic AS text), CAST(:subject AS text), next.before + e.n,"
    " e.type, e.version,"
    " jsonb_set(CAST(e.envelope AS jsonb), '{sequence}', to_jsonb(next.before + e.n)),"
    " clock_timestamp()"
    " FROM next, unnest(CAST(:event_ids AS uuid[]), CAST(:types AS text[]),"
    " CAST(:versions AS int[]), CAST(:envelopes AS text[])) WITH ORDINALITY"
    " AS e(event_id, type, version, envelope, n)"
    " ORDER BY e.n RETURNING subject_seq"
)


def guarded_events_statement(guard: str) -> TextClause:
    """The statement of ``record_events`` that writes the events only if ``guard`` returns
    a row: one of the caller's own statements (a constant, its parameters named apart from
    ``record_events``'), such as the conditional update of a hot row, so that the row and
    the events are written in one round trip."""
    return text(f"WITH guard AS ({guard}), {_RECORD_EVENTS}")


_UNGUARDED_EVENTS = guarded_events_statement("SELECT 1")


async def record_events(
    session: AsyncSession,
    events: Sequence[tuple[EventPayload, str | None]],
    *,
    source: str,
    topic: str,
    subject: str,
    causation_id: UUID | None = None,
    guarded: tuple[TextClause, dict[str, Any]] | None = None,
) -> list[Envelope] | None:
    """``record_event`` for several events of one subject, each with its correlation id,
    numbered in their order: one statement, the subject's counter taken once. With
    ``guarded`` (a ``guarded_events_statement`` and its guard's parameters), nothing is
    written and ``None`` answered if the guard returns no row."""
    envelopes = [
        Envelope(
            type=payload.event_type,
            schema_version=payload.schema_version,
            source=source,
            subject=subject,
            sequence=1,  # replaced by the subject's next numbers in the statement
            correlation_id=correlation_id,
            causation_id=causation_id,
            data=payload.model_dump(mode="json"),
        )
        for payload, correlation_id in events
    ]
    statement, params = guarded or (_UNGUARDED_EVENTS, {})
    sequences = (
        await session.scalars(
            statement,
            params
            | {
                "subject": subject,
                "count": len(envelopes),
                "topic": topic,
                "event_ids": [e.id for e in envelopes],
                "types": [e.type for e in envelopes],
                "versions": [e.schema_version for e in envelopes],
                "envelopes": [e.model_dump_json() for e in envelopes],
            },
        )
    ).all()
    if not sequences:
        return None
    first = min(sequences)
    return [e.model_copy(update={"sequence": first + i}) for i, e in enumerate(envelopes)]


class BrokerLostLog(Exception):
    """The broker no longer has what the relay published: it restarted empty."""


@dataclass
class RelayStats:
    published: int = 0
    replayed: int = 0
    replays: int = 0
    purged: int = 0
    last_error: str | None = None
    leading: bool = False
    expected_offsets: dict[int, int] = field(default_factory=dict)


@dataclass
class _Marker:
    epoch: UUID
    offset: int


class Relay:
    """Publishes a service's outbox to its topic; one active relay per database."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        topic: str,
        marker_topic: str,
        partitions: int = 6,
        replication_factor: int = 1,
        poll_interval_s: float = 0.1,
        batch_size: int = 500,
        broker_check_interval_s: float = 1.0,
        retention: timedelta = timedelta(days=7),
        purge_interval_s: float = 600.0,
    ) -> None:
        self.service = service
        self._engine = engine
        self._sessions = sessions
        self._bootstrap = bootstrap_servers
        self.topic = topic
        self.marker_topic = marker_topic
        self._partitions = partitions
        self._replication = replication_factor
        self._poll = poll_interval_s
        self._batch = batch_size
        self._check_every = broker_check_interval_s
        self._retention = retention
        self._purge_every = purge_interval_s
        self._producer: AIOKafkaProducer | None = None
        self._probe: AIOKafkaConsumer | None = None
        self._marker: _Marker | None = None
        self._next_check = 0.0
        self._next_purge = 0.0
        self.stats = RelayStats()

    # -- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        """Relay until cancelled; every failure is logged and retried with backoff."""
        backoff = 0.2
        while True:
            try:
                async with self._leadership():
                    await self._connect()
                    await self._ensure_broker_has_log()
                    backoff = 0.2
                    while True:
                        await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise_if_cancelling()
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("relay interrupted", topic=self.topic, error=self.stats.last_error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                await self._disconnect()

    async def step(self) -> int:
        """One pass: check the broker if due, publish a batch, purge if due."""
        now = time.monotonic()
        if now >= self._next_check:
            await self._ensure_broker_has_log()
        published = await self._publish_pending()
        if now >= self._next_purge:
            await self._purge()
            self._next_purge = now + self._purge_every
        if published == 0:
            await asyncio.sleep(self._poll)
        return published

    @contextlib.asynccontextmanager
    async def _leadership(self) -> AsyncIterator[None]:
        # A session-level advisory lock on a dedicated connection: a second
        # instance of the service waits here as a standby instead of racing.
        async with self._engine.connect() as conn:
            key = f"kumiai.relay.{self.topic}"
            while not await conn.scalar(
                text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key}
            ):
                await conn.rollback()
                await asyncio.sleep(1.0)
            await conn.commit()
            self.stats.leading = True
            try:
                yield
            finally:
                self.stats.leading = False
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                    await conn.commit()

    async def _connect(self) -> None:
        await ensure_topics(
            self._bootstrap,
            [self.topic, self.marker_topic],
            partitions=self._partitions,
            replication_factor=self._replication,
            client_id=f"{self.service}-relay",
        )
        self._producer = new_producer(self._bootstrap, client_id=f"{self.service}-relay")
        await self._producer.start()
        self._probe = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self.service}-relay-probe",
            enable_auto_commit=False,
            request_timeout_ms=CLIENT_TIMEOUT_MS,
        )
        await self._probe.start()

    async def _disconnect(self) -> None:
        for client in (self._producer, self._probe):
            if client is not None:
                await bounded(client.stop(), 10)
        self._producer = None
        self._probe = None
        self._marker = None

    # -- broker loss detection and replay --------------------------------------------

    async def _marker_end_offset(self) -> int:
        assert self._probe is not None
        tp = TopicPartition(self.marker_topic, 0)
        offsets = await asyncio.wait_for(self._probe.end_offsets([tp]), CLIENT_TIMEOUT_MS / 1000)
        return int(offsets[tp])

    async def _ensure_broker_has_log(self) -> None:
        """Compare the broker with the marker the relay last wrote; replay if it is gone."""
        if self._marker is None:
            async with self._sessions() as session:
                row = (
                    await session.execute(
                        select(relay_markers.c.epoch, relay_markers.c.marker_offset).where(
                            relay_markers.c.topic == self.marker_topic
                        )
                    )
                ).first()
            if row is not None:
                self._marker = _Marker(epoch=row.epoch, offset=row.marker_offset)
        try:
            end = await self._marker_end_offset()
        except Exception:
            end = 0
        # Only a completed replay writes a marker, so a marker topic that has
        # nothing past our stored offset means this broker never got our log back.
        if self._marker is None or end <= self._marker.offset:
            await self._replay()
        elif not self.stats.expected_offsets:
            await self._load_expected_offsets()
        self._next_check = time.monotonic() + self._check_every

    async def _load_expected_offsets(self) -> None:
        assert self._probe is not None
        assert self._producer is not None
        # The topic may exist with another partition count (created elsewhere).
        # Tansu under-reports end offsets (one past the first record of the last
        # batch); a low expectation only delays detection to the marker check,
        # it never triggers a needless replay.
        partitions = await self._producer.partitions_for(self.topic)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        offsets = await asyncio.wait_for(self._probe.end_offsets(tps), CLIENT_TIMEOUT_MS / 1000)
        self.stats.expected_offsets = {tp.partition: int(o) for tp, o in offsets.items()}

    async def _replay(self) -> None:
        """The broker lost (or never had) our log: re-publish retained events, then a marker.

        The marker is written only once every retained event is back on the
        broker, so a replay cut short (the broker failing again, the relay
        crashing) leaves no marker and is started again from the beginning.
        """
        assert self._producer is not None
        await ensure_topics(
            self._bootstrap,
            [self.topic, self.marker_topic],
            partitions=self._partitions,
            replication_factor=self._replication,
            client_id=f"{self.service}-relay",
        )
        self.stats.expected_offsets = {}
        since = datetime.now(UTC) - self._retention
        replayed = 0
        last_seq = 0
        while True:
            async with self._sessions() as session:
                rows = (
                    await session.execute(
                        select(
                            outbox_events.c.seq, outbox_events.c.subject, outbox_events.c.envelope
                        )
                        .where(
                            outbox_events.c.published_at.is_not(None),
                            outbox_events.c.published_at >= since,
                            outbox_events.c.seq > last_seq,
                        )
                        .order_by(outbox_events.c.seq)
                        .limit(self._batch)
                    )
                ).all()
            if not rows:
                break
            await self._send(rows, check_offsets=False)
            replayed += len(rows)
            last_seq = rows[-1].seq
        epoch = uuid.uuid4()
        meta = await self._producer.send_and_wait(
            self.marker_topic, value=epoch.bytes, key=self.service.encode(), partition=0
        )
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(relay_markers)
                .values(topic=self.marker_topic, epoch=epoch, marker_offset=meta.offset)
                .on_conflict_do_update(
                    index_elements=[relay_markers.c.topic],
                    set_={
                        "epoch": epoch,
                        "marker_offset": meta.offset,
                        "written_at": text("now()"),
                    },
                )
            )
        self._marker = _Marker(epoch=epoch, offset=meta.offset)
        await self._load_expected_offsets()
        self.stats.replays += 1
        self.stats.replayed += replayed
        log.info("relay wrote a new marker", topic=self.topic, replayed=replayed, epoch=str(epoch))

    # -- publishing ------------------------------------------------------------------

    async def _send(self, rows: Sequence[Row[Any, Any, Any]], *, check_offsets: bool) -> None:
        assert self._producer is not None
        futures = []
        for row in rows:
            envelope = row.envelope
            futures.append(
                await self._producer.send(
                    self.topic,
                    value=_envelope_bytes(envelope),
                    key=row.subject.encode(),
                    headers=[
                        ("type", str(envelope["type"]).encode()),
                        ("schema_version", str(envelope["schema_version"]).encode()),
                    ],
                )
            )
        results = await asyncio.gather(*futures)
        lost = False
        for meta in results:
            expected = self.stats.expected_offsets.get(meta.partition, 0)
            if check_offsets and meta.offset < expected:
                lost = True
            self.stats.expected_offsets[meta.partition] = max(expected, meta.offset + 1)
        if lost:
            # The log restarted under us. What we just sent is on the broker,
            # but events published before it are gone: replay in order.
            raise BrokerLostLog(self.topic)

    async def _publish_pending(self) -> int:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(outbox_events.c.seq, outbox_events.c.subject, outbox_events.c.envelope)
                    .where(outbox_events.c.published_at.is_(None))
                    .order_by(outbox_events.c.seq)
                    .limit(self._batch)
                )
            ).all()
        if not rows:
            return 0
        try:
            await self._send(rows, check_offsets=True)
        except BrokerLostLog:
            await self._mark_published([r.seq for r in rows])
            log.warning("broker lost its log; replaying", topic=self.topic)
            await self._replay()
            return len(rows)
        await self._mark_published([r.seq for r in rows])
        self.stats.published += len(rows)
        return len(rows)

    async def _mark_published(self, seqs: list[int]) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(outbox_events)
                .where(outbox_events.c.seq.in_(seqs))
                .values(published_at=datetime.now(UTC))
            )

    async def _purge(self) -> None:
        cutoff = datetime.now(UTC) - self._retention
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(outbox_events).where(outbox_events.c.published_at < cutoff)
            )
        self.stats.purged += int(getattr(result, "rowcount", 0) or 0)

    async def backlog(self) -> int:
        """Events written but not yet published (for readiness and metrics)."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(text("count(*)"))
                .select_from(outbox_events)
                .where(outbox_events.c.published_at.is_(None))
            )
        return int(count or 0)


def _envelope_bytes(envelope: dict[str, Any]) -> bytes:
    # Re-validate so the bytes on the wire are exactly the contract's JSON shape.
    return Envelope.model_validate(envelope).to_bytes()
