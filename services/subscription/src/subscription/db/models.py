"""Subscription's tables.

The inventory is enforced by the database: ``offerings.units_sold`` never exceeds
``units_offered`` and an investor's ``positions.units`` never exceeds the fund's
maximum per investor, each changed by one conditional statement; the yearly
limit per issuer is summed from ``subscriptions`` while the investor's
``issuer_commitments`` row is locked. So no interleaving of requests can
oversell or overcommit.
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
    LargeBinary,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import AuditTrail, created_at_column, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Offering(Base):
    """A fund on offer to investors, created from ``FundOpened``."""

    __tablename__ = "offerings"
    __table_args__ = (
        # Never more units sold than offered (subscriptions.rules.check_units_left).
        CheckConstraint(
            "units_sold >= 0 AND units_sold <= units_offered", name="units_within_offer"
        ),
        CheckConstraint(
            "units_confirmed >= 0 AND units_confirmed <= units_sold", name="confirmed_within_sold"
        ),
        # offerings.rules.OfferingStatus
        CheckConstraint(
            "status IN ('open', 'closed_succeeded', 'closed_failed', 'cancelled')",
            name="status_known",
        ),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    handling_fee_per_unit: Mapped[int] = mapped_column(BigInteger)
    donation_per_unit: Mapped[int] = mapped_column(BigInteger, server_default="0")
    units_offered: Mapped[int] = mapped_column(Integer)
    units_sold: Mapped[int] = mapped_column(Integer, default=0)
    units_confirmed: Mapped[int] = mapped_column(Integer, server_default="0")
    investors: Mapped[int] = mapped_column(Integer, default=0)
    formation_threshold_units: Mapped[int] = mapped_column(Integer)
    max_units_per_investor: Mapped[int] = mapped_column(Integer)
    offering_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offering_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    terms_digest: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The ``FundOpened`` payload (v2 and later) the distributions are computed from."""
    status: Mapped[str] = mapped_column(Text, server_default="open")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_by_event: Mapped[UUID] = mapped_column()
    created_at: Mapped[datetime] = created_at_column()


