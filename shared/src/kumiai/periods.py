"""Business time: Japan's calendar, the "past year" of the limits, the end of a day,
the government fiscal year.

Business dates (fiscal years, cooling-off deadlines, yearly limits) are in
Japan time; stored timestamps stay timezone-aware.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")


def japan_date(at: datetime) -> date:
    """The calendar day in Japan at the instant ``at``."""
    return at.astimezone(JAPAN).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in Japan."""
    return datetime.combine(day, time.min, tzinfo=JAPAN)


def one_year_before(at: datetime) -> datetime:
    """The same instant one calendar year earlier, in Japan time (29 February -> 28)."""
    local = at.astimezone(JAPAN)
    try:
        return local.replace(year=local.year - 1)
    except ValueError:
        return local.replace(year=local.year - 1, day=28)


def in_past_year(when: datetime, *, at: datetime) -> bool:
    """Whether ``when`` falls in the year before ``at``: the regulation's "past year".

    One definition for every yearly limit: an investor's per-issuer limit
    counts the investor's subscriptions in the 12 months before the new one;
    a business's raise limit counts its funds offered in the 12 months before
    (and, being stricter, after) the new one's opening.
    """
    return one_year_before(at) < when <= at


def end_of_nth_day(start: datetime, days: int) -> datetime:
    """The end of the ``days``-th day in Japan, counting the day of ``start`` as the first.

    A contract signed on 1 December with an 8-day cooling-off period may be
    cancelled until the end of 8 December, Japan time (00:00 on 9 December).
    """
    if days < 1:
        raise ValueError("a period of days counts at least the day itself")
    return start_of_day(japan_date(start) + timedelta(days=days))


_FISCAL_YEAR_FIRST_MONTH = 4  # Public Finance Act art. 11, Local Autonomy Act art. 208


def government_fiscal_year(at: datetime) -> int:
    """The Japanese government fiscal year of the instant ``at``: April to March in Japan
    time, named after the calendar year it starts in (FY2015 runs from 1 April 2015 00:00
    to 31 March 2016 24:00, Japan time).

    A naive ``at`` is refused (ValueError): 31 March 20:00 UTC is already 1 April in
    Japan, so without a zone the year cannot be told.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a fiscal year is asked of an instant: give a timezone-aware datetime")
    local = at.astimezone(JAPAN)
    return local.year if local.month >= _FISCAL_YEAR_FIRST_MONTH else local.year - 1


def government_fiscal_year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of fiscal ``year`` and the first of the next, in Japan time: an
    instant ``at`` is in the year when ``start <= at < end``."""
    return (
        datetime(year, _FISCAL_YEAR_FIRST_MONTH, 1, tzinfo=JAPAN),
        datetime(year + 1, _FISCAL_YEAR_FIRST_MONTH, 1, tzinfo=JAPAN),
    )
