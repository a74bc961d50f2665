"""Onboarding's tables.

Personal data (people's names, phone numbers, e-mail) lives only in the
``msmes`` columns marked so; it never goes into events, logs or the audit trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import AuditTrail, StoredFileColumns, created_at_column, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Msme(Base):
    """A business on the platform, identified by its Corporate Number."""

    __tablename__ = "msmes"
    __table_args__ = (
        # onboarding.msmes.rules.check_identity, in weaker forms: 13 digits (the check digit
        # is the rule's), and a municipality in the business's prefecture.
        CheckConstraint("corporate_number ~ '^[0-9]{13}$'", name="corporate_number_digits"),
        CheckConstraint("municipality_code LIKE prefecture_code || '%'", name="municipality_in"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # onboarding.msmes.rules.already_registered: a Corporate Number registers once
    # (uq_msmes_corporate_number).
    corporate_number: Mapped[str] = mapped_column(Text, unique=True)
    company_name: Mapped[str] = mapped_column(Text)
    prefecture_code: Mapped[str] = mapped_column(Text, index=True)
    municipality_code: Mapped[str] = mapped_column(Text, index=True)
    industry: Mapped[str] = mapped_column(Text)
    head_office_address: Mapped[str] = mapped_column(Text)
    # Personal data: shown to the business itself and staff only.
    representative_name: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(Text)
    referred_by_bank: Mapped[str | None] = mapped_column(Text, index=True)
    registered_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Application(Base):
    """A project a business wants to fund, moving through due diligence and screening."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("amount_sought > 0", name="amount_positive"),
        Index("ix_applications_step_entered", "step", "step_entered_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(ForeignKey("msmes.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    amount_sought: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    use_of_funds: Mapped[str] = mapped_column(Text)
    business_plan_summary: Mapped[str] = mapped_column(Text)
    municipality_code: Mapped[str] = mapped_column(Text, index=True)
    referred_by: Mapped[str | None] = mapped_column(Text)
    referrer_id: Mapped[str | None] = mapped_column(Text, index=True)
    step: Mapped[str] = mapped_column(Text)
    step_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class StepRecord(Base):
    """One move of an application through the pipeline: who, when, why (append-only)."""

    __tablename__ = "application_steps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    from_step: Mapped[str | None] = mapped_column(Text)
    to_step: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = created_at_column()


class CommitteeVote(Base):
    """A member's vote at the investment committee, with the reason (append-only)."""

    __tablename__ = "committee_votes"
    __table_args__ = (
        # The values of onboarding.applications.rules.Vote.
        CheckConstraint("vote IN ('approve', 'reject', 'abstain')", name="vote_known"),
        # onboarding.applications.rules.check_one_vote_each: each member votes once.
        UniqueConstraint("application_id", "member", name="uq_committee_votes_member"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    member: Mapped[str] = mapped_column(Text)
    vote: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = created_at_column()


class Document(StoredFileColumns, Base):
    """One uploaded version of a checklist document and its review."""

    __tablename__ = "documents"
    __table_args__ = (
        # The values of onboarding.documents.rules.DocumentStatus.
        CheckConstraint(
            "status IN ('submitted', 'accepted', 'rejected', 'superseded')", name="status_known"
        ),
        # onboarding.documents.rules.check_not_empty: a document has at least one byte.
        CheckConstraint("size > 0", name="size_positive"),
        # onboarding.documents.rules.next_version: one version of each number per kind.
        UniqueConstraint("application_id", "kind", "version", name="uq_documents_version"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Fund(Base):
    """A fund designed for an approved application; its terms freeze when published."""

    __tablename__ = "funds"
    __table_args__ = (
        # The values of onboarding.funds.rules.FundStatus.
        CheckConstraint(
            "status IN ('draft', 'scheduled', 'open', 'cancelled', 'closed_succeeded', "
            "'closed_failed')",
            name="status_known",
        ),
        # onboarding.funds.rules.validate_terms: a fund raises something, and an offering
        # ends after it starts.
        CheckConstraint("target_amount > 0", name="target_positive"),
        CheckConstraint("offering_end > offering_start", name="window_ordered"),
        # FundStatus.SCHEDULED: the funds the opening timer looks for.
        Index("ix_funds_due", "offering_start", postgresql_where="status = 'scheduled'"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # onboarding.funds.rules.check_first_fund: one fund per application.
    application_id: Mapped[UUID] = mapped_column(ForeignKey("applications.id"), unique=True)
    msme_id: Mapped[UUID] = mapped_column(ForeignKey("msmes.id"), index=True)
    status: Mapped[str] = mapped_column(Text, index=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    target_amount: Mapped[int] = mapped_column(BigInteger)
    offering_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offering_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    terms_digest: Mapped[str | None] = mapped_column(Text)
    amount_raised: Mapped[int | None] = mapped_column(BigInteger)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    published_by: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the offering closed (FundClosed); a formed fund's term runs from that day
    # (onboarding.referrals.rules.ecldb_eligibility).
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEndpoint(Base):
    """Where a partner wants to hear the events it may see (onboarding.webhooks)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        # The values of onboarding.webhooks.rules.EndpointStatus and DisabledReason.
        CheckConstraint("status IN ('enabled', 'disabled')", name="status_known"),
        CheckConstraint(
            "(status = 'enabled') = (disabled_reason IS NULL)", name="disabled_has_reason"
        ),
        CheckConstraint(
            "disabled_reason IN ('failing', 'gone', 'by_partner', 'by_staff')",
            name="disabled_reason_known",
        ),
        CheckConstraint("cardinality(event_types) >= 1", name="hears_something"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    partner_id: Mapped[str] = mapped_column(Text, index=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    status: Mapped[str] = mapped_column(Text)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # When the first of the current run of failed attempts happened; cleared by a success.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookSecret(Base):
    """A signing secret of an endpoint, encrypted at rest; the current one has no end."""

    __tablename__ = "webhook_secrets"
    __table_args__ = (
        # One current secret per endpoint (onboarding.webhooks.service.rotate_secret).
        Index(
            "uq_webhook_secrets_current",
            "endpoint_id",
            unique=True,
            postgresql_where="expires_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One message to one endpoint, kept until delivered and after (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The values of onboarding.webhooks.rules.DeliveryStatus.
        CheckConstraint("status IN ('pending', 'delivered')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_counted"),
        # An event is announced to an endpoint once, however often it is handled.
        UniqueConstraint("endpoint_id", "message_id", name="uq_webhook_deliveries_message"),
        # The head of each (endpoint, subject) line, and what falls due.
        Index(
            "ix_webhook_deliveries_line",
            "endpoint_id",
            "subject",
            "seq",
            postgresql_where="status = 'pending'",
        ),
        Index(
            "ix_webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"
        ),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    id: Mapped[UUID] = mapped_column(unique=True)
    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    message_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class WebhookAttempt(Base):
    """One try at sending a delivery: when, the answer, how long (append-only)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean)


class FundBacker(Base):
    """A municipality whose grant backs a fund: it hears the fund's news from the grant on."""

    __tablename__ = "fund_backers"

    award_id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    municipality_code: Mapped[str] = mapped_column(Text)


class AuditRecord(AuditTrail, Base):
    """Every change staff may need to trace: who did what to which record (append-only)."""


metadata = Base.metadata
