"""Events published by the disclosure service (topic ``kumiai.disclosure.events``).

Every event here has the fund id as its subject, so a fund's disclosures reach a
consumer in order. Amounts are integers of the currency's minor unit. No event
names a person: an accountant's confirmation is referred to by its id.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from kumiai.events import EventPayload, registry
from kumiai.inputs import MAX_AMOUNT
from kumiai.money import CurrencyCode


@registry.register
class SalesReported(EventPayload):
    """Staff approved a business's sales for one settlement period of its fund.

    Subject: the fund id. Published exactly once per fund and period. ``sales`` is the
    period's sales excluding consumption tax (0 for a period without sales);
    ``adjustment`` corrects earlier periods' sales (signed), so the fund's cumulative
    sales after this period are the sum of every period's ``sales + adjustment``.
    """

    event_type = "SalesReported"
    schema_version = 1

    report_id: UUID
    fund_id: UUID
    msme_id: UUID
    period_number: int = Field(ge=1, description="1 for the fund's first settlement period")
    period_start: date
    period_end: date
    sales: int = Field(ge=0, le=MAX_AMOUNT, description="Sales excluding consumption tax")
    adjustment: int = Field(
        default=0,
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        description="Signed correction of earlier periods' sales",
    )
    currency: CurrencyCode = "JPY"
    confirmation_id: UUID = Field(description="The accountant's confirmation of the figures")
    approved_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> SalesReported:
        if self.period_end < self.period_start:
            raise ValueError("the period ends before it starts")
        return self


class OverdueItem(StrEnum):
    """What a business failed to disclose in time."""

    SALES_REPORT = "sales_report"
    """The sales report of one settlement period."""
    ANNUAL_REPORT = "annual_report"
    """The annual report of one fiscal year."""


@registry.register
class DisclosureOverdue(EventPayload):
    """A report of a fund was not disclosed by its due date. Subject: the fund id.

    Published once per report; ``number`` is the settlement period (sales reports) or
    the fiscal year (annual reports, the calendar year it ends in).
    """

    event_type = "DisclosureOverdue"
    schema_version = 1

    deadline_id: UUID
    fund_id: UUID
    msme_id: UUID
    item: OverdueItem
    number: int = Field(ge=1)
    covers_from: date
    covers_to: date
    due_on: date = Field(description="The last day (Japan time) the report was due")
    overdue_at: AwareDatetime
