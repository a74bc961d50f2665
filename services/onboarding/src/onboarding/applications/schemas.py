"""Request and response models of applications: submission, the pipeline, the committee."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import Amount, RequestBody
from kumiai.money import CurrencyCode
from kumiai.principal import Role
from onboarding.applications.rules import Step, Vote


class ApplicationIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "purpose": "New fermentation tanks for a seasonal beer",
                    "amount_sought": 10000000,
                    "currency": "JPY",
                    "use_of_funds": "Two 2,000-litre fermentation tanks and their installation",
                    "business_plan_summary": (
                        "Brew a seasonal beer from local barley and sell it in Hakodate and online."
                    ),
                    "municipality_code": "012025",
                    "introduced_by_municipality": True,
                }
            ]
        }
    )

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
    actor_role: Role
    note: str
    at: datetime


class VoteOut(BaseModel):
    member: str
    vote: Vote
    reason: str
    at: datetime


class ApplicationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "purpose": "New fermentation tanks for a seasonal beer",
                    "amount_sought": 10000000,
                    "currency": "JPY",
                    "use_of_funds": "Two 2,000-litre fermentation tanks and their installation",
                    "business_plan_summary": (
                        "Brew a seasonal beer from local barley and sell it in Hakodate and online."
                    ),
                    "municipality_code": "012025",
                    "referred_by": "hokkaido-bank",
                    "referrer_id": "hokkaido-bank",
                    "step": "submitted",
                    "step_entered_at": "2026-11-20T10:15:00+09:00",
                    "target_days": 1,
                    "overdue_days": None,
                    "allowed_moves": ["submitted"],
                    "missing_documents": ["Missing documents"],
                    "created_at": "2026-11-20T10:15:00+09:00",
                    "history": [
                        {
                            "from_step": "submitted",
                            "to_step": "submitted",
                            "actor": "staff-0001",
                            "actor_role": "staff",
                            "note": "Confirmed with the business by phone",
                            "at": "2026-11-20T10:15:00+09:00",
                        }
                    ],
                    "committee_votes": [
                        {
                            "member": "staff-0003",
                            "vote": "approve",
                            "reason": "The bank statement is for the wrong month",
                            "at": "2026-11-20T10:15:00+09:00",
                        }
                    ],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"to": "submitted", "note": "Confirmed with the business by phone"}]
        }
    )

    to: Step
    note: str = Field(min_length=3, max_length=2_000, description="What happened, in words")


class VoteIn(RequestBody):
    member: str = Field(min_length=1, max_length=100)
    vote: Vote
    reason: str = Field(min_length=3, max_length=2_000)


class DecisionIn(RequestBody):
    """The investment committee's votes; the outcome follows from them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "votes": [
                        {
                            "member": "committee-01",
                            "vote": "approve",
                            "reason": "Steady sales for ten years and strong local support",
                        },
                        {
                            "member": "committee-02",
                            "vote": "approve",
                            "reason": "The tanks' cost is backed by two suppliers' quotes",
                        },
                        {
                            "member": "committee-03",
                            "vote": "approve",
                            "reason": "Recoup is within the term at the planned sales",
                        },
                    ],
                    "note": "Approved at the monthly investment committee",
                }
            ]
        }
    )

    votes: list[VoteIn] = Field(min_length=1, max_length=50)
    note: str = Field(min_length=3, max_length=2_000)
