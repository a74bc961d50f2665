"""Request and response models of an application's documents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from onboarding.documents.rules import DocumentStatus


class DocumentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "kind": "financial_statements",
                    "version": 1,
                    "filename": "sales-2027-h1.pdf",
                    "content_type": "application/pdf",
                    "size": 482133,
                    "sha256": "9f2c5b3c0d1e4a7f8b6a5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
                    "status": "accepted",
                    "review_reason": None,
                    "reviewed_by": "staff-0002",
                    "reviewed_at": "2026-11-20T10:15:00+09:00",
                    "uploaded_by": "staff-0001",
                    "uploaded_at": "2026-11-20T10:15:00+09:00",
                }
            ]
        }
    )

    id: UUID
    kind: str
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    status: DocumentStatus
    review_reason: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    uploaded_by: str
    uploaded_at: datetime


class ChecklistItemOut(BaseModel):
    kind: str
    title: str
    required: bool
    current: DocumentOut | None = Field(description="The latest version, if any")


class ChecklistOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "kind": "financial_statements",
                            "title": "Spring tasting event for investors",
                            "required": True,
                            "current": {
                                "id": "331b0af2-60f5-56d3-87c3-23a437e69d97",
                                "kind": "financial_statements",
                                "version": 1,
                                "filename": "sales-2027-h1.pdf",
                                "content_type": "application/pdf",
                                "size": 482133,
                                "sha256": (
                                    "9f2c5b3c0d1e4a7f8b6a5d4c3b2a1f0e"
                                    "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"
                                ),
                                "status": "accepted",
                                "review_reason": None,
                                "reviewed_by": "staff-0002",
                                "reviewed_at": "2026-11-20T10:15:00+09:00",
                                "uploaded_by": "staff-0001",
                                "uploaded_at": "2026-11-20T10:15:00+09:00",
                            },
                        }
                    ],
                    "missing": ["Missing"],
                    "complete": True,
                }
            ]
        }
    )

    items: list[ChecklistItemOut]
    missing: list[str] = Field(description="Required kinds not yet accepted")
    complete: bool


class ReviewIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision": "accepted", "reason": "The bank statement is for the wrong month"}
            ]
        }
    )

    # DocumentStatus.ACCEPTED or REJECTED, spelled out so the published schema stays as it is.
    decision: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None, max_length=2_000, description="Required when rejecting"
    )
