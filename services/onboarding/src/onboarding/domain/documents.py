"""The document checklist of an application (pure; DOMAIN.md, "Onboarding")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class DocumentStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    title: str
    required: bool = True


CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("tax_returns", "Corporate tax returns (last 12 months)"),
    ChecklistItem("trial_balance", "Latest monthly trial balance"),
    ChecklistItem("borrowings", "Contracts and repayment schedules of bank borrowings"),
    ChecklistItem("ceo_cv", "CEO's CV"),
    ChecklistItem("affiliates_statements", "Affiliates' last financial statements"),
    ChecklistItem("cash_flow", "Cash-flow statement"),
    ChecklistItem("business_plan", "Business plan (whole company and the funded project)"),
    ChecklistItem("company_register", "Certified copy of the company register"),
    ChecklistItem("bank_book", "Bank book copy (as needed)", required=False),
    ChecklistItem("brochure", "Corporate brochure"),
    ChecklistItem("financial_statements", "Financial statements with details, last 3 years"),
)
KINDS: Mapping[str, ChecklistItem] = {item.kind: item for item in CHECKLIST}


def missing_documents(current: Mapping[str, DocumentStatus]) -> list[str]:
    """Required kinds whose current version is not accepted (checklist order)."""
    return [
        item.kind
        for item in CHECKLIST
        if item.required and current.get(item.kind) is not DocumentStatus.ACCEPTED
    ]


class ReviewRefused(ValueError):
    pass


def check_review(status: DocumentStatus) -> None:
    """Only a submitted, current version can be accepted or rejected."""
    if status is not DocumentStatus.SUBMITTED:
        raise ReviewRefused(f"the document is {status.value}; only a submitted one is reviewed")


def check_replacement(current: DocumentStatus | None) -> None:
    """A new version may replace a rejected or still unreviewed one, never an accepted one."""
    if current is DocumentStatus.ACCEPTED:
        raise ReviewRefused("an accepted document is not replaced")
