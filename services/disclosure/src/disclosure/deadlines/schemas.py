"""Response models of reporting deadlines."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from disclosure.deadlines.rules import DeadlineStatus, OverdueItem


class DeadlineOut(BaseModel):
    """When one report of a fund is due, and where it stands."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9d2e4f6a-8b0c-4d1e-a3f5-7b9c1d3e5f70",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "item": "sales_report",
                    "number": 2,
                    "covers_from": "2027-04-01",
                    "covers_to": "2027-09-30",
                    "due_on": "2027-11-30",
                    "status": "met",
                    "overdue_at": None,
                    "met_at": "2027-10-28T16:05:00+09:00",
                }
            ]
        }
    )

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
