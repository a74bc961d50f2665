"""What a caller may send: strict integers, bounded text without control characters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from kumiai.errors import install_problem_handlers
from kumiai.inputs import (
    MAX_AMOUNT,
    Amount,
    RequestBody,
    StrictInt,
    control_character,
    refuse_unknown_query,
)


class Deposit(RequestBody):
    amount: Amount
    units: StrictInt = Field(gt=0, le=100)
    note: str = Field(max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=5)


def _body(**overrides: Any) -> dict[str, Any]:
    return {"amount": 10_500, "units": 2, "note": "first\ttry\r\nok", **overrides}


def test_a_clean_body_passes_with_tabs_and_line_breaks() -> None:
    assert Deposit.model_validate(_body()).note == "first\ttry\r\nok"


@pytest.mark.parametrize("value", ["40000", True, 1e3, 10.0, None, 10**30, MAX_AMOUNT + 1, 0, -1])
def test_amounts_are_strict_bounded_integers(value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Deposit.model_validate(_body(amount=value))
    assert [e["loc"] for e in refused.value.errors()] == [("amount",)]


def test_the_largest_amount_is_accepted() -> None:
    assert Deposit.model_validate(_body(amount=MAX_AMOUNT)).amount == MAX_AMOUNT


@pytest.mark.parametrize(
    "body",
    [
        _body(note="nul\x00byte"),
        _body(note="bell\x07"),
        _body(note="escape\x1b[31m"),
        _body(note="lone\ud800surrogate"),
        _body(note="c1\x85control"),
        _body(tags=["ok", "bad\x00"]),
        {**_body(), "extra\x00key": 1},
    ],
)
def test_control_characters_are_refused_anywhere(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="control characters are not allowed"):
        Deposit.model_validate(body)


def test_unknown_fields_and_overlong_text_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        Deposit.model_validate(_body(surprise=1))
    with pytest.raises(ValidationError, match="at most 50"):
        Deposit.model_validate(_body(note="x" * 51))


@given(st.text())
def test_control_character_finds_exactly_the_refused_ones(text: str) -> None:
    found = control_character(text)
    allowed = {"\t", "\n", "\r"}
    bad = [c for c in text if c not in allowed and (ord(c) < 32 or 127 <= ord(c) < 160)]
    surrogates = [c for c in text if 0xD800 <= ord(c) <= 0xDFFF]
    if bad or surrogates:
        assert found is not None
    else:
        assert found is None


def test_exactly_the_control_and_surrogate_code_points_are_refused() -> None:
    import unicodedata

    for point in range(0x110000):
        char = chr(point)
        refused = unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"
        assert (control_character(char) is not None) is refused, hex(point)


def _app_taking_a_limit() -> FastAPI:
    app = FastAPI(dependencies=[Depends(refuse_unknown_query)])
    install_problem_handlers(app)

    def page(cursor: str | None = None) -> str | None:
        return cursor

    @app.get("/things")
    def things(limit: int = 10, cursor: str | None = Depends(page)) -> dict[str, Any]:
        return {"limit": limit, "cursor": cursor}

    return app


async def test_a_query_parameter_the_operation_does_not_take_is_refused() -> None:
    transport = httpx.ASGITransport(app=_app_taking_a_limit())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        taken = await client.get("/things?limit=3&cursor=c")
        refused = await client.get("/things?limit=3&limt=5&=0.0")
    assert taken.json() == {"limit": 3, "cursor": "c"}
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"].endswith("/validation")
    assert sorted(p["name"] for p in body["invalid_params"]) == ["query.", "query.limt"]
