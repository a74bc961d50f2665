"""The rules of what disclosure knows of a fund (pure): its outcome and who holds it.

A fund that formed reports its sales per settlement period and publishes an annual
report per fiscal year, from its formation to the end of its term (DOMAIN.md, rule 3);
the calendar of those (``settlement_periods``, ``fiscal_years``, ``term_end``) is
``kumiai.fund_calendar``'s, shared with subscription, and re-exported here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from kumiai.fund_calendar import (
    Span,
    add_months,
    fiscal_years,
    month_end,
    period_end_months,
    settlement_periods,
    term_end,
)
from kumiai.principal import Principal, Role

__all__ = [
    "FundOutcome",
    "Span",
    "add_months",
    "fiscal_years",
    "has_ended",
    "is_business_of",
    "is_holder",
    "month_end",
    "period_end_months",
    "settlement_periods",
    "term_end",
]


class FundOutcome(StrEnum):
    """How a fund's offering ended; ``ck_funds_outcome_known`` lists the same."""

    FORMED = "formed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def has_ended(span: Span, today: date) -> bool:
    """A period can be reported once its last day is over (in Japan)."""
    return span.ends_on < today


# -- who holds it -----------------------------------------------------------------------


def is_holder(confirmed: bool) -> bool:
    """An investor holds or held a fund once one of its subscriptions was confirmed (paid);
    a later cancellation or refund does not take away what it was told."""
    return confirmed


def is_business_of(principal: Principal, msme_id: UUID | None) -> bool:
    """The caller acts for the business the fund belongs to."""
    return principal.role is Role.MSME and msme_id is not None and principal.tenant == str(msme_id)
