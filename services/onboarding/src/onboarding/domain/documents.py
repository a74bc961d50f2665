"""The document checklist of an application (pure; DOMAIN.md, "Onboarding")."""

from __future__ import annotations

import unicodedata
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


class InvalidFilename(ValueError):
    pass


# Control, format (bidirectional overrides, zero-width), surrogate, private-use and
# unassigned characters: none belongs in a file name a person reads.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
MAX_FILENAME = 200


def check_filename(name: str) -> str:
    """A document's file name as the business knows it: printable, no folders, at most 200."""
    if not 1 <= len(name) <= MAX_FILENAME:
        raise InvalidFilename(f"must be 1 to {MAX_FILENAME} characters")
    if name != name.strip() or name.strip(".") == "":
        raise InvalidFilename("must not start or end with spaces, nor be only dots")
    for char in name:
        if char in "/\\":
            raise InvalidFilename("must not contain / or \\")
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidFilename(f"must not contain the character U+{ord(char):04X}")
    return name
