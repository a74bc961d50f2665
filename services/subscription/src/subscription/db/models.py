"""Subscription's tables.

The inventory is enforced by the database: ``offerings.units_sold`` never exceeds
``units_offered``, an investor's ``positions.units`` never exceeds the fund's
maximum per investor, and ``issuer_commitments.amount`` never exceeds the yearly
limit; each is changed by one conditional statement, so no interleaving of
requests can oversell.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import created_at_column, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Offering(Base):
    """A fund on offer to investors, created from ``FundOpened``."""

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(
            "units_sold >= 0 AND units_sold <= units_offered", name="units_within_offer"
        ),
        CheckConstraint(
            "units_confirmed >= 0 AND units_confirmed <= units_sold", name="confirmed_within_sold"
        ),
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
    status: Mapped[str] = mapped_column(Text, server_default="open")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_by_event: Mapped[UUID] = mapped_column()
    created_at: Mapped[datetime] = created_at_column()


class Investor(Base):
    """An investor member; personal details and payout account encrypted at rest."""

    __tablename__ = "investors"
    __table_args__ = (
        CheckConstraint(
            "verification IN ('unverified', 'pending', 'verified', 'rejected')",
            name="verification_known",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    verification: Mapped[str] = mapped_column(Text)
    verified_by: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_note: Mapped[str | None] = mapped_column(Text)
    risk_notice_version: Mapped[str | None] = mapped_column(Text)
    risk_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    personal: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class Subscription(Base):
    """An investor's reservation of units: placed, then confirmed (paid) or cancelled."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("status IN ('placed', 'confirmed', 'cancelled')", name="status_known"),
        Index("ix_subscriptions_due", "payment_deadline", postgresql_where="status = 'placed'"),
        Index("ix_subscriptions_fund_status", "fund_id", "status"),
        Index("ix_subscriptions_investor", "investor_id", "placed_at", "id"),
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
    commitment_year: Mapped[int] = mapped_column(Integer)
    terms_digest: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    amount_paid: Mapped[int | None] = mapped_column(BigInteger)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Position(Base):
    """Units an investor holds or has reserved in one fund (placed and confirmed)."""

    __tablename__ = "positions"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)


class IssuerCommitment(Base):
    """What an investor has committed to one issuer (MSME) in a calendar year (Japan time)."""

    __tablename__ = "issuer_commitments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class Holding(Base):
    """The frozen register of a formed fund: who holds how many units (append-only)."""

    __tablename__ = "holdings"
    __table_args__ = (CheckConstraint("units > 0", name="units_positive"),)

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("offerings.fund_id"), primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(ForeignKey("investors.id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    frozen_at: Mapped[datetime] = created_at_column()


metadata = Base.metadata
