"""Request and response models of partners' webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kumiai.inputs import RequestBody
from onboarding.webhooks.rules import (
    MAX_OVERLAP,
    MAX_URL_LENGTH,
    DeliveryStatus,
    DisabledReason,
    EndpointStatus,
    WebhookEventType,
)

_ENDPOINT_ID = "0b7c9e61-4f0e-4a8e-9d3f-3d1f8c2a5b71"
_DELIVERY_ID = "5d9a2f0c-1b3e-4c6d-8e7f-9a0b1c2d3e4f"
_MESSAGE_ID = "msg_2f1c6b0e8a9d4c3b8e7f6a5d4c3b2a19"
_FUND_ID = "9b3f5a40-2c1d-4e8f-a6b7-0c9d8e7f6a5b"
_MSME_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


class EndpointIn(RequestBody):
    """Where to send which events."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.hokkaido-bank.example.jp/kumiai",
                    "event_types": ["fund.opened", "fund.closed", "deposit.matched"],
                    "description": "Quasi-equity desk",
                }
            ]
        }
    )

    url: str = Field(
        min_length=8,
        max_length=MAX_URL_LENGTH,
        description="https URL the platform POSTs each message to (http only outside "
        "production); no credentials in it, no fragment",
    )
    event_types: list[WebhookEventType] = Field(
        min_length=1,
        max_length=len(WebhookEventType),
        description="The event types to receive; each must be one the partner's kind may hear",
    )
    description: str = Field(default="", max_length=200)


class EndpointOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "endpoint_id": _ENDPOINT_ID,
                    "partner_id": "hokkaido-bank",
                    "url": "https://hooks.hokkaido-bank.example.jp/kumiai",
                    "event_types": ["deposit.matched", "fund.closed", "fund.opened"],
                    "description": "Quasi-equity desk",
                    "status": "enabled",
                    "disabled_reason": None,
                    "failing_since": None,
                    "created_at": "2026-11-29T01:00:00Z",
                    "changed_at": "2026-11-29T01:00:00Z",
                }
            ]
        }
    )

    endpoint_id: UUID
    partner_id: str
    url: str
    event_types: list[WebhookEventType]
    description: str
    status: EndpointStatus
    disabled_reason: DisabledReason | None = Field(
        description="Why it is disabled: failing (about three days of failed attempts), gone "
        "(it answered 410), by_partner, by_staff"
    )
    failing_since: datetime | None = Field(
        description="Since when every attempt failed; null while deliveries succeed"
    )
    created_at: datetime
    changed_at: datetime


class SecretRotationIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_s": 86400}]})

    overlap_s: int = Field(
        default=86_400,
        ge=0,
        le=int(MAX_OVERLAP.total_seconds()),
        description="Seconds the replaced secret keeps signing beside the new one (messages "
        "carry both signatures meanwhile)",
    )


class SecretOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "endpoint_id": _ENDPOINT_ID,
                    "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                    "previous_expires_at": "2026-11-30T01:00:00Z",
                }
            ]
        }
    )

    endpoint_id: UUID
    secret: str = Field(
        description="The current signing secret (`whsec_...`): verify the webhook-signature "
        "header with it (Standard Webhooks)"
    )
    previous_expires_at: datetime | None = Field(
        description="Until when the secret it replaced still signs beside it; null when no "
        "replaced secret still signs"
    )


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The endpoint's answer; null if none came")
    error: str | None
    duration_ms: int
    manual: bool = Field(description="A redelivery asked for after the message was delivered")


_DELIVERY_EXAMPLE: dict[str, Any] = {
    "delivery_id": _DELIVERY_ID,
    "message_id": _MESSAGE_ID,
    "event_type": "fund.closed",
    "subject": _FUND_ID,
    "status": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-11-29T01:00:20Z",
    "last_attempt_at": "2026-11-29T01:00:05Z",
    "last_status_code": 503,
    "last_error": "answered 503",
    "delivered_at": None,
    "created_at": "2026-11-29T01:00:00Z",
}


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY_EXAMPLE]})

    delivery_id: UUID
    message_id: str = Field(description="The webhook-id header: the same on every attempt")
    event_type: WebhookEventType
    subject: str = Field(description="What the message is about (a fund id, a payout id)")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="Null once delivered")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    """A delivery with the message as sent and every attempt."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_DELIVERY_EXAMPLE,
                    "message": {
                        "type": "fund.closed",
                        "timestamp": "2026-11-29T01:00:00Z",
                        "data": {
                            "fund_id": _FUND_ID,
                            "msme_id": _MSME_ID,
                            "outcome": "succeeded",
                            "units_confirmed": 1000,
                            "amount_raised": 10000000,
                            "currency": "JPY",
                            "investor_count": 412,
                            "closed_at": "2026-11-29T01:00:00Z",
                        },
                    },
                    "attempt_log": [
                        {
                            "attempted_at": "2026-11-29T01:00:00Z",
                            "status_code": None,
                            "error": "timed out",
                            "duration_ms": 10000,
                            "manual": False,
                        },
                        {
                            "attempted_at": "2026-11-29T01:00:05Z",
                            "status_code": 503,
                            "error": "answered 503",
                            "duration_ms": 41,
                            "manual": False,
                        },
                    ],
                }
            ]
        }
    )

    message: dict[str, Any] = Field(description="The body sent (type, timestamp, data)")
    attempt_log: list[AttemptOut]
