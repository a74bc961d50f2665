"""Request and response models of the partner registry."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kumiai.contracts.onboarding import PARTNER_ID, PartnerKind, PartnerStatus
from kumiai.inputs import RequestBody


class PartnerIn(RequestBody):
    """A partner bank or municipality whose tokens the platform will accept."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "hokkaido-bank",
                    "kind": "bank",
                    "name": "Hokkaido Bank",
                    "zengin_code": "0116",
                },
                {
                    "partner_id": "012025",
                    "kind": "municipality",
                    "name": "Hakodate City",
                    "zengin_code": None,
                },
            ]
        }
    )

    partner_id: str = Field(
        min_length=2,
        max_length=63,
        pattern=PARTNER_ID,
        description="The tenant its tokens carry: a bank's slug, a municipality's "
        "six-digit local government code",
    )
    kind: PartnerKind
    name: str = Field(min_length=1, max_length=200)
    zengin_code: str | None = Field(
        default=None, max_length=4, description="Banks only: the four-digit Zengin bank code"
    )


class PartnerStatusIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "The bank reported that its API credentials leaked"}]
        }
    )

    reason: str = Field(
        min_length=3, max_length=500, description="Why; kept in the audit trail and the event"
    )


class PartnerOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "hokkaido-bank",
                    "kind": "bank",
                    "name": "Hokkaido Bank",
                    "zengin_code": "0116",
                    "status": "active",
                    "version": 1,
                    "registered_at": "2026-08-20T10:00:00+09:00",
                }
            ]
        }
    )

    partner_id: str
    kind: PartnerKind
    name: str
    zengin_code: str | None
    status: PartnerStatus
    version: int = Field(description="Sequence of the last event about this partner")
    registered_at: datetime
