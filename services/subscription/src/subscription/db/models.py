"""Subscription's tables."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Offering(Base):
    """A fund on offer to investors, created from ``FundOpened``."""

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(
            "units_sold >= 0 AND units_sold <= units_offered", name="units_within_offer"
        ),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    handling_fee_per_unit: Mapped[int] = mapped_column(BigInteger)
    units_offered: Mapped[int] = mapped_column(Integer)
    units_sold: Mapped[int] = mapped_column(Integer, default=0)
    investors: Mapped[int] = mapped_column(Integer, default=0)
    formation_threshold_units: Mapped[int] = mapped_column(Integer)
    max_units_per_investor: Mapped[int] = mapped_column(Integer)
    offering_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offering_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by_event: Mapped[UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


metadata = Base.metadata
