"""Response models of the reports. Amounts are integers of yen; the leverage ratio is a
decimal string ("7.4"), so no client reads it through a binary float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from kumiai.money import CurrencyCode
from subsidy.reports.rules import LeverageLine, LeverageTable

_RATIO_DESCRIPTION = (
    "Money raised / subsidy paid, rounded down to one decimal; null while no subsidy was paid"
)

Ratio = Annotated[
    Decimal,
    PlainSerializer(lambda ratio: f"{ratio:f}", return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]+\.[0-9]$", "examples": ["7.4"]},
    ),
]
"""Raised / subsidy paid, rounded down to one decimal, written as a JSON string ("7.4")."""

Yen = Annotated[int, Field(ge=0, description="Whole yen")]


class LeverageLineOut(BaseModel):
    """One programme's leverage: the funds it subsidised that formed, the money they
    raised, the subsidy granted and paid, and the ratio."""

    programme_id: UUID
    municipality_code: str = Field(description="Local government code of the programme's owner")
    name: str
    fiscal_year: int = Field(description="Japanese government fiscal year (April to March)")
    currency: CurrencyCode
    funds: int = Field(ge=0, description="Subsidised funds that formed")
    raised: Yen = Field(description="Money raised by the subsidised funds that formed")
    subsidy_granted: Yen = Field(description="Subsidy of the live awards, granted or paid")
    subsidy_paid: Yen = Field(
        description="Subsidy the municipality has paid (its transfers received)"
    )
    ratio: Ratio | None = Field(description=_RATIO_DESCRIPTION)


class LeverageTotalOut(BaseModel):
    """The year's total: every programme's figures added up, and the ratio of the sums
    (not an average of the programmes' ratios)."""

    programmes: int = Field(ge=0)
    funds: int = Field(ge=0)
    raised: Yen
    subsidy_granted: Yen
    subsidy_paid: Yen
    ratio: Ratio | None = Field(description=_RATIO_DESCRIPTION)


class LeverageOut(BaseModel):
    """What a fiscal year's subsidies leveraged: one line per programme, then the total."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fiscal_year": 2015,
                    "currency": "JPY",
                    "lines": [
                        {
                            "programme_id": "7b0c5d1e-2f3a-4b5c-8d6e-9f0a1b2c3d4e",
                            "municipality_code": "012025",
                            "name": "K City Support Fund",
                            "fiscal_year": 2015,
                            "currency": "JPY",
                            "funds": 2,
                            "raised": 11_900_000,
                            "subsidy_granted": 1_600_000,
                            "subsidy_paid": 1_600_000,
                            "ratio": "7.4",
                        }
                    ],
                    "total": {
                        "programmes": 1,
                        "funds": 2,
                        "raised": 11_900_000,
                        "subsidy_granted": 1_600_000,
                        "subsidy_paid": 1_600_000,
                        "ratio": "7.4",
                    },
                }
            ]
        },
    )

    fiscal_year: int = Field(description="Japanese government fiscal year (April to March)")
    currency: CurrencyCode
    lines: list[LeverageLineOut]
    total: LeverageTotalOut


def _line_out(line: LeverageLine) -> LeverageLineOut:
    return LeverageLineOut(
        programme_id=line.programme_id,
        municipality_code=line.municipality_code,
        name=line.name,
        fiscal_year=line.fiscal_year,
        currency=line.currency,
        funds=line.funds,
        raised=line.raised,
        subsidy_granted=line.subsidy_granted,
        subsidy_paid=line.subsidy_paid,
        ratio=line.ratio,
    )


def leverage_out(table: LeverageTable) -> LeverageOut:
    """The leverage report as the API answers it."""
    total = table.total
    return LeverageOut(
        fiscal_year=table.fiscal_year,
        currency=table.currency,
        lines=[_line_out(line) for line in table.lines],
        total=LeverageTotalOut(
            programmes=total.programmes,
            funds=total.funds,
            raised=total.raised,
            subsidy_granted=total.subsidy_granted,
            subsidy_paid=total.subsidy_paid,
            ratio=total.ratio,
        ),
    )


PROGRAMME_REPORT_EXAMPLE: dict[str, Any] = {
    "programme_id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
    "municipality_code": "012068",
    "name": "K市クラウドファンディング活用支援事業 K City Support Fund",
    "fiscal_year": 2015,
    "currency": "JPY",
    "budget": 5000000,
    "used": 1600000,
    "left": 3400000,
    "max_awards": 5,
    "awards_used": 2,
    "awards_left": 3,
    "pass_mark": 60,
    "reviewers_required": 2,
    "applications_close_at": "2015-07-31T17:00:00+09:00",
    "applicants": [
        {
            "programme_application_id": "5757d112-c5f9-5fd3-b6b7-69c099ee6b6a",
            "application_id": "a5c7e9b1-3d5f-4a7b-8c9d-1e2f3a4b5c6d",
            "msme_id": "d2b4f6a8-0c1e-4f3a-9b5d-7e9f1a3c5e70",
            "municipality_code": "012068",
            "status": "awarded",
            "score": "78.25",
            "score_centi": 7825,
            "rank": 1,
            "reviewers": 2,
            "passed": True,
            "award": {
                "award_id": "a10d09b8-b49b-5c8f-84e6-496a22adfcd5",
                "fund_id": "7e1f3a5c-9b2d-4c6e-8f0a-2b4d6f8a0c13",
                "amount": 800000,
                "status": "paid",
                "granted_at": "2015-08-10T10:00:00+09:00",
                "repayment_due": None,
            },
        }
    ],
}
"""A programme's report as the frontend receives it (the model lives beside its query)."""
