"""Request and response models of disclosure documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from disclosure.documents.rules import DocumentKind, DocumentStatus, Visibility
from kumiai.inputs import RequestBody

MAX_TITLE = 200
MAX_BODY = 100_000


class DocumentIn(RequestBody):
    """A new document of a fund: its first draft version."""

    kind: DocumentKind
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(default="", max_length=MAX_BODY, description="Plain text; may be empty")
    visibility: Visibility = Field(description="Who may read it once published")


class DocumentEdit(RequestBody):
    """A new version of a document; what is left out is kept from the current version."""

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    visibility: Visibility | None = None


class ReasonIn(RequestBody):
    """Why: required to return a document to draft or to retract it."""

    reason: str | None = Field(default=None, max_length=500)


class AttachmentOut(BaseModel):
    """A file of a version (download it from the document's attachments)."""

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str


class VersionOut(BaseModel):
    """One immutable version of a document."""

    version: int
    title: str
    body: str
    visibility: Visibility
    sha256: str = Field(description="SHA-256 of the body as UTF-8")
    attachments: list[AttachmentOut]
    data: dict[str, Any] | None = Field(
        description="What the service made the version from: the terms of an offering "
        "document, a report's figures; null for written documents"
    )
    author: str
    author_role: str
    created_at: datetime


class DocumentOut(BaseModel):
    """A document as the caller may see it: readers get the published version, staff and the
    business the latest one."""

    id: UUID
    fund_id: UUID
    kind: DocumentKind
    status: DocumentStatus
    shown: VersionOut | None = Field(description="The version shown; null once retracted")
    current_version: int
    published_version: int | None
    published_at: datetime | None
    return_reason: str | None = Field(description="Why it was last returned to draft")
    retraction_reason: str | None
    retracted_at: datetime | None


class DocumentSummary(BaseModel):
    """A line of a list of documents."""

    id: UUID
    fund_id: UUID
    kind: DocumentKind
    status: DocumentStatus
    title: str
    visibility: Visibility
    published_at: datetime | None
    version: int = Field(description="The version the title is from")
    unread: bool | None = Field(
        default=None, description="Investors: this version has not been opened yet"
    )
