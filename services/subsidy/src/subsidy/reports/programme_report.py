"""Response models of the per-programme report: its budget and awards used and left, and
every applicant with its score, rank and award (the leverage report's are in
``schemas.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from subsidy.applications.rules import ApplicationStatus
from subsidy.awards.rules import AwardStatus


class ApplicantAwardOut(BaseModel):
    """The award an applicant received."""

    award_id: UUID
    fund_id: UUID
    amount: int
    status: AwardStatus
    granted_at: datetime
    repayment_due: int | None


class ApplicantOut(BaseModel):
    """One applicant of the programme."""

    programme_application_id: UUID
    application_id: UUID = Field(description="The business's onboarding application")
    msme_id: UUID
    municipality_code: str
    status: ApplicationStatus
    score: str | None = Field(description="Points out of 100, two decimals, rounded down")
    score_centi: int | None
    rank: int | None = Field(description="By score, best first (ties share a rank)")
    reviewers: int
    passed: bool
    award: ApplicantAwardOut | None


class ProgrammeReportOut(BaseModel):
    """Where a programme stands: budget and awards used and left, and its applicants by
    score."""

    programme_id: UUID
    municipality_code: str
    name: str
    fiscal_year: int
    currency: Literal["JPY"] = "JPY"
    budget: int
    used: int = Field(description="Reserved by the live awards, yen")
    left: int = Field(description="Budget left, yen")
    max_awards: int
    awards_used: int = Field(description="Live awards")
    awards_left: int
    pass_mark: int
    reviewers_required: int
    applications_close_at: datetime
    applicants: list[ApplicantOut] = Field(description="Best score first, unscored last")
