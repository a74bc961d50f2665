"""Request and response models of sales reports and of a fund's disclosure schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, Strict

from disclosure.deadlines.rules import DeadlineStatus
from disclosure.sales.rules import (
    MIN_REASON,
    REGISTRATION_NUMBER,
    ConfirmerKind,
    FilePurpose,
    ReportStatus,
)
from kumiai.inputs import MAX_AMOUNT, AmountOrZero, BodyPart, Day, RequestBody

MAX_LABEL = 100
MAX_LINES = 50
MAX_REASON = 500
MAX_NAME = 100
MAX_PERIOD = 1_000

Adjustment = Annotated[
    int,
    Strict(),
    Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Signed minor units (JPY: yen)"),
]


class BreakdownLine(BodyPart):
    """One line of a breakdown of the period's sales (a shop, a product line)."""

    label: str = Field(min_length=1, max_length=MAX_LABEL)
    amount: AmountOrZero


class SalesReportIn(RequestBody):
    """A business's sales for one settlement period, confirmed by its accountant."""

    period_number: Annotated[int, Strict(), Field(ge=1, le=MAX_PERIOD)] = Field(
        description="The settlement period, 1 for the fund's first"
    )
    sales: AmountOrZero = Field(description="The period's sales excluding consumption tax, yen")
    breakdown: list[BreakdownLine] | None = Field(
        default=None, max_length=MAX_LINES, description="If given, its amounts add up to sales"
    )
    adjustment: Adjustment = Field(
        default=0, description="Signed correction of earlier periods' sales, yen"
    )
    adjustment_reason: str | None = Field(
        default=None,
        max_length=MAX_REASON,
        description=f"Why: required ({MIN_REASON} characters or more) when adjustment is not 0",
    )
    confirmer_kind: ConfirmerKind = Field(
        description="A certified public accountant or a certified tax accountant"
    )
    confirmer_name: str = Field(min_length=1, max_length=MAX_NAME)
    registration_number: str = Field(
        pattern=REGISTRATION_NUMBER,
        max_length=10,
        description="The confirmer's registration number, digits only (1 to 10)",
    )
    confirmed_on: Day = Field(
        description="Day of the confirmation: after the period ended, not in the future"
    )


class ReturnIn(RequestBody):
    """Why the report goes back to the business."""

    reason: str = Field(min_length=MIN_REASON, max_length=MAX_REASON)


class BreakdownLineOut(BaseModel):
    label: str
    amount: int


class ConfirmationOut(BaseModel):
    """Who confirmed the figures (shown to staff and the fund's business only)."""

    confirmation_id: UUID
    confirmer_kind: ConfirmerKind
    confirmer_name: str
    registration_number: str
    confirmed_on: date


class ReportFileOut(BaseModel):
    """A file of a report (its bytes are kept by the service, never linked)."""

    id: UUID
    purpose: FilePurpose
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class SalesReportOut(BaseModel):
    """A sales report as staff and the fund's business see it."""

    id: UUID
    fund_id: UUID
    msme_id: UUID
    period_number: int
    period_start: date
    period_end: date
    currency: Literal["JPY"] = "JPY"
    sales: int = Field(description="Sales excluding consumption tax, yen")
    breakdown: list[BreakdownLineOut] = Field(description="Empty when none was given")
    adjustment: int = Field(description="Signed correction of earlier periods' sales, yen")
    adjustment_reason: str | None
    confirmation: ConfirmationOut
    status: ReportStatus
    submitted_by: str
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    return_reason: str | None
    document_id: UUID | None = Field(description="The document published on approval")
    files: list[ReportFileOut]


class ScheduledPeriod(BaseModel):
    """One settlement period: when its sales report is due, and the report it has."""

    number: int
    starts_on: date
    ends_on: date
    due_on: date | None = Field(description="Last day the report is due, Japan time")
    deadline_status: DeadlineStatus | None
    met_at: datetime | None
    overdue_at: datetime | None
    report_id: UUID | None = Field(description="The live (submitted or approved) report, if any")
    report_status: ReportStatus | None


class ScheduledYear(BaseModel):
    """One fiscal year (named by the calendar year it ends in) and its annual report's due date."""

    number: int
    starts_on: date
    ends_on: date
    due_on: date | None
    deadline_status: DeadlineStatus | None
    met_at: datetime | None
    overdue_at: datetime | None


class DisclosureScheduleOut(BaseModel):
    """What a formed fund reports and when; empty until the fund formed."""

    fund_id: UUID
    periods: list[ScheduledPeriod]
    fiscal_years: list[ScheduledYear]
