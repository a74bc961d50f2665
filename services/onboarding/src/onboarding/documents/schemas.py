"""Request and response models of an application's documents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from kumiai.inputs import RequestBody


class DocumentOut(BaseModel):
    id: UUID
    kind: str
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str
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
    items: list[ChecklistItemOut]
    missing: list[str] = Field(description="Required kinds not yet accepted")
    complete: bool


class ReviewIn(RequestBody):
    # DocumentStatus.ACCEPTED or REJECTED, spelled out so the published schema stays as it is.
    decision: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None, max_length=2_000, description="Required when rejecting"
    )
