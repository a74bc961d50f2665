"""Onboarding's tables."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Fund(Base):
    """A published fund and its frozen terms."""

    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        CheckConstraint("handling_fee_per_unit >= 0", name="fee_not_negative"),
        CheckConstraint(
            "formation_threshold_units > 0 AND formation_threshold_units <= units_offered",
            name="threshold_within_offer",
        ),
        CheckConstraint("offering_end > offering_start", name="window_ordered"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    handling_fee_per_unit: Mapped[int] = mapped_column(BigInteger)
    units_offered: Mapped[int] = mapped_column(Integer)
    formation_threshold_units: Mapped[int] = mapped_column(Integer)
    max_units_per_investor: Mapped[int] = mapped_column(Integer)
    offering_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offering_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


metadata = Base.metadata
