"""Request and response models of programmes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, Strict

from kumiai.inputs import Amount, BodyPart, RequestBody
from kumiai.local_government import LocalGovernmentCode
from subsidy.programmes.rules import (
    CRITERION_KEY,
    FIRST_FISCAL_YEAR,
    K_CITY_CRITERIA,
    LAST_FISCAL_YEAR,
    MAX_AWARDS,
    MAX_CRITERIA,
    MAX_NAME,
    MAX_REVIEWERS,
    PPM,
    WEIGHTS_TOTAL,
)


def _in_business_years(at: datetime) -> datetime:
    # Far-off instants would overflow when moved to Japan time; no programme needs them.
    if not FIRST_FISCAL_YEAR <= at.year <= LAST_FISCAL_YEAR:
        raise ValueError(f"must fall between {FIRST_FISCAL_YEAR} and {LAST_FISCAL_YEAR}")
    return at


Instant = Annotated[AwareDatetime, AfterValidator(_in_business_years)]
"""A timezone-aware instant between the years 2000 and 2100."""

FiscalYear = Annotated[int, Strict(), Field(ge=FIRST_FISCAL_YEAR, le=LAST_FISCAL_YEAR)]


class CriterionIn(BodyPart):
    """One scoring criterion and its weight in points."""

    key: str = Field(pattern=CRITERION_KEY, max_length=40, description="What marks are keyed by")
    title: str = Field(min_length=1, max_length=200)
    weight: int = Field(
        strict=True, ge=1, le=WEIGHTS_TOTAL, description="Points; the weights add up to 100"
    )


K_CITY_EXAMPLE: dict[str, Any] = {
    "municipality_code": "012068",
    "name": "K市クラウドファンディング活用支援事業 K City Support Fund",
    "fiscal_year": 2015,
    "currency": "JPY",
    "budget": 5_000_000,
    "max_awards": 5,
    "coverage_ppm": 900_000,
    "cap_per_award": 800_000,
    "applications_open_at": "2015-06-01T00:00:00+09:00",
    "applications_close_at": "2015-07-31T17:00:00+09:00",
    "criteria": [{"key": c.key, "title": c.title, "weight": c.weight} for c in K_CITY_CRITERIA],
    "pass_mark": 60,
    "reviewers_required": 2,
    "lapses_if_fund_fails": True,
}


class ProgrammeIn(RequestBody):
    """A grant programme of a municipality or prefecture for one fiscal year."""

    model_config = ConfigDict(json_schema_extra={"examples": [K_CITY_EXAMPLE]})

    municipality_code: LocalGovernmentCode = Field(
        description="The municipality's or prefecture's local government code (six digits "
        "with its check digit); a municipality creates programmes for its own code only"
    )
    name: str = Field(min_length=1, max_length=MAX_NAME)
    fiscal_year: FiscalYear | None = Field(
        default=None,
        description="April to March, named by the year it starts in; by default the one in "
        "which applications open (Japan time)",
    )
    currency: Literal["JPY"] = "JPY"
    budget: Amount = Field(description="Yen for the whole programme")
    max_awards: int = Field(strict=True, ge=1, le=MAX_AWARDS)
    coverage_ppm: int = Field(
        strict=True,
        ge=1,
        le=PPM,
        description="Share of a business's arrangement fee the programme pays, parts per "
        "million (90 % is 900000)",
    )
    cap_per_award: Amount = Field(description="Most one award pays, yen; at most the budget")
    applications_open_at: Instant
    applications_close_at: Instant = Field(description="After applications_open_at")
    criteria: list[CriterionIn] = Field(
        min_length=1, max_length=MAX_CRITERIA, description="Unique keys; weights add up to 100"
    )
    pass_mark: int = Field(strict=True, ge=0, le=WEIGHTS_TOTAL, description="Points out of 100")
    reviewers_required: int = Field(default=1, strict=True, ge=1, le=MAX_REVIEWERS)
    lapses_if_fund_fails: bool = Field(
        strict=True,
        description="Whether a grant lapses when its fund fails; otherwise the municipality "
        "still owes its share",
    )


class CriterionOut(BaseModel):
    key: str
    title: str
    weight: int


class ProgrammeOut(BaseModel):
    """A programme, with what its awards have used of its budget."""

    # The answer to ProgrammeIn's example once its two awards were made (DOMAIN.md's K City).
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
                    **K_CITY_EXAMPLE,
                    "taking_applications": False,
                    "reserved": 1_600_000,
                    "budget_left": 3_400_000,
                    "awards_count": 2,
                    "awards_left": 3,
                    "created_by": "k-city-officer-01",
                    "created_at": "2015-05-20T09:30:00+09:00",
                }
            ]
        }
    )

    id: UUID
    municipality_code: str
    name: str
    fiscal_year: int
    currency: Literal["JPY"] = "JPY"
    budget: int
    max_awards: int
    coverage_ppm: int
    cap_per_award: int
    applications_open_at: datetime
    applications_close_at: datetime
    taking_applications: bool = Field(description="Whether the window is open now")
    criteria: list[CriterionOut]
    pass_mark: int
    reviewers_required: int
    lapses_if_fund_fails: bool
    reserved: int = Field(description="Amounts of the live awards, yen")
    budget_left: int
    awards_count: int = Field(description="Live awards")
    awards_left: int
    created_by: str
    created_at: datetime
