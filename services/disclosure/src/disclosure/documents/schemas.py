"""Request and response models of disclosure documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from disclosure.documents.rules import DocumentKind, DocumentStatus, Visibility
from kumiai.inputs import RequestBody
from kumiai.principal import Role

MAX_TITLE = 200
MAX_BODY = 100_000


class DocumentIn(RequestBody):
    """A new document of a fund: its first draft version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "fund_news",
                    "title": "Spring tasting event for investors",
                    "body": (
                        "The first batch of the seasonal beer is bottled; investors "
                        "are invited to a tasting at the brewery."
                    ),
                    "visibility": "public",
                }
            ]
        }
    )

    kind: DocumentKind
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(default="", max_length=MAX_BODY, description="Plain text; may be empty")
    visibility: Visibility = Field(description="Who may read it once published")


class DocumentEdit(RequestBody):
    """A new version of a document; what is left out is kept from the current version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Spring tasting event for investors, 22 May",
                    "body": (
                        "The first batch of the seasonal beer is bottled; investors "
                        "are invited to a tasting at the brewery on 22 May from 14:00."
                    ),
                    "visibility": "public",
                }
            ]
        }
    )

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    visibility: Visibility | None = None


class ReasonIn(RequestBody):
    """Why: required to return a document to draft or to retract it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "Please give the tasting's date and how many can come"}]
        }
    )

    reason: str | None = Field(default=None, max_length=500)


class AttachmentOut(BaseModel):
    """A file of a version (download it from the document's attachments)."""

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str


VERSION_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "title": "Spring tasting event for investors",
    "body": (
        "The first batch of the seasonal beer is bottled; investors "
        "are invited to a tasting at the brewery."
    ),
    "visibility": "public",
    # rules.digest(body)
    "sha256": "96039ac87691822dd6602de24085acd44358ba06f48e761629084ceabf5cd2e8",
    "attachments": [
        {
            "id": "2c8e5b1a-7d3f-4a9e-b6c2-5f1e8d3a7b40",
            "filename": "first-batch.jpg",
            "content_type": "image/jpeg",
            "size": 482133,
            "sha256": "9f2c5b3c0d1e4a7f8b6a5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
        }
    ],
    "data": None,
    "author": "msme:087dbff6-c310-5df2-b21e-cd1f21c575a8",
    "author_role": "msme",
    "created_at": "2027-05-10T15:30:00+09:00",
}
"""A business's fund news with a photo (its documents are news and notices)."""


class VersionOut(BaseModel):
    """One immutable version of a document."""

    model_config = ConfigDict(json_schema_extra={"examples": [VERSION_EXAMPLE]})

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
    author_role: Role
    created_at: datetime


class DocumentOut(BaseModel):
    """A document as the caller may see it: readers get the published version, staff and the
    business the latest one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8f6e4d2c-0b1a-4c3e-9d5f-7a9b1c3d5e7f",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "kind": "fund_news",
                    "status": "published",
                    "shown": VERSION_EXAMPLE,
                    "current_version": 1,
                    "published_version": 1,
                    "published_at": "2027-05-11T09:40:00+09:00",
                    "return_reason": None,
                    "retraction_reason": None,
                    "retracted_at": None,
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    # A line of an investor's My page (others get unread null).
                    "id": "8f6e4d2c-0b1a-4c3e-9d5f-7a9b1c3d5e7f",
                    "fund_id": "8827e4a4-fadc-514f-80f0-6e35216eb81c",
                    "kind": "fund_news",
                    "status": "published",
                    "title": "Spring tasting event for investors",
                    "visibility": "public",
                    "published_at": "2027-05-11T09:40:00+09:00",
                    "version": 1,
                    "unread": True,
                }
            ]
        }
    )

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
