"""Request and response models of annual reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from disclosure.annual.rules import AnnualStatus
from disclosure.sales.rules import ConfirmerKind
from kumiai.inputs import BodyPart, Day, RequestBody


class ConfirmationIn(BodyPart):
    """The accountant's or tax accountant's confirmation of the year's books."""

    kind: ConfirmerKind
    name: str = Field(min_length=1, max_length=100)
    registration_number: str = Field(
        pattern=r"^[0-9]{1,10}$", description="Registration number with the professional body"
    )
    confirmed_on: Day


class AnnualReportIn(RequestBody):
    """The sections the business writes."""

    overview: str = Field(min_length=1, max_length=20_000, description="Business overview")
    use_of_funds: str = Field(
        min_length=1, max_length=20_000, description="How the raised money was spent"
    )
    confirmation: ConfirmationIn | None = None


class AnnualReportOut(BaseModel):
    """An annual report and what it will say (``facts``)."""

    id: UUID
    fund_id: UUID
    fiscal_year: int = Field(description="The calendar year the fiscal year ends in")
    starts_on: date
    ends_on: date
    status: AnnualStatus
    facts: dict[str, Any] = Field(description="Sections, sales, distributions, confirmation")
    total_sales: int
    document_id: UUID | None = Field(description="The published document, once published")
    published_at: datetime | None
