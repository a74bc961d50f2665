"""Request and response models of applications: submission, the pipeline, the committee."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.inputs import Amount, RequestBody
from kumiai.money import CurrencyCode
from onboarding.applications.rules import Step, Vote


class ApplicationIn(RequestBody):
    purpose: str = Field(min_length=3, max_length=500, description="The project to fund")
    amount_sought: Amount
    currency: CurrencyCode = Field(default="JPY", max_length=3)
    use_of_funds: str = Field(min_length=3, max_length=2_000)
    business_plan_summary: str = Field(min_length=3, max_length=5_000)
    municipality_code: str = Field(
        max_length=6, description="The municipality the project belongs to"
    )
    introduced_by_municipality: bool = Field(
        default=False,
        description="Staff only: the municipality introduced the business (partner introduction)",
    )


class StepOut(BaseModel):
    from_step: Step | None
    to_step: Step
    actor: str
    actor_role: str
    note: str
    at: datetime


class VoteOut(BaseModel):
    member: str
    vote: Vote
    reason: str
    at: datetime


class ApplicationOut(BaseModel):
    id: UUID
    msme_id: UUID
    purpose: str
    amount_sought: int
    currency: str
    use_of_funds: str
    business_plan_summary: str
    municipality_code: str
    referred_by: str | None = Field(description="bank or municipality, when introduced")
    referrer_id: str | None
    step: Step
    step_entered_at: datetime
    target_days: int | None = Field(description="Target days for the current step")
    overdue_days: int | None = Field(description="Days past the step's target, if late")
    allowed_moves: list[Step]
    missing_documents: list[str]
    created_at: datetime
    history: list[StepOut] | None = Field(default=None, description="In the detailed view")
    committee_votes: list[VoteOut] | None = Field(default=None, description="Detailed view")


class TransitionIn(RequestBody):
    to: Step
    note: str = Field(min_length=3, max_length=2_000, description="What happened, in words")


class VoteIn(RequestBody):
    member: str = Field(min_length=1, max_length=100)
    vote: Vote
    reason: str = Field(min_length=3, max_length=2_000)


class DecisionIn(RequestBody):
    """The investment committee's votes; the outcome follows from them."""

    votes: list[VoteIn] = Field(min_length=1, max_length=50)
    note: str = Field(min_length=3, max_length=2_000)
