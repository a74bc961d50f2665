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
                        "name": "Keiko Tanaka, CPA",
                        "registration_number": "12345",
                        "confirmed_on": "2028-05-20",
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
                # The fund's second fiscal year (April to March), from AnnualReportIn's
                # example and the year's approved sales reports and distributions.
                {
                    "id": "e7a1c3d5-2b4f-4a6e-9c8d-0f1e2d3c4b5a",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "fiscal_year": 2028,
                    "starts_on": "2027-04-01",
                    "ends_on": "2028-03-31",
                    "status": "published",
                    "facts": {
                        "fund_name": "Hakodate Craft Brewery Fund 2027",
                        "fiscal_year": 2028,
                        "starts_on": "2027-04-01",
                        "ends_on": "2028-03-31",
                        "overview": "A craft brewery in Hakodate making beer from Hokkaido barley.",
                        "use_of_funds": "Two 2,000-litre fermentation tanks and their installation",
                        "sales": [
                            {
                                "number": 2,
                                "starts_on": "2027-04-01",
                                "ends_on": "2027-09-30",
                                "sales": 12000000,
                                "adjustment": 0,
                            },
                            {
                                "number": 3,
                                "starts_on": "2027-10-01",
                                "ends_on": "2028-03-31",
                                "sales": 9000000,
                                "adjustment": -300000,
                            },
                        ],
                        "distributions": [
                            {"total": 210000, "per_unit": 210, "paid_on": "2027-12-20"},
                            {"total": 111000, "per_unit": 111, "paid_on": None},
                        ],
                        "confirmation": {
                            "kind": "accountant",
                            "name": "Keiko Tanaka, CPA",
                            "registration_number": "12345",
                            "confirmed_on": "2028-05-20",
                        },
                    },
                    "total_sales": 20700000,
                    "document_id": "4b8f2d6a-1c3e-4d5f-8a7b-9c0d1e2f3a4b",
                    "published_at": "2028-06-10T10:00:00+09:00",
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
