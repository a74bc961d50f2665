"""The rules of an application's documents (pure; DOMAIN.md, "Onboarding").

A business uploads each item of the due-diligence checklist, in versions; staff
accept a submitted version or reject it with a reason. A new version supersedes
a rejected or unreviewed one, never an accepted one. Documents belong to the
business and staff: partner banks follow an application's progress, never its
files. Documents are PDF, JPEG, PNG, CSV or Office files (``ALLOWED_CONTENT_TYPES``);
that a file is what its type says, within the service's size limit and plainly named
is checked by ``kumiai.files``.

The database holds some of these too (``onboarding.db.models.Document``):
``ck_documents_status_known``, ``uq_documents_version`` and
``ck_documents_size_positive`` (``kumiai.files.check_not_empty``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from kumiai.files import CSV, DOCX, JPEG, PDF, PNG, XLSX, accept
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound, UnprocessableContent
from onboarding.applications.rules import Step


class DocumentStatus(StrEnum):
    """Where one version of a document stands; ``ck_documents_status_known`` lists the same."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


# -- the checklist -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """One kind of document the business submits, and whether it must be accepted."""

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


class UnknownDocumentKind(NotFound):
    problem = "unknown-document-kind"
    title = "No such item on the document checklist"


def check_kind(kind: str) -> str:
    """``kind`` if it is on the checklist; 404 listing the kinds that are."""
    if kind not in KINDS:
        raise UnknownDocumentKind(f"{kind!r} is not on the checklist", kinds=list(KINDS))
    return kind


def missing_documents(current: Mapping[str, DocumentStatus]) -> list[str]:
    """Required kinds whose current version is not accepted (checklist order)."""
    return [
        item.kind
        for item in CHECKLIST
        if item.required and current.get(item.kind) is not DocumentStatus.ACCEPTED
    ]


# -- versions and review -----------------------------------------------------------------


class DocumentRefused(Conflict):
    problem = "document-refused"
    title = "The document cannot be changed that way"


class ReviewRefused(DocumentRefused):
    """The version is not in a state that allows the review or replacement asked for."""


def check_open(step: Step) -> None:
    """Documents are uploaded only while the application has not ended."""
    if step.terminal:
        raise DocumentRefused(f"the application is {step.value}")


def check_replacement(current: DocumentStatus | None) -> None:
    """A new version may replace a rejected or still unreviewed one, never an accepted one."""
    if current is DocumentStatus.ACCEPTED:
        raise ReviewRefused("an accepted document is not replaced")


def next_version(latest: int | None) -> int:
    """The number of a new version: one more than the latest (``uq_documents_version``)."""
    return 1 if latest is None else latest + 1


def check_reviewer(principal: Principal) -> None:
    """Only staff review documents."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff review documents")


def check_rejection_reason(decision: DocumentStatus, reason: str | None) -> None:
    """A rejection gives the business a reason it can act on (three characters at least)."""
    if decision is DocumentStatus.REJECTED and not (reason and len(reason.strip()) >= 3):
        raise UnprocessableContent(
            "a rejection needs a reason the business can act on",
            invalid_params=[{"name": "body.reason", "reason": "required when rejecting"}],
        )


def check_review(status: DocumentStatus) -> None:
    """Only a submitted, current version can be accepted or rejected."""
    if status is not DocumentStatus.SUBMITTED:
        raise ReviewRefused(f"the document is {status.value}; only a submitted one is reviewed")


# -- who sees what -----------------------------------------------------------------------


class Owned(Protocol):
    """What the access rule reads of the application the documents belong to."""

    @property
    def msme_id(self) -> UUID: ...


def may_read(principal: Principal, application: Owned) -> bool:
    """Documents belong to the business and staff; partner banks never see them."""
    return principal.role is Role.STAFF or (
        principal.role is Role.MSME and principal.tenant == str(application.msme_id)
    )


# -- what may be uploaded ----------------------------------------------------------------

ALLOWED_CONTENT_TYPES: frozenset[str] = accept(PDF, JPEG, PNG, CSV, XLSX, DOCX)
"""The types a business uploads its documents in; ``kumiai.files`` checks their content."""
