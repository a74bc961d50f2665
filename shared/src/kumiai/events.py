"""The event envelope and the registry of typed payloads.

Every event crosses the bus in one envelope. The payload's Pydantic model in
``kumiai.contracts`` is the only definition, shared by producer and consumer;
a breaking change is a new ``schema_version`` registered beside the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base of every event payload. Subclasses set ``event_type`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


class Envelope(BaseModel):
    """What travels on the bus: identity, ordering and tracing around a payload."""

    model_config = ConfigDict(frozen=True)

    id: UUID = Field(
        default_factory=uuid4, description="Unique event id; consumers de-duplicate on it"
    )
    type: str = Field(description="Stable past-tense event name", examples=["FundOpened"])
    schema_version: int = Field(ge=1)
    source: str = Field(description="Producing service", examples=["onboarding"])
    subject: str = Field(description="Aggregate id, also the Kafka message key")
    sequence: int = Field(
        ge=1, description="Position of this event among the source's events for this subject"
    )
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: UUID | None = None
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


P = TypeVar("P", bound=EventPayload)


class UnknownEventError(LookupError):
    """No payload model is registered for an event's type and schema version."""


class EventRegistry:
    """Maps (type, schema_version) to the payload model."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[EventPayload]] = {}

    def register(self, model: type[P]) -> type[P]:
        key = (model.event_type, model.schema_version)
        if key in self._models and self._models[key] is not model:
            raise ValueError(f"event {key} is already registered")
        self._models[key] = model
        return model

    def model_for(self, event_type: str, schema_version: int) -> type[EventPayload]:
        try:
            return self._models[(event_type, schema_version)]
        except KeyError:
            raise UnknownEventError(f"{event_type} v{schema_version}") from None

    def payload(self, envelope: Envelope) -> EventPayload:
        model = self.model_for(envelope.type, envelope.schema_version)
        return model.model_validate(envelope.data)

    def models(self) -> list[type[EventPayload]]:
        return [self._models[k] for k in sorted(self._models)]


registry = EventRegistry()
"""The platform's one registry; contracts register themselves on import."""
