"""What every service's OpenAPI document says about errors (``document_problems``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kumiai.errors import Problem

REF = "#/components/schemas/"


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
            "429",
            _problem_response(
                "A bank or municipality over its request rate (rate-limited)",
                headers=_RETRY_AFTER,
            ),
        )
    responses.setdefault(
        "503",
        _problem_response("The database is unavailable; retry later", headers=_RETRY_AFTER),
    )
