"""The merged OpenAPI document is one the frontend team can build on.

Every operation says in a line what it does and in a paragraph how; every JSON
request body and every JSON success answer carries an example, and every example
in the document is valid against the schema it illustrates and shows every property
it declares (null where nullable); figures the services compute (payment references,
amounts due, the terms' digest, a simulation) are what they compute. Properties that name
a state or a category (``status``, ``kind``, ``role``, ...) are enumerations, so a
generated client gets a type with the values rather than a free string.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from kumiai.references import is_valid_reference
from kumiai_tools.cli import merged_openapi
from onboarding.funds.rules import FundTerms, capital_like_debt
from subscription.distributions.schemas import SimulationIn
from subscription.distributions.service import simulate

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


# Properties an example may leave out, and why. Free-form objects (``additionalProperties``
# without declared properties) have no declared shape, so there is nothing to leave out.
INCOMPLETE_ALLOWED: dict[tuple[str, str], str] = {}


def _options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The concrete shapes a schema allows (``anyOf``/``oneOf`` unfolded, ``$ref`` resolved)."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [option for branch in schema[key] for option in _options(branch)]
    if len(schema.get("allOf", [])) == 1:
        return _options(schema["allOf"][0])
    return [schema]


def _missing_properties(value: Any, schema: dict[str, Any], where: str) -> Iterator[str]:
    """Every object inside ``value`` that leaves out a property its schema declares."""
    if value is None:
        return
    options = [option for option in _options(schema) if option.get("type") != "null"]
    if len(options) > 1:
        # A union: the example illustrates the branch it is valid against.
        options = [option for option in options if not _validate(value, option)] or options
    if not options:
        return
    shape = options[0]
    properties = shape.get("properties", {})
    if isinstance(value, dict) and properties:
        title = shape.get("title", "")
        missing = [
            name
            for name in properties
            if name not in value and (title, name) not in INCOMPLETE_ALLOWED
        ]
        if missing:
            yield f"{where or 'the top'} ({title or 'object'}) leaves out {missing}"
        for name, inner in value.items():
            if name in properties:
                yield from _missing_properties(inner, properties[name], f"{where}/{name}")
    elif isinstance(value, dict) and isinstance(shape.get("additionalProperties"), dict):
        for key, inner in value.items():
            yield from _missing_properties(inner, shape["additionalProperties"], f"{where}/{key}")
    elif isinstance(value, list) and isinstance(shape.get("items"), dict):
        for index, inner in enumerate(value):
            yield from _missing_properties(inner, shape["items"], f"{where}[{index}]")


def test_every_example_shows_every_property() -> None:
    """A frontend developer sees the whole shape: optional properties too, null if nullable."""
    incomplete = [
        f"{where}: {problem}"
        for where, example, schema in _all_examples()
        for problem in _missing_properties(example, schema, "")
    ]
    assert not incomplete, "\n".join(incomplete)


def test_the_completeness_check_sees_a_missing_nested_property() -> None:
    """The check itself: a property left out two levels down, in an array item, is found."""
    schema = {
        "type": "object",
        "title": "Outer",
        "properties": {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "title": "Line",
                    "properties": {
                        "amount": {"type": "integer"},
                        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                },
            }
        },
    }
    complete = {"lines": [{"amount": 1, "note": None}]}
    assert list(_missing_properties(complete, schema, "")) == []
    assert list(_missing_properties({"lines": [{"amount": 1}]}, schema, "")) == [
        "/lines[0] (Line) leaves out ['note']"
    ]


def _values(example: Any, key: str) -> Iterator[Any]:
    """Every value of ``key`` anywhere inside ``example``."""
    if isinstance(example, dict):
        for name, value in example.items():
            if name == key:
                yield value
            yield from _values(value, key)
    elif isinstance(example, list):
        for value in example:
            yield from _values(value, key)


def _component_example(name: str) -> dict[str, Any]:
    example: dict[str, Any] = _document()["components"]["schemas"][name]["examples"][0]
    return example


def test_payment_references_in_examples_carry_their_check_character() -> None:
    """A reference the platform issues is KM, ten characters and a check character."""
    wrong = [
        f"{where}: {reference}"
        for where, example, _ in _all_examples()
        for reference in _values(example, "payment_reference")
        if reference is not None and not is_valid_reference(reference)
    ]
    assert not wrong, "\n".join(wrong)


def test_subscription_example_owes_units_times_price_and_fee() -> None:
    example = _component_example("SubscriptionOut")
    price = example["unit_price"] + example["handling_fee_per_unit"]
    assert example["amount_due"] == example["units"] * price


def test_fund_example_is_what_its_terms_imply() -> None:
    example = _component_example("FundOut")
    terms = FundTerms.model_validate(example["terms"])
    assert example["terms_digest"] == terms.digest()
    assert example["target_amount"] == terms.target_amount
    assert example["investment_per_unit"] == terms.investment_per_unit
    assert example["capital_like_debt"] == asdict(capital_like_debt(terms))


def test_simulation_example_is_what_the_simulation_answers() -> None:
    request = SimulationIn.model_validate(_component_example("SimulationIn"))
    assert simulate(request).model_dump(mode="json") == _component_example("SimulationOut")


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
