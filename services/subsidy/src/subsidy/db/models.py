"""Subsidy's tables.

What the service knows of businesses' onboarding applications and of funds comes from
onboarding's and subscription's events (``onboarding_applications``, ``funds``);
programmes, applications to them, reviewers' sheets and awards are its own. A
programme's budget counters (``reserved``, ``awards_count``) are written only by the
trigger ``awards_reserve_budget`` on ``awards`` (migration ``2026_11_29_programmes.py``).
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

from kumiai.db import created_at_column, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata


class OnboardingApplicationFact(Base):
    """A business's onboarding application as onboarding's events told it."""

    __tablename__ = "onboarding_applications"
    __table_args__ = (
        # facts.rules.OnboardingStatus
        CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'withdrawn')", name="status_known"
        ),
    )

    application_id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(index=True)
    municipality_code: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FundFact(Base):
    """A fund as onboarding's and subscription's events told it: either may come first
    (``FundClosed`` before ``FundOpened``), so every field but the id may be unknown."""

    __tablename__ = "funds"
    __table_args__ = (
        # facts.rules.FundStatus
        CheckConstraint("status IN ('open', 'formed', 'failed', 'cancelled')", name="status_known"),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    application_id: Mapped[UUID | None] = mapped_column(index=True)
    msme_id: Mapped[UUID | None] = mapped_column()
    name: Mapped[str | None] = mapped_column(Text)
    municipality_code: Mapped[str | None] = mapped_column(Text)
    arrangement_fee: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text, server_default="JPY")
    status: Mapped[str] = mapped_column(Text)
    amount_raised: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Programme(Base):
    """A municipality's grant programme for one fiscal year (programmes.rules)."""

    __tablename__ = "programmes"
    __table_args__ = (
        # awards.rules.check_room: kept by the trigger awards_reserve_budget
        CheckConstraint("reserved BETWEEN 0 AND budget", name="within_budget"),
        CheckConstraint("awards_count BETWEEN 0 AND max_awards", name="within_award_count"),
        # programmes.rules.check_terms and the request's bounds
        CheckConstraint("cap_per_award > 0 AND cap_per_award <= budget", name="cap_within_budget"),
        CheckConstraint("applications_open_at < applications_close_at", name="window_ordered"),
        CheckConstraint("coverage_ppm BETWEEN 1 AND 1000000", name="coverage_in_range"),
        CheckConstraint("max_awards BETWEEN 1 AND 1000", name="max_awards_in_range"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_in_range"),
        CheckConstraint("reviewers_required BETWEEN 1 AND 20", name="reviewers_in_range"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_in_range"),
        CheckConstraint("municipality_code ~ '^[0-9]{6}$'", name="municipality_code_shape"),
        CheckConstraint("currency = 'JPY'", name="currency_known"),
        Index("ix_programmes_year_municipality", "fiscal_year", "municipality_code"),
        Index("ix_programmes_municipality_created", "municipality_code", "created_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    municipality_code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(Text)
    budget: Mapped[int] = mapped_column(BigInteger)
    max_awards: Mapped[int] = mapped_column(Integer)
    coverage_ppm: Mapped[int] = mapped_column(Integer)
    cap_per_award: Mapped[int] = mapped_column(BigInteger)
    applications_open_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applications_close_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """[{key, title, weight}] in the order the programme lists them."""
    pass_mark: Mapped[int] = mapped_column(Integer)
    reviewers_required: Mapped[int] = mapped_column(Integer)
    lapses_if_fund_fails: Mapped[bool] = mapped_column(Boolean)
    reserved: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """Sum of the live awards' amounts: written only by the trigger awards_reserve_budget."""
    awards_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Number of live awards: written only by the trigger awards_reserve_budget."""
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class ProgrammeApplication(Base):
    """A business's application to a programme, with its score (applications.rules)."""

    __tablename__ = "programme_applications"
    __table_args__ = (
        # applications.rules.ApplicationStatus
        CheckConstraint("status IN ('applied', 'declined', 'awarded')", name="status_known"),
        CheckConstraint("score_centi BETWEEN 0 AND 10000", name="score_in_range"),
        CheckConstraint(
            "(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_with_reason"
        ),
        # applications.rules.check_applicant: once per onboarding application and programme
        UniqueConstraint("programme_id", "application_id", name="uq_programme_applications_once"),
        Index("ix_programme_applications_programme_status", "programme_id", "status"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    programme_id: Mapped[UUID] = mapped_column(ForeignKey("programmes.id"))
    application_id: Mapped[UUID] = mapped_column()
    msme_id: Mapped[UUID] = mapped_column(index=True)
    municipality_code: Mapped[str] = mapped_column(Text)
    """The onboarding application's municipality (a prefecture's programme covers several)."""
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    score_centi: Mapped[int | None] = mapped_column(Integer)
    reviewers: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    passed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    applied_by: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = created_at_column()
    decline_reason: Mapped[str | None] = mapped_column(Text)
    declined_by: Mapped[str | None] = mapped_column(Text)
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewSheet(Base):
    """One reviewer's marks and comments for an application; replaced when they review again."""

    __tablename__ = "review_sheets"

    programme_application_id: Mapped[UUID] = mapped_column(
        ForeignKey("programme_applications.id"), primary_key=True
    )
    reviewer: Mapped[str] = mapped_column(Text, primary_key=True)
    reviewer_role: Mapped[str] = mapped_column(Text)
    marks: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """[{criterion, mark, comment}] in the programme's order of criteria."""
    comment: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Award(Base):
    """A grant of a programme to one business's fund (awards.rules)."""

    __tablename__ = "awards"
    __table_args__ = (
        # awards.rules.AwardStatus; the trigger awards_reserve_budget lists the live ones
        CheckConstraint(
            "status IN ('granted', 'paid', 'revoked', 'lapsed', 'repayment_due')",
            name="status_known",
        ),
        # awards.rules.award_amount
        CheckConstraint("amount > 0 AND amount <= arrangement_fee", name="amount_within_fee"),
        CheckConstraint(
            "repayment_due IS NULL OR repayment_due = amount", name="repayment_is_the_amount"
        ),
        # awards.rules.check_fund_free
        Index(
            "uq_awards_live_fund",
            "fund_id",
            unique=True,
            postgresql_where=text("status IN ('granted', 'paid', 'repayment_due')"),
        ),
        UniqueConstraint("programme_application_id", name="uq_awards_application"),
        UniqueConstraint("payment_reference", name="uq_awards_payment_reference"),
        Index("ix_awards_programme_granted", "programme_id", "granted_at", "id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    programme_id: Mapped[UUID] = mapped_column(ForeignKey("programmes.id"))
    programme_application_id: Mapped[UUID] = mapped_column(ForeignKey("programme_applications.id"))
    application_id: Mapped[UUID] = mapped_column()
    fund_id: Mapped[UUID] = mapped_column(index=True)
    msme_id: Mapped[UUID] = mapped_column(index=True)
    municipality_code: Mapped[str] = mapped_column(Text)
    """The programme's: who pays."""
    arrangement_fee: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_note: Mapped[str | None] = mapped_column(Text)
    lapsed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    value_date: Mapped[date | None] = mapped_column(Date)
    deposit_id: Mapped[UUID | None] = mapped_column()
    repayment_due: Mapped[int | None] = mapped_column(BigInteger)
    """What the business must pay back to the municipality, once a paid award ended."""
