"""The merged OpenAPI document is one the frontend team can build on.

Every operation says in a line what it does and in a paragraph how; every JSON
request body and every JSON success answer carries an example, and every example
in the document is valid against the schema it illustrates. Properties that name
a state or a category (``status``, ``kind``, ``role``, ...) are enumerations, so a
generated client gets a type with the values rather than a free string.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from kumiai_tools.cli import merged_openapi

REF = "#/components/schemas/"

# The probes every service gets from the shared library (kumiai.service): the
# orchestrator calls them, not the frontend, and their names are their summaries.
PROBES = ("healthz", "readyz", "metrics")

# Success answers without an example, and why.
UNEXAMPLED = {
    # The probes' bodies are the shared library's (kumiai.service.Health, Readiness).
    **{
        f"GET /{service}/{probe}": "a probe"
        for service in ("onboarding", "subscription", "ledger", "disclosure", "subsidy")
        for probe in ("healthz", "readyz")
    },
    # The audit trail's line (kumiai.audit.AuditOut) is the shared library's.
    "GET /onboarding/audit": "shared audit line",
    "GET /subscription/audit": "shared audit line",
    "GET /disclosure/audit": "shared audit line",
}

# Properties whose name says they are a state or a category.
CATEGORICAL = ("status", "kind", "role", "step", "outcome", "purpose", "direction")

# Categorical properties that are free strings on purpose.
FREE_STRINGS = {
    # The project an application raises money for, in the business's own words.
    ("ApplicationIn", "purpose"),
    ("ApplicationOut", "purpose"),
    # The checklist's kinds are data (onboarding.documents.rules.CHECKLIST); the path
    # parameter that names one is checked against it and answers 404 with the list.
    ("ChecklistItemOut", "kind"),
    ("DocumentOut", "kind"),
    # The shared library's models (kumiai.audit, kumiai.service): their owner types them.
    ("AuditOut", "actor_role"),
    ("Health", "status"),
    ("Readiness", "status"),
}


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(merged_openapi()))
    return document


def _operations() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in _document()["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict):
                yield f"{method.upper()} {path}", operation


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = _document()["components"]["schemas"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"].removeprefix(REF)]
    return schema


def _has_example(media: dict[str, Any]) -> bool:
    if "example" in media or media.get("examples"):
        return True
    schema = _resolve(media.get("schema", {}))
    if schema.get("type") == "array":
        schema = _resolve(schema.get("items", {}))
    return bool(schema.get("examples"))


def _derived_summary(operation: dict[str, Any]) -> str:
    # What FastAPI writes when a route gives none: its function's name, title-cased.
    return str(operation.get("operationId", "")).replace("_", " ").title()


def test_every_operation_has_a_summary_and_a_description() -> None:
    missing = []
    for label, operation in _operations():
        summary = operation.get("summary", "")
        probe = label.rsplit("/", 1)[-1] in PROBES
        if not summary or (summary == _derived_summary(operation) and not probe):
            missing.append(f"{label}: no summary of its own (say what it does: 'Get a fund')")
        if not operation.get("description"):
            missing.append(f"{label}: no description (the route's docstring)")
    assert not missing, "\n".join(missing)


def test_every_json_body_and_success_answer_has_an_example() -> None:
    missing = []
    for label, operation in _operations():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and not _has_example(body):
            missing.append(f"{label}: its request body has no example")
        for status, response in operation.get("responses", {}).items():
            media = response.get("content", {}).get("application/json")
            if not status.startswith("2") or media is None or label in UNEXAMPLED:
                continue
            if not _has_example(media):
                missing.append(f"{label}: its {status} answer has no example")
    assert not missing, "\n".join(missing)


def _validate(value: Any, schema: dict[str, Any]) -> list[str]:
    # The document's components travel with the schema so that its $refs resolve.
    rooted = {**schema, "components": _document()["components"]}
    validator = Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{error.message[:200]} at {'/'.join(map(str, error.absolute_path)) or 'the top'}"
        for error in validator.iter_errors(value)
    ]


def _schema_examples(schema: Any, where: str) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every example written inside ``schema``, with where it is and what it illustrates."""
    if isinstance(schema, dict):
        for index, example in enumerate(schema.get("examples", []) or []):
            yield f"{where} example {index}", example, schema
        if "example" in schema:
            yield f"{where} example", schema["example"], schema
        for key, value in schema.items():
            if key in ("examples", "example"):
                continue
            yield from _schema_examples(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _schema_examples(value, f"{where}[{index}]")


def _all_examples() -> Iterator[tuple[str, Any, dict[str, Any]]]:
    for name, schema in _document()["components"]["schemas"].items():
        yield from _schema_examples(schema, name)
    for label, operation in _operations():
        places = [("request body", operation.get("requestBody", {}))] + [
            (f"{status} answer", response)
            for status, response in operation.get("responses", {}).items()
        ]
        for place, part in places:
            media = part.get("content", {}).get("application/json")
            if media is None:
                continue
            schema = media.get("schema", {})
            if "example" in media:
                yield f"{label}: {place} example", media["example"], schema
            for key, example in (media.get("examples") or {}).items():
                yield f"{label}: {place} example {key!r}", example.get("value"), schema
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            for index, example in enumerate(schema.get("examples", []) or []):
                yield f"{label}: parameter {parameter['name']} example {index}", example, schema


def test_every_example_is_valid_against_its_schema() -> None:
    examples = list(_all_examples())
    invalid = [
        f"{where}: {problem}"
        for where, example, schema in examples
        for problem in _validate(example, schema)
    ]
    assert examples, "the document has no examples at all"
    assert not invalid, "\n".join(invalid)


def _free_string(schema: dict[str, Any]) -> bool:
    if "$ref" in schema or "enum" in schema or "const" in schema:
        return False
    if "anyOf" in schema:
        return any(_free_string(s) for s in schema["anyOf"] if s.get("type") != "null")
    return bool(schema.get("type") == "string")


@pytest.mark.parametrize("word", CATEGORICAL)
def test_states_and_categories_are_enumerations(word: str) -> None:
    free = [
        f"{name}.{prop}"
        for name, schema in _document()["components"]["schemas"].items()
        for prop, prop_schema in schema.get("properties", {}).items()
        if (prop == word or prop.endswith(f"_{word}"))
        and (name, prop) not in FREE_STRINGS
        and _free_string(prop_schema)
    ]
    assert not free, f"free strings where the values are known (make them the enum): {free}"
