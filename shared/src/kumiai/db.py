"""Async SQLAlchemy: engine, sessions, naming conventions and the unit of work.

A unit of work is the one place that commits: a use case or an event handler
runs inside ``async with uow:``; leaving the block normally commits the state
change and its outbox events together, an exception rolls both back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Index, Text, TextClause, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from kumiai.context import current_correlation_id
from kumiai.events import Envelope, EventPayload
from kumiai.naming import NAMING_CONVENTION as NAMING_CONVENTION
from kumiai.naming import new_metadata as new_metadata
from kumiai.outbox import record_event, record_events


class Base(DeclarativeBase):
    """Declarative base for a service's own tables (each service subclasses its own)."""

    __abstract__ = True


def created_at_column() -> Mapped[datetime]:
    """A timestamp set by the database when the row is inserted."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class StoredFileColumns:
    """The columns of a file kept through ``kumiai.files``: its name as the uploader knows
    it, its checked type, size and SHA-256, where the store keeps it, who sent it and when."""

    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = created_at_column()


class AuditTrail:
    """A service's audit trail (``audit_log``, append-only in the database): who did what to
    which record, and when; details never hold personal data."""

    __tablename__ = "audit_log"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805 (a declared attribute of the class)
        # A new index per service's table: one Index object cannot serve two tables.
        return (Index("ix_audit_log_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = created_at_column()
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)


class DatabaseFailure(StrEnum):
    """What a database error says about what to do next."""

    UNAVAILABLE = "unavailable"
    """The server is down, starting, restarting or out of connections: retry later."""
    RACE = "race"
    """This transaction lost a deadlock or a serialization race: run it again."""
    BAD_VALUE = "bad-value"
    """A value the database cannot store (out of range, not valid text): the input's fault."""


# SQLSTATE classes and codes (PostgreSQL appendix A).
_UNAVAILABLE_CLASSES = ("08",)  # connection exception
_UNAVAILABLE_CODES = frozenset(
    {
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the database system is starting up
        "53300",  # too_many_connections
        "53400",  # configuration_limit_exceeded
    }
)
_RACE_CODES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_BAD_VALUE_CLASSES = ("22",)  # data exception: numeric out of range, NUL in text ...


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, if it carries one."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def database_failure(exc: BaseException) -> DatabaseFailure | None:
    """Classify an exception met while talking to PostgreSQL; ``None`` if it is not one of ours.

    Connection-phase failures (refused, reset, "starting up", no free
    connection, pool exhausted) are the infrastructure's, never the message's
    or the request's.
    """
    if isinstance(exc, PoolTimeout):
        return DatabaseFailure.UNAVAILABLE
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return DatabaseFailure.UNAVAILABLE
        code = sqlstate(exc)
        if code is None:
            # A driver-level failure without a server answer: the connection is gone.
            orig = exc.orig
            if isinstance(orig, ConnectionError | OSError | TimeoutError):
                return DatabaseFailure.UNAVAILABLE
            return None
        if code.startswith(_UNAVAILABLE_CLASSES) or code in _UNAVAILABLE_CODES:
            return DatabaseFailure.UNAVAILABLE
        if code in _RACE_CODES:
            return DatabaseFailure.RACE
        if code.startswith(_BAD_VALUE_CLASSES):
            return DatabaseFailure.BAD_VALUE
        return None
    if isinstance(exc, ConnectionError | TimeoutError):
        return DatabaseFailure.UNAVAILABLE
    code = sqlstate(exc)  # asyncpg's own errors, raised before SQLAlchemy wraps them
    if code is not None and (code.startswith(_UNAVAILABLE_CLASSES) or code in _UNAVAILABLE_CODES):
        return DatabaseFailure.UNAVAILABLE
    return None


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a round trip on every checkout. A connection that a
    # database restart broke fails the one statement that meets it; SQLAlchemy
    # then invalidates the whole pool, and the request is answered 503 so that
    # the caller retries (with the same Idempotency-Key).
    # No overflow: a connection opened for a burst would be closed on return,
    # and opening one (with asyncpg's type introspection) costs more than
    # waiting for a pooled one. Requests queue for at most ``pool_timeout``.
    # No JIT: the planner cannot estimate the rows a trigger's transition table
    # holds, guesses high once a table is large, and compiles the trigger's query
    # on every statement (~12 ms each, measured on the ledger's postings); the
    # platform runs short transactions only (decision 0017).
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": {"jit": "off"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # autoflush: a query in the same unit of work sees the changes made before it
    # (several events can be handled in one transaction).
    return async_sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One database transaction; commits the state change and its events together."""

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        topic: str,
        correlation_id: str | None = None,
        causation_id: UUID | None = None,
    ) -> None:
        self._sessions = sessions
        self.source = source
        self.topic = topic
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._open = False

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("unit of work is already open")
        self.session = self._sessions()
        await self.session.begin()
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            self._open = False
            await self.session.close()

    async def emit_many(
        self,
        events: Sequence[tuple[EventPayload, str | None]],
        *,
        subject: str,
        guarded: tuple[TextClause, dict[str, Any]] | None = None,
    ) -> list[Envelope] | None:
        """``emit`` for several events of one subject, each with the correlation id of the
        request it comes from, numbered in their order (one statement); with ``guarded``,
        only if its guard returns a row (``kumiai.outbox.record_events``), else ``None``."""
        if not self._open:
            raise RuntimeError("emit_many() needs an open unit of work")
        return await record_events(
            self.session,
            events,
            source=self.source,
            topic=self.topic,
            subject=subject,
            causation_id=self.causation_id,
            guarded=guarded,
        )

    async def emit(self, payload: EventPayload, *, subject: str) -> Envelope:
        """Record an event in the outbox, in this transaction; the relay publishes it.

        Returns its envelope, numbered in its subject's sequence.
        """
        if not self._open:
            raise RuntimeError("emit() needs an open unit of work")
        envelope = await record_event(
            self.session,
            payload,
            source=self.source,
            topic=self.topic,
            subject=subject,
            correlation_id=self.correlation_id or current_correlation_id(),
            causation_id=self.causation_id,
        )
        return envelope
