"""An offering's phase and days left (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subscription.domain.offerings import OfferingPhase, days_left, offering_phase

START = datetime(2026, 12, 1, tzinfo=UTC)
END = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("now", "sold", "phase"),
    [
        (START - timedelta(seconds=1), 0, OfferingPhase.SCHEDULED),
        (START, 0, OfferingPhase.OPEN),
        (START + timedelta(days=1), 99, OfferingPhase.OPEN),
        (START + timedelta(days=1), 100, OfferingPhase.SOLD_OUT),
        (END, 10, OfferingPhase.ENDED),
        (END, 100, OfferingPhase.ENDED),
    ],
)
def test_phase(now: datetime, sold: int, phase: OfferingPhase) -> None:
    assert (
        offering_phase(now=now, start=START, end=END, units_sold=sold, units_offered=100) == phase
    )


def test_days_left_round_up_and_stop_at_zero() -> None:
    assert days_left(now=START, end=END) == 10
    assert days_left(now=END - timedelta(hours=1), end=END) == 1
    assert days_left(now=END, end=END) == 0
    assert days_left(now=END + timedelta(days=3), end=END) == 0
