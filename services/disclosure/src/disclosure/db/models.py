"""Disclosure's tables.

What the service knows of funds, holdings and distributions comes from
onboarding's, subscription's and the ledger's events (``funds``, ``investments``,
``declared_distributions``, ``paid_distributions``); everything else is its own.
Versions, attachments, reads and the audit trail are append-only: the database
refuses to change or delete them (migration ``2026_11_29_disclosure.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import AuditTrail, StoredFileColumns, created_at_column, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Fund(Base):
    """A fund as disclosure knows it: its terms (``FundOpened``) and its outcome (``FundClosed``).

    Either event may arrive first (they come from two services' topics); the schedule of
    reports is made once both are known and the fund formed.
    """

    __tablename__ = "funds"
    __table_args__ = (
        # funds.rules.FundOutcome
        CheckConstraint("outcome IN ('formed', 'failed', 'cancelled')", name="outcome_known"),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID | None] = mapped_column(index=True)
    name: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The ``FundOpened`` payload as published."""
    terms_digest: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    units_confirmed: Mapped[int | None] = mapped_column(Integer)
    scheduled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()


class Investment(Base):
    """One confirmed (or cancelled) subscription: who holds or held units of which fund."""

    __tablename__ = "investments"
    __table_args__ = (Index("ix_investments_investor_fund", "investor_id", "fund_id"),)

    subscription_id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    investor_id: Mapped[UUID] = mapped_column()
    units: Mapped[int] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeclaredDistribution(Base):
    """A period's distribution as subscription declared it (``DividendDeclared``): what the
    annual report says was distributed; ``paid_on`` once it reached investors (the
    ``DistributionPaid`` of the same period, whichever arrived first)."""

    __tablename__ = "declared_distributions"

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date | None] = mapped_column(Date)
    """Null for the distributions kept before it was (migration ``0005``)."""
    period_end: Mapped[date] = mapped_column(Date)
    distributable_amount: Mapped[int] = mapped_column(BigInteger)
    total_gross: Mapped[int] = mapped_column(BigInteger)
    per_unit: Mapped[int] = mapped_column(BigInteger)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_on: Mapped[date | None] = mapped_column(Date)


