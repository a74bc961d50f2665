"""Async SQLAlchemy: engine, sessions, naming conventions and the unit of work.

A unit of work is the one place that commits: a use case or an event handler
runs inside ``async with uow:``; leaving the block normally commits the state
change and its outbox events together, an exception rolls both back.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.context import current_correlation_id
from kumiai.events import EventPayload

# Stable constraint names, so migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Declarative base for a service's own tables (each service subclasses its own)."""

    __abstract__ = True


def created_at_column() -> Mapped[datetime]:
    """A timestamp set by the database when the row is inserted."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a round trip on every checkout. A connection that a
    # database restart broke fails the one statement that meets it; SQLAlchemy
    # then invalidates the whole pool, and the request is answered 503 so that
    # the caller retries (with the same Idempotency-Key).
    # No overflow: a connection opened for a burst would be closed on return,
    # and opening one (with asyncpg's type introspection) costs more than
    # waiting for a pooled one. Requests queue for at most ``pool_timeout``.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        pool_recycle=1800,
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

    async def emit(self, payload: EventPayload, *, subject: str) -> UUID:
        """Record an event in the outbox, in this transaction; the relay publishes it."""
        from kumiai.outbox import record_event

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
        return envelope.id
