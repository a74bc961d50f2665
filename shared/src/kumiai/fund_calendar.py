"""A fund's calendar (pure): its term, settlement periods and fiscal years, in Japan dates.

The settlement periods end on the last day of the months the terms name
(``fiscal_year_end_month``, and six months before it for half-yearly settlement);
the first runs from the day the fund formed to the first such end after it, the
last ends with the term. A fiscal year is called by the calendar year it ends in.
Disclosure asks for reports by it; subscription charges the fees of each fiscal year.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months; a day the month lacks becomes its last."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def term_end(formed_on: date, term_months: int) -> date:
    """The fund's last day: the day before the same day ``term_months`` later, or the last
    day of that month when it has no such day (Civil Code art. 143: 31 January + 1 month
    ends on 28 or 29 February)."""
    later = add_months(formed_on, term_months)
    if later.day < formed_on.day:
        return later
    return later - timedelta(days=1)


def period_end_months(fiscal_year_end_month: int, periods_per_year: int) -> tuple[int, ...]:
    """The months a settlement period ends in: the fiscal year's last, and for half-yearly
    settlement the one six months before it."""
    if periods_per_year == 1:
        return (fiscal_year_end_month,)
    other = (fiscal_year_end_month + 5) % 12 + 1
    return tuple(sorted({fiscal_year_end_month, other}))


def _ends_after(day: date, months: tuple[int, ...]) -> date:
    """The first month end of ``months`` strictly after ``day``."""
    year = day.year
    while True:
        for month in months:
            end = month_end(year, month)
            if end > day:
                return end
        year += 1


@dataclass(frozen=True)
class Span:
    """A numbered stretch of days the business reports on (both ends included)."""

    number: int
    starts_on: date
    ends_on: date


def settlement_periods(
    *, formed_on: date, term_months: int, fiscal_year_end_month: int, periods_per_year: int
) -> tuple[Span, ...]:
    """Every settlement period of a fund, numbered from 1, covering its term without gap.

    The first ends at the first period end after the day the fund formed (a fund formed on
    a period's last day does not report a one-day period), the last with the term.
    """
    months = period_end_months(fiscal_year_end_month, periods_per_year)
    return tuple(
        Span(number, start, end)
        for number, (start, end, _) in enumerate(_spans(formed_on, term_months, months), 1)
    )


def _spans(
    formed_on: date, term_months: int, months: tuple[int, ...]
) -> list[tuple[date, date, date]]:
    """(first day, last day, the period end it runs to) of each span of the term."""
    last_day = term_end(formed_on, term_months)
    spans: list[tuple[date, date, date]] = []
    start, previous_end = formed_on, formed_on
    while start <= last_day:
        end = _ends_after(previous_end, months)
        spans.append((start, min(end, last_day), end))
        start, previous_end = end + timedelta(days=1), end
    return spans


def fiscal_years(
    *, formed_on: date, term_months: int, fiscal_year_end_month: int
) -> tuple[Span, ...]:
    """The fiscal years the fund lives in, numbered by the calendar year each ends in; the
    first starts when the fund formed and the last ends with its term."""
    return tuple(
        Span(fiscal_end.year, start, end)
        for start, end, fiscal_end in _spans(formed_on, term_months, (fiscal_year_end_month,))
    )
