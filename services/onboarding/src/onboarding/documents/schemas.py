"""Request and response models of an application's documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from onboarding.documents.rules import CHECKLIST, DocumentStatus

DOCUMENT_EXAMPLE: dict[str, Any] = {
    "id": "5e7a9c1b-3d2f-4e6a-8b0c-9d1e2f3a4b6c",
    "kind": "financial_statements",
    "version": 1,
    "filename": "financial-statements-fy2023-fy2025.pdf",
    "content_type": "application/pdf",
    "size": 482133,
    "sha256": "9f2c5b3c0d1e4a7f8b6a5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
    "status": "accepted",
    "review_reason": None,
    "reviewed_by": "staff-0002",
    "reviewed_at": "2026-10-22T11:30:00+09:00",
    "uploaded_by": "msme:087dbff6-c310-5df2-b21e-cd1f21c575a8",
    "uploaded_at": "2026-10-20T14:02:00+09:00",
}


class DocumentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_EXAMPLE]})

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
    # Midway through due diligence: the financial statements accepted, the rest to come.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "kind": item.kind,
                            "title": item.title,
                            "required": item.required,
                            "current": DOCUMENT_EXAMPLE
                            if item.kind == DOCUMENT_EXAMPLE["kind"]
                            else None,
                        }
                        for item in CHECKLIST
                    ],
                    "missing": [
                        item.kind
                        for item in CHECKLIST
                        if item.required and item.kind != DOCUMENT_EXAMPLE["kind"]
                    ],
                    "complete": False,
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
                {
                    "decision": "rejected",
                    "reason": "The trial balance is September's; please upload October's",
                },
                {"decision": "accepted", "reason": None},
            ]
        }
    )

    # DocumentStatus.ACCEPTED or REJECTED, spelled out so the published schema stays as it is.
    decision: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None, max_length=2_000, description="Required when rejecting"
    )
