"""Request and response models of sales reports and of a fund's disclosure schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period_number": 2,
                    "sales": 12000000,
                    "breakdown": [
                        {"label": "Sold at the brewery", "amount": 7200000},
                        {"label": "Online shop", "amount": 4800000},
                    ],
                    "adjustment": 0,
                    "adjustment_reason": None,
                    "confirmer_kind": "accountant",
                    "confirmer_name": "Keiko Tanaka, CPA",
                    "registration_number": "12345",
                    "confirmed_on": "2027-10-25",
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "The breakdown leaves out the online shop's sales"}]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2d4f6a8c-0e1b-4a3c-8e5f-7b9d1f3a5c7e",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "period_number": 2,
                    "period_start": "2027-04-01",
                    "period_end": "2027-09-30",
                    "currency": "JPY",
                    "sales": 12000000,
                    "breakdown": [
                        {"label": "Sold at the brewery", "amount": 7200000},
                        {"label": "Online shop", "amount": 4800000},
                    ],
                    "adjustment": 0,
                    "adjustment_reason": None,
                    "confirmation": {
                        "confirmation_id": "94df21ca-97da-5e14-94bd-34c691a70228",
                        "confirmer_kind": "accountant",
                        "confirmer_name": "Keiko Tanaka, CPA",
                        "registration_number": "12345",
                        "confirmed_on": "2027-10-25",
                    },
                    "status": "approved",
                    "submitted_by": "msme:087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "submitted_at": "2027-10-28T16:05:00+09:00",
                    "reviewed_by": "staff-0002",
                    "reviewed_at": "2027-11-24T09:55:00+09:00",
                    "return_reason": None,
                    "document_id": "8ac7c7d8-b6e6-508f-8fc3-a441c87f4a91",
                    "files": [
                        {
                            "id": "c41d7e2a-9b35-4f18-8e6d-2a7b9c0d1e53",
                            "purpose": "confirmation",
                            "filename": "confirmation-2027-h1.pdf",
                            "content_type": "application/pdf",
                            "size": 482133,
                            "sha256": (
                                "9f2c5b3c0d1e4a7f8b6a5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"
                            ),
                            "uploaded_by": "msme:087dbff6-c310-5df2-b21e-cd1f21c575a8",
                            "uploaded_at": "2027-10-28T16:02:00+09:00",
                        }
                    ],
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    # Formed on 28 February 2027, fiscal years ending in March, two settlement
                    # periods a year (the first periods and years of its 36 months shown).
                    "periods": [
                        {
                            "number": 1,
                            "starts_on": "2027-02-28",
                            "ends_on": "2027-03-31",
                            "due_on": "2027-05-31",
                            "deadline_status": "met",
                            "met_at": "2027-05-20T11:00:00+09:00",
                            "overdue_at": None,
                            "report_id": "6a8c0e2f-4b1d-4f3a-9c5e-7d9f1b3d5f71",
                            "report_status": "approved",
                        },
                        {
                            "number": 2,
                            "starts_on": "2027-04-01",
                            "ends_on": "2027-09-30",
                            "due_on": "2027-11-30",
                            "deadline_status": "met",
                            "met_at": "2027-10-28T16:05:00+09:00",
                            "overdue_at": None,
                            "report_id": "2d4f6a8c-0e1b-4a3c-8e5f-7b9d1f3a5c7e",
                            "report_status": "approved",
                        },
                        {
                            "number": 3,
                            "starts_on": "2027-10-01",
                            "ends_on": "2028-03-31",
                            "due_on": "2028-05-31",
                            "deadline_status": "open",
                            "met_at": None,
                            "overdue_at": None,
                            "report_id": None,
                            "report_status": None,
                        },
                    ],
                    "fiscal_years": [
                        {
                            "number": 2027,
                            "starts_on": "2027-02-28",
                            "ends_on": "2027-03-31",
                            "due_on": "2027-06-30",
                            "deadline_status": "met",
                            "met_at": "2027-06-15T10:30:00+09:00",
                            "overdue_at": None,
                        },
                        {
                            "number": 2028,
                            "starts_on": "2027-04-01",
                            "ends_on": "2028-03-31",
                            "due_on": "2028-06-30",
                            "deadline_status": "open",
                            "met_at": None,
                            "overdue_at": None,
                        },
                    ],
                }
            ]
        }
    )

    fund_id: UUID
    periods: list[ScheduledPeriod]
    fiscal_years: list[ScheduledYear]
