"""One OpenAPI document for the frontend team, merged from every service's."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kumiai.openapi import REF


def merge_openapi(documents: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge service documents; paths are prefixed ``/<service>`` as the ingress routes them.

    Schemas with the same name and the same definition are shared; a name that
    means different things in two services is prefixed with the service name.
    """
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Kumiai platform API",
            "version": "0.1.0",
            "description": "All Kumiai services behind one ingress; each path is prefixed "
            "with its service's name.",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    for service, doc in documents:
        own = doc.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in own.items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service.capitalize()}{name}"
        text = json.dumps(doc)
        for old, new in renames.items():
            text = text.replace(f'"{REF}{old}"', f'"{REF}{new}"')
        doc = json.loads(text)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name in renames and schema.get("title") == name:
                # Generators name their classes after the title: keep it the schema's name.
                schema["title"] = renames[name]
            schemas[renames.get(name, name)] = schema
        merged["components"]["securitySchemes"].update(
            doc.get("components", {}).get("securitySchemes", {})
        )
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["tags"] = [
                        service,
                        *[t for t in operation.get("tags", []) if t != service],
                    ]
            merged["paths"][f"/{service}{path}"] = operations
        merged["tags"].append(
            {"name": service, "description": doc.get("info", {}).get("description", "")}
        )
    for schema in schemas.values():
        for example in schema.get("examples", []):
            _restore_nulls(example, schema, schemas)
    for operations in merged["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            parts = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
            for part in parts:
                media = part.get("content", {}).get("application/json", {})
                examples = [e.get("value") for e in (media.get("examples") or {}).values()]
                if "example" in media:
                    examples.append(media["example"])
                for example in examples:
                    _restore_nulls(example, media.get("schema", {}), schemas)
    _page_examples(schemas)
    return merged


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(
        option.get("type") == "null" for option in schema.get("anyOf", [])
    )


def _restore_nulls(example: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Put back the nulls of an example: each service's document leaves out every null
    value, so a property that may be null and is missing was null (every example shows
    every property, tests/unit/test_openapi_examples.py)."""
    while "$ref" in schema:
        schema = schemas.get(schema["$ref"].removeprefix(REF), {})
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        _restore_nulls(example, options[0], schemas)
    elif isinstance(example, dict):
        properties = schema.get("properties", {})
        for name in properties:
            if name not in example and _nullable(properties[name]):
                example[name] = None
        for name, value in example.items():
            if name in properties:
                _restore_nulls(value, properties[name], schemas)
    elif isinstance(example, list) and isinstance(schema.get("items"), dict):
        for value in example:
            _restore_nulls(value, schema["items"], schemas)


def _page_examples(schemas: dict[str, Any]) -> None:
    """Give each page of a list (``kumiai.pagination.Page``) an example: the last page of one
    item, the item's own example, so the frontend sees the envelope it unwraps."""
    for schema in schemas.values():
        properties = schema.get("properties", {})
        if "examples" in schema or set(properties) != {"items", "next_cursor"}:
            continue
        ref = properties["items"].get("items", {}).get("$ref", "")
        item = schemas.get(ref.removeprefix(REF), {})
        if item.get("examples"):
            schema["examples"] = [{"items": [item["examples"][0]], "next_cursor": None}]
