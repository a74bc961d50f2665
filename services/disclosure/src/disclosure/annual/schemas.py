"""Request and response models of annual reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "overview": "A craft brewery in Hakodate making beer from Hokkaido barley.",
                    "use_of_funds": "Two 2,000-litre fermentation tanks and their installation",
                    "confirmation": {
                        "kind": "accountant",
                        "name": "Hakodate Craft Brewery Fund 2027",
                        "registration_number": "12345",
                        "confirmed_on": "2027-10-25",
                    },
                }
            ]
        }
    )

    overview: str = Field(min_length=1, max_length=20_000, description="Business overview")
    use_of_funds: str = Field(
        min_length=1, max_length=20_000, description="How the raised money was spent"
    )
    confirmation: ConfirmationIn | None = None


class AnnualReportOut(BaseModel):
    """An annual report and what it will say (``facts``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "fiscal_year": 2026,
                    "starts_on": "2027-04-01",
                    "ends_on": "2027-09-30",
                    "status": "draft",
                    "facts": {},
                    "total_sales": 12000000,
                    "document_id": "8ac7c7d8-b6e6-508f-8fc3-a441c87f4a91",
                    "published_at": "2026-11-20T10:15:00+09:00",
                }
            ]
        }
    )

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
