"""Rules of subscribing, cancelling and closing an offering (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kumiai.contracts.subscription import FundOutcome

JAPAN = ZoneInfo("Asia/Tokyo")

RISK_NOTICE = (
    "Investing in a fund carries risk. The principal is not guaranteed: returns follow the "
    "business's sales and may be less than what you paid, down to nothing. You have no say in "
    "the business's management, and your rights cannot be transferred to anyone else. "
    "Your loss never exceeds what you paid."
)


class SubscriptionStatus(StrEnum):
    PLACED = "placed"
    """Units reserved; the amount due is awaited by the payment deadline."""
    CONFIRMED = "confirmed"
    """Paid in full; the units count towards the fund."""
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Order:
    """What an investor owes for ``units`` of a fund."""

    units: int
    unit_price: int
    handling_fee_per_unit: int

    @property
    def amount_due(self) -> int:
        return self.units * (self.unit_price + self.handling_fee_per_unit)

    @property
    def commitment(self) -> int:
        """What counts towards the yearly limit per issuer: the units' price, fees excluded."""
        return self.units * self.unit_price


def commitment_year(at: datetime) -> int:
    """The calendar year, Japan time, that a commitment made ``at`` counts in."""
    return at.astimezone(JAPAN).year


@dataclass(frozen=True)
class Deadlines:
    payment: datetime
    cooling_off_until: datetime


def deadlines(placed_at: datetime, *, payment: timedelta, cooling_off: timedelta) -> Deadlines:
    return Deadlines(payment=placed_at + payment, cooling_off_until=placed_at + cooling_off)


class CancelRefused(ValueError):
    pass


def check_investor_cancel(
    status: SubscriptionStatus, cooling_off_until: datetime, now: datetime
) -> None:
    """An investor cancels a live subscription only within its cooling-off period."""
    if status is SubscriptionStatus.CANCELLED:
        raise CancelRefused("the subscription is already cancelled")
    if now >= cooling_off_until:
        raise CancelRefused(f"the cooling-off period ended at {cooling_off_until.isoformat()}")


def outcome(units_confirmed: int, threshold: int) -> FundOutcome:
    """A fund forms when its confirmed units reach the formation threshold."""
    return FundOutcome.SUCCEEDED if units_confirmed >= threshold else FundOutcome.FAILED


def may_close(
    *,
    now: datetime,
    offering_end: datetime,
    sold_out: bool,
    unpaid: int,
    cooling_off_pending: int,
) -> bool:
    """An offering closes at its end, or earlier once sold out, fully paid and past every
    cooling-off period; never while a subscription awaits payment or may still be cancelled.
    """
    if unpaid or cooling_off_pending:
        return False
    return now >= offering_end or sold_out
