"""Response models of reporting deadlines."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from disclosure.deadlines.rules import DeadlineStatus, OverdueItem


class DeadlineOut(BaseModel):
    """When one report of a fund is due, and where it stands."""

    id: UUID
    fund_id: UUID
    item: OverdueItem
    number: int = Field(description="Settlement period, or fiscal year (the year it ends in)")
    covers_from: date
    covers_to: date
    due_on: date = Field(description="Last day the report is due, Japan time")
    status: DeadlineStatus
    overdue_at: datetime | None = Field(description="When it became overdue, if it did")
    met_at: datetime | None = Field(description="When the report came in")
