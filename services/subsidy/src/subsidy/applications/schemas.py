"""Request and response models of applications to programmes and their reviews."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import BodyPart, RequestBody
from kumiai.principal import Role
from subsidy.applications.rules import (
    MARK_MAX,
    MAX_COMMENT,
    MAX_REASON,
    MAX_SUMMARY,
    ApplicationStatus,
)
from subsidy.programmes.rules import CRITERION_KEY, K_CITY_CRITERIA, MAX_CRITERIA

SUMMARY_EXAMPLE = "地元の鮭を使った燻製工房の新設 A smokehouse for the city's salmon"
"""Why a K City business (DOMAIN.md) applies to the programme."""


class ApplyIn(RequestBody):
    """A business applies to a programme with its onboarding application."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "a5c7e9b1-3d5f-4a7b-8c9d-1e2f3a4b5c6d",
                    "summary": SUMMARY_EXAMPLE,
                }
            ]
        }
    )

    application_id: UUID = Field(
        description="The business's onboarding application; it must name the programme's "
        "municipality (or one of the programme's prefecture)"
    )
    summary: str = Field(default="", max_length=MAX_SUMMARY, description="Why it applies")


class MarkIn(BodyPart):
    """A reviewer's mark for one criterion, in percent of its weight, and why."""

    criterion: str = Field(pattern=CRITERION_KEY, max_length=40, description="The criterion's key")
    mark: int = Field(strict=True, ge=0, le=MARK_MAX, description="0 to 100 % of the weight")
    comment: str = Field(default="", max_length=MAX_COMMENT)


class ReviewIn(RequestBody):
    """The caller's review sheet: a mark for every criterion of the programme, exactly once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "marks": [
                        {"criterion": c.key, "mark": mark, "comment": ""}
                        for c, mark in zip(K_CITY_CRITERIA, (80, 60, 70, 90), strict=True)
                    ],
                    "comment": "地元の原料を活かした計画 A plan built on local produce",
                }
            ]
        }
    )

    marks: list[MarkIn] = Field(min_length=1, max_length=MAX_CRITERIA)
    comment: str = Field(default="", max_length=MAX_COMMENT)


class DeclineIn(RequestBody):
    """Why the application is passed over."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "The business no longer needs the grant"}]}
    )

    reason: str = Field(min_length=1, max_length=MAX_REASON)


class MarkOut(BaseModel):
    criterion: str
    mark: int
    comment: str


class SheetOut(BaseModel):
    """One reviewer's sheet."""

    reviewer: str = Field(description="The reviewer's token subject")
    reviewer_role: Role
    marks: list[MarkOut]
    comment: str
    reviewed_at: datetime


class ProgrammeApplicationOut(BaseModel):
    """An application to a programme and its score."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                # Scored by two reviewers (the first sheet is ReviewIn's example), then awarded.
                {
                    "id": "5757d112-c5f9-5fd3-b6b7-69c099ee6b6a",
                    "programme_id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
                    "application_id": "a5c7e9b1-3d5f-4a7b-8c9d-1e2f3a4b5c6d",
                    "msme_id": "d2b4f6a8-0c1e-4f3a-9b5d-7e9f1a3c5e70",
                    "municipality_code": "012068",
                    "summary": SUMMARY_EXAMPLE,
                    "status": "awarded",
                    "score": "78.25",
                    "score_centi": 7825,
                    "reviewers": 2,
                    "passed": True,
                    "applied_by": "msme:d2b4f6a8-0c1e-4f3a-9b5d-7e9f1a3c5e70",
                    "applied_at": "2015-07-10T14:00:00+09:00",
                    "decline_reason": None,
                    "declined_by": None,
                    "declined_at": None,
                    "sheets": [
                        {
                            "reviewer": "k-city-officer-01",
                            "reviewer_role": "municipality",
                            "marks": [
                                {"criterion": c.key, "mark": mark, "comment": ""}
                                for c, mark in zip(K_CITY_CRITERIA, (80, 60, 70, 90), strict=True)
                            ],
                            "comment": "地元の原料を活かした計画 A plan built on local produce",
                            "reviewed_at": "2015-08-03T11:00:00+09:00",
                        },
                        {
                            "reviewer": "staff-0002",
                            "reviewer_role": "staff",
                            "marks": [
                                {"criterion": c.key, "mark": mark, "comment": ""}
                                for c, mark in zip(K_CITY_CRITERIA, (70, 80, 60, 80), strict=True)
                            ],
                            "comment": "Sales plan backed by two hotels' orders",
                            "reviewed_at": "2015-08-04T15:30:00+09:00",
                        },
                    ],
                }
            ]
        }
    )

    id: UUID
    programme_id: UUID
    application_id: UUID = Field(description="The business's onboarding application")
    msme_id: UUID
    municipality_code: str = Field(description="The onboarding application's municipality")
    summary: str
    status: ApplicationStatus
    score: str | None = Field(
        description="Points out of 100 with two decimals (weighted mean of the reviewers' "
        "marks, rounded down); null before any review",
        examples=["72.75"],
    )
    score_centi: int | None = Field(description="The score in hundredths of a point")
    reviewers: int = Field(description="Reviewers who scored it")
    passed: bool
    applied_by: str
    applied_at: datetime
    decline_reason: str | None
    declined_by: str | None
    declined_at: datetime | None
    sheets: list[SheetOut] | None = Field(
        description="Reviewers' sheets: for staff and the municipality; null for the business"
    )
