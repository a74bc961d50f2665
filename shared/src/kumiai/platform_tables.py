"""Tables every service has beside its own: outbox, inbox, dead letters, idempotency.

They live on their own MetaData; each service's initial migration creates them
with ``kumiai.migrations.create_platform_tables_v1``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from kumiai.naming import new_metadata

platform_metadata = new_metadata()

outbox_events = Table(
    "outbox_events",
    platform_metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("subject_seq", BigInteger, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("subject", "subject_seq", name="uq_outbox_events_subject_seq"),
    Index(
        "ix_outbox_events_unpublished",
        "seq",
        postgresql_where=text("published_at IS NULL"),
    ),
    Index("ix_outbox_events_published_at", "published_at"),
)

# Last sequence number given to each subject: makes a subject's events contiguous.
outbox_subjects = Table(
    "outbox_subjects",
    platform_metadata,
    Column("subject", Text, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

# The relay's marker on the broker: if it is gone, the broker lost its log.
relay_markers = Table(
    "relay_markers",
    platform_metadata,
    Column("topic", Text, primary_key=True),
    Column("epoch", UUID(as_uuid=True), nullable=False),
    Column("marker_offset", BigInteger, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

inbox_events = Table(
    "inbox_events",
    platform_metadata,
    Column("consumer", Text, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox_events"),
)

# Per (source, subject) the last sequence handled: keeps a subject's events in order.
inbox_subjects = Table(
    "inbox_subjects",
    platform_metadata,
    Column("consumer", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("consumer", "source", "subject", name="pk_inbox_subjects"),
)

# Events that arrived ahead of a predecessor; handled once the predecessor is.
inbox_parked = Table(
    "inbox_parked",
    platform_metadata,
    Column("consumer", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "source", "subject", "seq", name="pk_inbox_parked"),
)

dead_letters = Table(
    "dead_letters",
    platform_metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("consumer", Text, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=True),
    Column("event_type", Text, nullable=True),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("key", Text, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

idempotency_keys = Table(
    "idempotency_keys",
    platform_metadata,
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
)

# The partner registry (banks, municipalities) as this service knows it; see kumiai.partners.
partners = Table(
    "partners",
    platform_metadata,
    Column("partner_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("zengin_code", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('bank', 'municipality')", name="kind_known"),
    CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
)

# Every request made with a partner's token (kumiai.partner_calls): append-only.
partner_calls = Table(
    "partner_calls",
    platform_metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("partner_id", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("route", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("request_id", Text, nullable=True),
    Index("ix_partner_calls_partner", "partner_id", "id"),
    # The period filter and the retention (migration helper partner_calls_retention_v1).
    Index("ix_partner_calls_at", "at"),
)

PLATFORM_TABLES_V1 = (
    "outbox_events",
    "outbox_subjects",
    "relay_markers",
    "inbox_events",
    "inbox_subjects",
    "inbox_parked",
    "dead_letters",
    "idempotency_keys",
)
"""What ``create_platform_tables_v1`` creates; later tables come with helpers of their own."""
