"""Subsidy's tables (its domain tables arrive with its own issue)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from kumiai.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


metadata = Base.metadata
