"""One OpenAPI document for the frontend team, merged from every service's."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI

from kumiai.errors import Problem

REF = "#/components/schemas/"


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


_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": REF + "Problem"}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    }
}


def _problem_response(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM_CONTENT, **extra}


def document_problems(app: FastAPI) -> None:
    """Make a service's OpenAPI say what it really answers on errors.

    Validation errors are ``application/problem+json`` (not FastAPI's default
    shape); any request can be answered 400 (malformed JSON, or control
    characters in the URL) and one with a body 413 (too large); a
    route that takes a token can be answered 401 and 403; every route can be
    answered 503 with ``Retry-After`` while its database is unavailable.
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template=REF + "{model}")
        for name, model_schema in problem.pop("$defs", {}).items():
            components.setdefault(name, model_schema)
        components["Problem"] = problem
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict):
                    _document_operation(operation)
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "422" in responses:
        described = responses["422"].get("description")
        validation = "Request validation failed: `invalid_params` names each field"
        responses["422"] = _problem_response(
            validation if described in (None, "Validation Error") else f"{validation}; {described}"
        )
    body = operation.get("requestBody", {}).get("content", {})
    responses.setdefault(
        "400",
        _problem_response(
            "Malformed request: the body is not valid JSON"
            if "application/json" in body
            else "Malformed request: control characters in the URL"
        ),
    )
    if body:
        responses.setdefault("413", _problem_response("The body is larger than allowed"))
    if operation.get("security"):
        responses.setdefault("401", _problem_response("Authentication required"))
        responses.setdefault("403", _problem_response("Not allowed"))
    responses.setdefault(
        "503",
        _problem_response("The database is unavailable; retry later", headers=_RETRY_AFTER),
    )
