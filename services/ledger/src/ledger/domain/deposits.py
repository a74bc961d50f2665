"""What a partner bank's deposit report must look like to be booked (pure: no I/O)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kumiai.periods import japan_date, one_year_before

VALUE_DATE_DAYS_AHEAD = 1
"""A value date may be at most this many days after today in Japan (a bank a time zone
behind, or a report sent just before midnight, may already book tomorrow)."""


class ImplausibleValueDate(ValueError):
    """A value date no bank would report for money it received."""


def value_date_window(now: datetime) -> tuple[date, date]:
    """The first and last value date accepted at ``now``: a year ago to tomorrow, Japan time.

    "A year ago" is the regulation's past year (``kumiai.periods.one_year_before``).
    """
    today = japan_date(now)
    return japan_date(one_year_before(now)), today + timedelta(days=VALUE_DATE_DAYS_AHEAD)


def check_value_date(value_date: date, *, now: datetime) -> None:
    """Refuse a value date after tomorrow or more than a year ago (Japan time)."""
    earliest, latest = value_date_window(now)
    if value_date > latest:
        raise ImplausibleValueDate(f"value date {value_date} is after {latest}: not received yet")
    if value_date < earliest:
        raise ImplausibleValueDate(
            f"value date {value_date} is before {earliest}, more than a year ago"
        )
