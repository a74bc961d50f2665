"""The rules of an application's documents (pure; DOMAIN.md, "Onboarding").

A business uploads each item of the due-diligence checklist, in versions; staff
accept a submitted version or reject it with a reason. A new version supersedes
a rejected or unreviewed one, never an accepted one. Documents belong to the
business and staff: partner banks follow an application's progress, never its
files. What is stored must be what it says it is (its first bytes match its
declared type) and within the service's size limit.

The database holds some of these too (``onboarding.db.models.Document``):
``ck_documents_status_known``, ``ck_documents_size_positive`` and
``uq_documents_version``.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound, ProblemError, UnprocessableContent
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


# -- file names --------------------------------------------------------------------------


class InvalidFilename(ValueError):
    """The file name would mislead a reader or name a folder."""


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


# -- content -----------------------------------------------------------------------------

ALLOWED_CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)

_MAGIC: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04",
}


class TooLarge(ProblemError):
    status = 413
    problem = "document-too-large"
    title = "The document is larger than allowed"


class UnsupportedType(ProblemError):
    status = 415
    problem = "unsupported-media-type"
    title = "This kind of file is not accepted"


class DocumentTooLarge(TooLarge):
    """The document is bigger than the caller's limit."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(
            f"document exceeds the limit of {limit} bytes (received at least {received} bytes)",
            limit=limit,
        )
        self.limit = limit
        self.received = received


class ContentTypeRefused(UnsupportedType):
    """The declared content type is not accepted, or the bytes do not match it."""

    def __init__(self, content_type: str, reason: str) -> None:
        super().__init__(
            f"content type {content_type!r} refused: {reason}",
            accepted=sorted(ALLOWED_CONTENT_TYPES),
        )
        self.content_type = content_type
        self.reason = reason


class EmptyDocument(UnprocessableContent):
    """The document has no bytes at all."""

    def __init__(self) -> None:
        super().__init__("document is empty (0 bytes)")


def normalise_content_type(content_type: str) -> str:
    """Lower-case media type without parameters: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return content_type.split(";", 1)[0].strip().lower()


def accepted_type(content_type: str) -> str:
    """The declared type, normalised, if documents of that type are accepted at all."""
    declared = normalise_content_type(content_type)
    if declared not in ALLOWED_CONTENT_TYPES:
        raise ContentTypeRefused(content_type, "not an accepted document type")
    return declared


def check_size(received: int, max_bytes: int) -> None:
    """A document is at most ``max_bytes`` (inclusive), refused as soon as it passes that."""
    if received > max_bytes:
        raise DocumentTooLarge(max_bytes, received)


def check_not_empty(size: int) -> None:
    """A document has at least one byte (``ck_documents_size_positive`` holds it too)."""
    if size == 0:
        raise EmptyDocument()


def check_content(content_type: str, head: bytes, *, complete: bool) -> None:
    """Refuse when the leading bytes ``head`` do not look like ``content_type``.

    ``complete`` says whether ``head`` is the whole document (a multi-byte UTF-8 character
    may be cut at the end of a partial head).
    """
    magic = _MAGIC.get(content_type)
    if magic is not None:
        if not head.startswith(magic):
            raise ContentTypeRefused(content_type, "the first bytes do not match that type")
        return
    if content_type == "text/csv":
        if b"\x00" in head:
            raise ContentTypeRefused(content_type, "the text contains a NUL byte")
        try:
            codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
        except UnicodeDecodeError:
            raise ContentTypeRefused(content_type, "the text is not UTF-8") from None
        return
    raise ContentTypeRefused(content_type, "no way to check that type")
