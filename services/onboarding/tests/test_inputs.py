"""What onboarding accepts from a caller: closed bodies, strict integers, bounded text (pure)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kumiai.inputs import RequestBody
from onboarding.applications import schemas as applications
from onboarding.audit import schemas as audit
from onboarding.documents import schemas as documents
from onboarding.funds import schemas as funds
from onboarding.funds.rules import FundTerms
from onboarding.msmes import schemas as msmes
from onboarding.partners import schemas as partners

SCHEMAS: list[ModuleType] = [msmes, applications, documents, funds, partners, audit]

APPLICATION: dict[str, Any] = {
    "purpose": "New fermentation tanks",
    "amount_sought": 10_000_000,
    "use_of_funds": "Two tanks",
    "business_plan_summary": "Double the output",
    "municipality_code": "012025",
}


def _errors(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(json.dumps(data))
    return [tuple(e["loc"]) for e in caught.value.errors()]


BODIES: list[type[BaseModel]] = [
    value
    for module in SCHEMAS
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, BaseModel) and value.__name__.endswith("In")
]


def test_every_request_model_is_a_closed_request_body() -> None:
    assert len(BODIES) >= 10
    assert all(issubclass(b, RequestBody) for b in BODIES)
    assert issubclass(FundTerms, RequestBody), "the body of PUT /funds/{id}/terms"


@pytest.mark.parametrize("amount", ["40000", True, 1e3, 10**30, 2**63 - 1, 0, -5])
def test_an_amount_sought_must_be_a_json_integer_within_a_trillion(amount: object) -> None:
    assert _errors(applications.ApplicationIn, APPLICATION | {"amount_sought": amount}) == [
        ("amount_sought",)
    ]


def test_an_amount_sought_up_to_a_trillion_is_accepted() -> None:
    body = applications.ApplicationIn.model_validate(APPLICATION | {"amount_sought": 10**12})
    assert body.amount_sought == 10**12


@pytest.mark.parametrize("field", ["purpose", "use_of_funds", "business_plan_summary"])
def test_text_with_a_nul_or_other_control_character_is_refused(field: str) -> None:
    for bad in ("tanks\x00", "tanks\x1b[2J", "tanks\x85"):
        with pytest.raises(ValidationError, match="control characters"):
            applications.ApplicationIn.model_validate(APPLICATION | {field: bad})
    ok = applications.ApplicationIn.model_validate(APPLICATION | {field: "line one\nline\ttwo"})
    assert "\n" in getattr(ok, field)


def test_every_string_field_of_a_request_has_its_own_bound() -> None:
    models: list[type[BaseModel]] = [*BODIES, FundTerms]
    for model in models:
        for name, field in model.model_fields.items():
            if field.annotation in (str, str | None):
                limits = [m for m in field.metadata if hasattr(m, "max_length")]
                assert limits, f"{model.__name__}.{name} has no max_length"


def test_a_partner_registration_is_closed_and_bounded() -> None:
    good = {"partner_id": "hokkaido-bank", "kind": "bank", "name": "Hokkaido Bank"}
    assert partners.PartnerIn.model_validate(good | {"zengin_code": "0116"}).kind == "bank"
    assert _errors(partners.PartnerIn, good | {"kind": "insurer"}) == [("kind",)]
    assert _errors(partners.PartnerIn, good | {"partner_id": "Bank/../x"}) == [("partner_id",)]
    assert _errors(partners.PartnerIn, good | {"status": "active"}) == [("status",)]
    assert _errors(partners.PartnerIn, good | {"name": "x" * 201}) == [("name",)]
