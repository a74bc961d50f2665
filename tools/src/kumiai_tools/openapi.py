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
    return merged
