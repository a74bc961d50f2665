"""Rules of subscribing, cancelling and closing an offering (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kumiai.contracts.subscription import FundOutcome
from kumiai.periods import end_of_nth_day, in_past_year, one_year_before

RISK_NOTICE = (
    "Investing in a fund carries risk. The principal is not guaranteed: returns follow the "
    "business's sales and may be less than what you paid, down to nothing. You have no say in "
    "the business's management, and your rights cannot be transferred to anyone else. "
    "Your loss never exceeds what you paid."
)

STATUTORY_COOLING_OFF_DAYS = 8
"""The shortest cooling-off period the platform may offer (DOMAIN.md), in calendar days."""


class SubscriptionStatus(StrEnum):
    PLACED = "placed"
    """Units reserved; the amount due is awaited by the payment deadline."""
    CONFIRMED = "confirmed"
    """Paid in full; the units count towards the fund."""
    CANCELLED = "cancelled"
    """Withdrawn by the investor or staff, unpaid at the deadline, or its offering withdrawn."""
    REFUNDED = "refunded"
    """Paid, but the fund failed to form: the money goes back and the units never existed."""


LIVE_STATUSES = frozenset({SubscriptionStatus.PLACED, SubscriptionStatus.CONFIRMED})
"""Subscriptions that hold units and count towards the investor's limits."""


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


def issuer_limit_window_start(at: datetime) -> datetime:
    """The instant after which subscriptions count towards the per-issuer limit at ``at``.

    The window is the past year of ``kumiai.periods.in_past_year``. The database
    query (``_COMMITTED_TO_ISSUER`` in ``subscription.subscriptions``) counts every
    live subscription placed after this instant, later ones included: a concurrent
    subscription whose clock ran a moment ahead must count, never slip through.
    """
    return one_year_before(at)


def counts_towards_issuer_limit(
    status: SubscriptionStatus, placed_at: datetime, *, at: datetime
) -> bool:
    """Whether a subscription counts towards its investor's limit for its issuer at ``at``:
    it is live (placed or confirmed) and placed within the past year (or later)."""
    if status not in LIVE_STATUSES:
        return False
    return placed_at > at or in_past_year(placed_at, at=at)


def within_issuer_limit(committed: int, commitment: int, limit: int) -> bool:
    """Whether committing ``commitment`` more to an issuer keeps the investor within ``limit``.

    ``committed`` comes from ``_COMMITTED_TO_ISSUER`` read under the lock of
    ``_LOCK_ISSUER`` (``subscription.subscriptions``), so concurrent subscriptions
    of one investor to one issuer are checked one after another. A limit of 0
    means no limit.
    """
    return limit == 0 or committed + commitment <= limit


def cooling_off_until(
    placed_at: datetime, *, days: int, test_period: timedelta | None = None
) -> datetime:
    """The end of the cooling-off period of a contract made at ``placed_at``.

    The end of the ``days``-th day in Japan, counting the day of the contract;
    ``test_period`` (only ever set in tests and development) replaces the
    calendar rule with a plain duration.
    """
    if test_period is not None:
        return placed_at + test_period
    return end_of_nth_day(placed_at, days)


@dataclass(frozen=True)
class Deadlines:
    payment: datetime
    cooling_off_until: datetime


def deadlines(
    placed_at: datetime,
    *,
    payment: timedelta,
    cooling_off_days: int,
    cooling_off_test_period: timedelta | None = None,
) -> Deadlines:
    """The payment deadline and the end of the cooling-off period of a new subscription."""
    return Deadlines(
        payment=placed_at + payment,
        cooling_off_until=cooling_off_until(
            placed_at, days=cooling_off_days, test_period=cooling_off_test_period
        ),
    )


class CancelRefused(ValueError):
    pass


def check_investor_cancel(
    status: SubscriptionStatus, cooling_off_until: datetime, now: datetime
) -> None:
    """An investor cancels a live subscription only within its cooling-off period."""
    if status not in LIVE_STATUSES:
        raise CancelRefused(f"the subscription is already {status.value}")
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
