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


class ApplyIn(RequestBody):
    """A business applies to a programme with its onboarding application."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "summary": "Investors are invited to taste the first seasonal beer.",
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
        json_schema_extra={"examples": [{"reason": "The bank statement is for the wrong month"}]}
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
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "programme_id": "b6bb55d8-a7e1-5837-b765-39fcdf61e51b",
                    "application_id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "municipality_code": "012025",
                    "summary": "Investors are invited to taste the first seasonal beer.",
                    "status": "applied",
                    "score": "72.75",
                    "score_centi": 7275,
                    "reviewers": 1,
                    "passed": True,
                    "applied_by": "staff-0001",
                    "applied_at": "2026-11-20T10:15:00+09:00",
                    "decline_reason": None,
                    "declined_by": None,
                    "declined_at": None,
                    "sheets": [
                        {
                            "reviewer": "staff-0002",
                            "reviewer_role": "municipality",
                            "marks": [
                                {
                                    "criterion": "local_demand",
                                    "mark": 75,
                                    "comment": "A clear plan with local demand",
                                }
                            ],
                            "comment": "A clear plan with local demand",
                            "reviewed_at": "2026-11-20T10:15:00+09:00",
                        }
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