class Investor(Base):
    """An investor member; personal details and payout account encrypted at rest."""

    __tablename__ = "investors"
    __table_args__ = (
        # investors.rules.VerificationStatus
        CheckConstraint(
            "verification IN ('unverified', 'pending', 'verified', 'rejected')",
            name="verification_known",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    verifying_bank_id: Mapped[str | None] = mapped_column(Text)
    """The partner bank the investor chose to check its identity (a partner id, not personal)."""
    verification: Mapped[str] = mapped_column(Text)
    verified_by: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_note: Mapped[str | None] = mapped_column(Text)
    risk_notice_version: Mapped[str | None] = mapped_column(Text)
    risk_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    personal: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class Subscription(Base):
    """An investor's reservation of units: placed, then confirmed (paid) or cancelled;
    a paid one is refunded when its fund fails to form."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        # subscriptions.rules.SubscriptionStatus (its transitions: rules.next_status)
        CheckConstraint(
            "status IN ('placed', 'confirmed', 'cancelled', 'refunded')", name="status_known"
        ),
        # A refunded subscription was paid, and says when and why
        # (subscriptions.rules.failed_fund_refund).
        CheckConstraint(
            "(status = 'refunded') = (refund_reason IS NOT NULL AND refunded_at IS NOT NULL) "
            "AND (status <> 'refunded' OR amount_paid IS NOT NULL)",
            name="refund_recorded",
        ),
        CheckConstraint(
            "refund_reason IS NULL OR refund_reason IN ('fund_failed')", name="refund_reason_known"
        ),
        # The expiry timer's claim (subscriptions.rules.is_overdue).
        Index("ix_subscriptions_due", "payment_deadline", postgresql_where="status = 'placed'"),
        Index("ix_subscriptions_fund_status", "fund_id", "status"),
        Index("ix_subscriptions_investor", "investor_id", "placed_at", "id"),
        # The per-issuer limit sums these (subscriptions.store.ADD_SUBSCRIPTION_COUNTING_ISSUER);
        # the statuses are subscriptions.rules.LIVE_STATUSES.
        Index(
            "ix_subscriptions_issuer_window",
            "investor_id",
            "msme_id",
            "placed_at",
            postgresql_where="status IN ('placed', 'confirmed')",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"))
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"))
    msme_id: Mapped[UUID] = mapped_column()
    units: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    handling_fee_per_unit: Mapped[int] = mapped_column(BigInteger)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str] = mapped_column(Text, unique=True)
    payment_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cooling_off_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    terms_digest: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    amount_paid: Mapped[int | None] = mapped_column(BigInteger)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    refund_reason: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Position(Base):
    """Units an investor holds or has reserved in one fund (placed and confirmed)."""

    __tablename__ = "positions"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)


class IssuerCommitment(Base):
    """One row per investor and issuer (MSME), locked by every subscription between them
    until it commits, so the yearly limit is checked on a sum no concurrent order can change.
    """

    __tablename__ = "issuer_commitments"

    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(primary_key=True)
    last_placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Holding(Base):
    """The frozen register of a formed fund: who holds how many units (append-only)."""

    __tablename__ = "holdings"
    __table_args__ = (CheckConstraint("units > 0", name="units_positive"),)

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    frozen_at: Mapped[datetime] = created_at_column()


class ReportedSales(Base):
    """A period's approved sales, as disclosure announced them (``SalesReported``)."""

    __tablename__ = "reported_sales"

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[UUID] = mapped_column()
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    sales: Mapped[int] = mapped_column(BigInteger)
    adjustment: Mapped[int] = mapped_column(BigInteger)
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Distribution(Base):
    """A period's declared distribution (``DividendDeclared``): once per fund and period."""

    __tablename__ = "distributions"
    __table_args__ = (
        # distributions.rules: gross and retained add up to D; net is gross less tax
        CheckConstraint(
            "total_gross + retained = distributable_amount", name="gross_and_retained_add_up"
        ),
        CheckConstraint("total_gross - total_tax = total_net", name="net_is_gross_less_tax"),
        # distributions.fees: the fees due are settled first, then the gross and success fee
        CheckConstraint(
            "business_owes = fees_total + total_gross + success_fee", name="owes_adds_up"
        ),
    )

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    sales: Mapped[int] = mapped_column(BigInteger)
    adjustment: Mapped[int] = mapped_column(BigInteger)
    cumulative_sales: Mapped[int] = mapped_column(BigInteger)
    distributable_sales: Mapped[int] = mapped_column(BigInteger)
    below_recoup: Mapped[int] = mapped_column(BigInteger)
    above_recoup: Mapped[int] = mapped_column(BigInteger)
    distributable_amount: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(Integer)
    per_unit: Mapped[int] = mapped_column(BigInteger)
    retained: Mapped[int] = mapped_column(BigInteger)
    success_fee: Mapped[int] = mapped_column(BigInteger)
    investor_count: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[int] = mapped_column(BigInteger)
    total_tax: Mapped[int] = mapped_column(BigInteger)
    total_net: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    """The operation and audit fees charged with this period (``kumiai.contracts.FeeDue``)."""
    fees_total: Mapped[int] = mapped_column(BigInteger, server_default="0")
    business_owes: Mapped[int] = mapped_column(BigInteger)
    payment_reference: Mapped[str | None] = mapped_column(Text, unique=True)
    payment_due: Mapped[date | None] = mapped_column(Date)
    matures: Mapped[bool] = mapped_column(Boolean)
    declared_at: Mapped[datetime] = created_at_column()


class DistributionLine(Base):
    """One investor's share of a declared distribution: its statement line (append-only)."""

    __tablename__ = "distribution_lines"
    __table_args__ = (
        Index("ix_distribution_lines_investor", "investor_id", "fund_id", "period_number"),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    gross: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    cumulative_gross: Mapped[int] = mapped_column(BigInteger)
    cumulative_tax: Mapped[int] = mapped_column(BigInteger)
    remaining_to_recoup: Mapped[int] = mapped_column(BigInteger)
    perk: Mapped[str | None] = mapped_column(Text)


class DistributionPayment(Base):
    """A declared distribution the ledger paid out (``DistributionPaid``; append-only)."""

    __tablename__ = "distribution_payments"

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[str | None] = mapped_column(Text)
    """The partner bank that sends the payouts (the one the business paid through)."""
    deposit_id: Mapped[UUID | None] = mapped_column()
    payout_count: Mapped[int] = mapped_column(Integer)
    total_net: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = created_at_column()


class PayoutInstruction(Base):
    """A payout the ledger instructed a partner bank to send to an investor (append-only)."""

    __tablename__ = "payout_instructions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payout_instructions_investor_bank", "investor_id", "bank_id", "instructed_at"),
        Index(
            "ix_payout_instructions_distribution",
            "fund_id",
            "period_number",
            postgresql_where="period_number IS NOT NULL",
        ),
    )

    payout_id: Mapped[UUID] = mapped_column(primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"))
    bank_id: Mapped[str] = mapped_column(Text)
    fund_id: Mapped[UUID | None] = mapped_column()
    period_number: Mapped[int | None] = mapped_column(Integer)
    """The distribution period it pays (``DistributionPayoutsInstructed``); null for refunds."""
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    instructed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = created_at_column()


class AuditRecord(AuditTrail, Base):
    """Every time staff were given investors' personal details (append-only)."""


class TransferFileRead(Base):
    """A bulk transfer file someone was given: who, for which distribution, and every
    payout (and so every investor's account) it disclosed (append-only)."""

    __tablename__ = "transfer_file_reads"
    __table_args__ = (
        CheckConstraint("reader_role IN ('staff', 'bank')", name="reader_role_known"),
        CheckConstraint(
            "cardinality(payout_ids) = cardinality(investor_ids)", name="a_payout_an_investor"
        ),
        Index("ix_transfer_file_reads_investor_ids", "investor_ids", postgresql_using="gin"),
        Index("ix_transfer_file_reads_distribution", "fund_id", "period_number"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column()
    period_number: Mapped[int] = mapped_column(Integer)
    reader_role: Mapped[str] = mapped_column(Text)
    reader_tenant: Mapped[str] = mapped_column(Text)
    reader_subject: Mapped[str] = mapped_column(Text)
    payout_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    investor_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    """In the order of ``payout_ids``: whose account each payout disclosed."""
    sha256: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime] = created_at_column()


class PayoutAccountRead(Base):
    """Who read an investor's payout account, when, and for which payout (append-only)."""

    __tablename__ = "payout_account_reads"
    __table_args__ = (
        CheckConstraint("reader_role IN ('investor', 'staff', 'bank')", name="reader_role_known"),
        # A bank reads an account only to send a payout it was instructed
        # (investors.rules.may_read_payout_account).
        CheckConstraint("reader_role <> 'bank' OR payout_id IS NOT NULL", name="bank_names_payout"),
        Index("ix_payout_account_reads_investor", "investor_id", "read_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"))
    payout_id: Mapped[UUID | None] = mapped_column(ForeignKey("payout_instructions.payout_id"))
    reader_role: Mapped[str] = mapped_column(Text)
    reader_tenant: Mapped[str] = mapped_column(Text)
    reader_subject: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime] = created_at_column()


metadata = Base.metadata
