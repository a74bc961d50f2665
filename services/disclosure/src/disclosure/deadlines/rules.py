"""The rules of reporting deadlines (pure).

Each settlement period's sales report is due a number of months after the period
ends, and each fiscal year's annual report likewise (service settings). A report is
due until the end of its due day in Japan; one not in by then is overdue, which is
announced once (``DisclosureOverdue``). A report that comes in late meets its
deadline all the same, and the record keeps that it was late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from disclosure.funds.rules import add_months, month_end
from kumiai.contracts.disclosure import OverdueItem
from kumiai.periods import start_of_day

__all__ = ["DeadlineStatus", "DueMonths", "OverdueItem", "due_at", "due_on", "is_overdue"]


class DeadlineStatus(StrEnum):
    """Where a deadline stands; ``ck_deadlines_status_known`` lists the same."""

    OPEN = "open"
    MET = "met"
    OVERDUE = "overdue"


def due_on(covers_to: date, months: int) -> date:
    """The last day a report is due: ``months`` after the day its period ends (a period that
    ends on a month's last day is due on the last day of the month ``months`` later)."""
    if covers_to == month_end(covers_to.year, covers_to.month):
        later = add_months(covers_to.replace(day=1), months)
        return month_end(later.year, later.month)
    return add_months(covers_to, months)


def due_at(day: date) -> datetime:
    """The instant a report due on ``day`` becomes overdue: the end of that day in Japan."""
    return start_of_day(day + timedelta(days=1))


def is_overdue(status: DeadlineStatus, deadline: datetime, now: datetime) -> bool:
    """An open deadline whose due day is over (``deadlines.store.claim_overdue`` asks the same
    of the database)."""
    return status is DeadlineStatus.OPEN and deadline <= now


@dataclass(frozen=True)
class DueMonths:
    """How many months after its period a report is due (the service's settings)."""

    sales_report: int = 2
    annual_report: int = 3
