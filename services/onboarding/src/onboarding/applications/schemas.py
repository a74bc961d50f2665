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
                    "introduced_by_municipality": False,
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
    # The answer to the committee's approval (``record_committee_decision``, whose request
    # example gives the votes) of an application the bank referred.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "f962d406-45aa-56e9-bde3-de54530c4aef",
                    "msme_id": "087dbff6-c310-5df2-b21e-cd1f21c575a8",
                    "purpose": "New fermentation tanks for a seasonal beer",
                    "amount_sought": 10000000,
                    "currency": "JPY",
                    "use_of_funds": "Two 2,000-litre fermentation tanks and their installation",
                    "business_plan_summary": (
                        "Brew a seasonal beer from local barley and sell it in Hakodate and online."
                    ),
                    "municipality_code": "012025",
                    "referred_by": "bank",
                    "referrer_id": "hokkaido-bank",
                    "step": "offering_preparation",
                    "step_entered_at": "2026-11-20T10:15:00+09:00",
                    "target_days": 21,
                    "overdue_days": None,
                    "allowed_moves": ["msme_confirmation", "withdrawn", "rejected"],
                    "missing_documents": [],
                    "created_at": "2026-09-01T10:00:00+09:00",
                    "history": [
                        {
                            "from_step": None,
                            "to_step": "initial_meeting",
                            "actor": "hokkaido-bank-api",
                            "actor_role": "bank",
                            "note": "submitted; introduced by bank hokkaido-bank",
                            "at": "2026-09-01T10:00:00+09:00",
                        },
                        {
                            "from_step": "initial_meeting",
                            "to_step": "staff_judgement",
                            "actor": "staff-0001",
                            "actor_role": "staff",
                            "note": "Initial meeting held with the president at the brewery",
                            "at": "2026-09-08T15:00:00+09:00",
                        },
                        {
                            "from_step": "staff_judgement",
                            "to_step": "onsite_interview",
                            "actor": "staff-0001",
                            "actor_role": "staff",
                            "note": "Sales and borrowings within our criteria",
                            "at": "2026-09-15T11:00:00+09:00",
                        },
                        {
                            "from_step": "onsite_interview",
                            "to_step": "project_meeting",
                            "actor": "staff-0001",
                            "actor_role": "staff",
                            "note": "Brewery and tank site visited",
                            "at": "2026-09-24T16:30:00+09:00",
                        },
                        {
                            "from_step": "project_meeting",
                            "to_step": "agreement_and_documents",
                            "actor": "staff-0001",
                            "actor_role": "staff",
                            "note": "Project scope agreed with the business",
                            "at": "2026-10-01T14:00:00+09:00",
                        },
                        {
                            "from_step": "agreement_and_documents",
                            "to_step": "committee_decision",
                            "actor": "staff-0002",
                            "actor_role": "staff",
                            "note": "Every document accepted",
                            "at": "2026-10-27T09:30:00+09:00",
                        },
                        {
                            "from_step": "committee_decision",
                            "to_step": "offering_preparation",
                            "actor": "staff-0002",
                            "actor_role": "staff",
                            "note": "committee approved: Approved at the monthly investment "
                            "committee",
                            "at": "2026-11-20T10:15:00+09:00",
                        },
                    ],
                    "committee_votes": [
                        {
                            "member": "committee-01",
                            "vote": "approve",
                            "reason": "Steady sales for ten years and strong local support",
                            "at": "2026-11-20T10:15:00+09:00",
                        },
                        {
                            "member": "committee-02",
                            "vote": "approve",
                            "reason": "The tanks' cost is backed by two suppliers' quotes",
                            "at": "2026-11-20T10:15:00+09:00",
                        },
                        {
                            "member": "committee-03",
                            "vote": "approve",
                            "reason": "Recoup is within the term at the planned sales",
                            "at": "2026-11-20T10:15:00+09:00",
                        },
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
            "examples": [
                {
                    "to": "staff_judgement",
                    "note": "Initial meeting held with the president at the brewery",
                }
            ]
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
