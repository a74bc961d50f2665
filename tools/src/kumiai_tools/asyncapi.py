"""The event contracts as an AsyncAPI 3 document, generated from the registry."""

from __future__ import annotations

from typing import Any

from kumiai import contracts as _contracts  # noqa: F401 - registers payloads
from kumiai.events import Envelope, registry
from kumiai.topics import events_topic


def producer_of(model: type) -> str:
    """The producing service: contracts live in ``kumiai.contracts.<service>``."""
    return model.__module__.rsplit(".", 1)[-1]


def asyncapi_document() -> dict[str, Any]:
    """Channels (one per producing service) and one message per event type and version."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": Envelope.model_json_schema()}
    for model in registry.models():
        service = producer_of(model)
        name = f"{model.event_type}V{model.schema_version}"
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(def_name, definition)
        schemas[name] = schema
        messages[name] = {
            "name": model.event_type,
            "title": f"{model.event_type} v{model.schema_version}",
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "type": {"const": model.event_type},
                    "schema_version": {"const": str(model.schema_version)},
                },
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": model.event_type},
                            "schema_version": {"const": model.schema_version},
                            "data": {"$ref": f"#/components/schemas/{name}"},
                        },
                    },
                ]
            },
        }
        channel = channels.setdefault(
            service,
            {
                "address": events_topic(service),
                "description": f"Events published by {service}, keyed by subject (aggregate id).",
                "messages": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for service in channels:
        operations[f"{service}Publishes"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{service}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Kumiai events",
            "version": "0.1.0",
            "description": "Every event travels in the Envelope; `data` holds the typed payload. "
            "Delivery is at least once; consumers de-duplicate on the envelope id and keep each "
            "subject in `sequence` order.",
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
