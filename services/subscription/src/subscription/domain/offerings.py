"""An offering's phase over its window (pure)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class OfferingPhase(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    SOLD_OUT = "sold_out"
    ENDED = "ended"


def offering_phase(
    *, now: datetime, start: datetime, end: datetime, units_sold: int, units_offered: int
) -> OfferingPhase:
    """Where an offering stands at ``now``: before, during, sold out, or after its window."""
    if now < start:
        return OfferingPhase.SCHEDULED
    if now >= end:
        return OfferingPhase.ENDED
    if units_sold >= units_offered:
        return OfferingPhase.SOLD_OUT
    return OfferingPhase.OPEN


def days_left(*, now: datetime, end: datetime) -> int:
    """Whole days until the offering ends (0 once it has ended), rounded up."""
    seconds = (end - now).total_seconds()
    if seconds <= 0:
        return 0
    return int(-(-seconds // 86_400))