class PaidDistribution(Base):
    """A period's distribution as the ledger paid it out (``DistributionPaid``); it may arrive
    before the declaration, and is kept until the two meet."""

    __tablename__ = "paid_distributions"
    __table_args__ = (
        # distributions.rules.NoticeFacts: the figures add up
        CheckConstraint("total_net = total_gross - total_tax", name="net_is_gross_less_tax"),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    msme_id: Mapped[UUID] = mapped_column()
    paid_on: Mapped[date] = mapped_column(Date)
    investor_count: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[int] = mapped_column(BigInteger)
    total_tax: Mapped[int] = mapped_column(BigInteger)
    total_net: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DistributionNotice(Base):
    """The distribution notice published for a fund's period: its key refuses a second one
    (distributions.service.publish_notice_if_due)."""

    __tablename__ = "distribution_notices"

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[UUID] = mapped_column(ForeignKey("documents.id"))


class Document(Base):
    """A disclosure document of a fund; its content lives in its versions."""

    __tablename__ = "documents"
    __table_args__ = (
        # documents.rules.DocumentKind / Visibility / DocumentStatus
        CheckConstraint(
            "kind IN ('offering_document', 'contract', 'fund_news', 'sales_report', "
            "'annual_report', 'distribution_notice', 'audit_report', 'notice')",
            name="kind_known",
        ),
        CheckConstraint(
            "status IN ('draft', 'in_review', 'published', 'retracted')", name="status_known"
        ),
        CheckConstraint(
            "published_visibility IN ('public', 'investors', 'staff')", name="visibility_known"
        ),
        # documents.rules: what readers see is a version that was published
        CheckConstraint(
            "(published_version IS NULL) = (published_at IS NULL)", name="published_consistent"
        ),
        CheckConstraint(
            "status <> 'retracted' OR retraction_reason IS NOT NULL", name="retraction_reasoned"
        ),
        Index("ix_documents_fund_published", "fund_id", "published_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    current_version: Mapped[int] = mapped_column(Integer)
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_title: Mapped[str | None] = mapped_column(Text)
    published_visibility: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retracted_by: Mapped[str | None] = mapped_column(Text)
    retraction_reason: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class DocumentVersion(Base):
    """One immutable version of a document: what it said, its SHA-256, who wrote it and when."""

    __tablename__ = "document_versions"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'investors', 'staff')", name="visibility_known"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )

    document_id: Mapped[UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """What the service made the version from (the terms, a report's figures), if it did."""
    author: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Attachment(StoredFileColumns, Base):
    """A file added to a document (a version lists the attachments it holds)."""

    __tablename__ = "attachments"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    document_id: Mapped[UUID] = mapped_column(ForeignKey("documents.id"), index=True)


class DocumentRead(Base):
    """One read of a document by a signed-in caller (investor-only documents: always)."""

    __tablename__ = "document_reads"
    __table_args__ = (Index("ix_document_reads_reader", "reader", "document_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    document_id: Mapped[UUID] = mapped_column(ForeignKey("documents.id"))
    version: Mapped[int] = mapped_column(Integer)
    reader: Mapped[str] = mapped_column(Text)
    reader_role: Mapped[str] = mapped_column(Text)
    what: Mapped[str] = mapped_column(Text)
    """``document``, ``pdf`` or ``attachment:<id>``."""
    read_at: Mapped[datetime] = created_at_column()


class SalesReport(Base):
    """A business's sales for one settlement period of its fund, as submitted and reviewed."""

    __tablename__ = "sales_reports"
    __table_args__ = (
        # sales.rules.ReportStatus
        CheckConstraint("status IN ('submitted', 'approved', 'returned')", name="status_known"),
        CheckConstraint("sales >= 0", name="sales_not_negative"),
        CheckConstraint("period_number >= 1", name="period_positive"),
        # sales.rules.check_adjustment
        CheckConstraint(
            "adjustment = 0 OR adjustment_reason IS NOT NULL", name="adjustment_reasoned"
        ),
        # sales.rules.check_no_other_report: one live report per fund and period
        Index(
            "uq_sales_reports_live_period",
            "fund_id",
            "period_number",
            unique=True,
            postgresql_where=text("status <> 'returned'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    msme_id: Mapped[UUID] = mapped_column()
    period_number: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    sales: Mapped[int] = mapped_column(BigInteger)
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    adjustment: Mapped[int] = mapped_column(BigInteger)
    adjustment_reason: Mapped[str | None] = mapped_column(Text)
    confirmation_id: Mapped[UUID] = mapped_column()
    confirmer_kind: Mapped[str] = mapped_column(Text)
    confirmer_name: Mapped[str] = mapped_column(Text)
    confirmer_registration: Mapped[str] = mapped_column(Text)
    confirmed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = created_at_column()
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[UUID | None] = mapped_column()


class SalesReportFile(StoredFileColumns, Base):
    """A supporting file of a sales report, or the accountant's signed confirmation."""

    __tablename__ = "sales_report_files"
    __table_args__ = (
        CheckConstraint("purpose IN ('supporting', 'confirmation')", name="purpose_known"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    report_id: Mapped[UUID] = mapped_column(ForeignKey("sales_reports.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)


class AnnualReport(Base):
    """The annual report of a fund for one fiscal year: the business's sections, then published."""

    __tablename__ = "annual_reports"
    __table_args__ = (
        UniqueConstraint("fund_id", "fiscal_year", name="uq_annual_reports_year"),
        CheckConstraint("status IN ('draft', 'published')", name="status_known"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column()
    fiscal_year: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    overview: Mapped[str] = mapped_column(Text)
    use_of_funds: Mapped[str] = mapped_column(Text)
    confirmer_kind: Mapped[str | None] = mapped_column(Text)
    confirmer_name: Mapped[str | None] = mapped_column(Text)
    confirmer_registration: Mapped[str | None] = mapped_column(Text)
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    written_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = created_at_column()
    published_by: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    document_id: Mapped[UUID | None] = mapped_column()


class Deadline(Base):
    """When a report of a fund is due; the overdue timer acts on open ones past due."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("fund_id", "item", "number", name="uq_deadlines_item"),
        CheckConstraint("item IN ('sales_report', 'annual_report')", name="item_known"),
        # deadlines.rules.DeadlineStatus
        CheckConstraint("status IN ('open', 'met', 'overdue')", name="status_known"),
        Index(
            "ix_deadlines_open_due",
            "due_at",
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    msme_id: Mapped[UUID] = mapped_column()
    item: Mapped[str] = mapped_column(Text)
    number: Mapped[int] = mapped_column(Integer)
    covers_from: Mapped[date] = mapped_column(Date)
    covers_to: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, server_default="open")
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRecord(AuditTrail, Base):
    """Every change to a document or a report: who did what to which record (append-only)."""


metadata = Base.metadata
