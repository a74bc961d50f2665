"""What the platform accepts from a caller: request bodies, amounts, counts, text.

Every request body model subclasses ``RequestBody``: unknown fields are
refused, every string is bounded and free of control characters (a NUL byte
never reaches the database). Every integer a caller sends is strict: ``"40000"``,
``true`` and ``1e3`` are refused, never coerced, and amounts have an upper bound
well inside the database's 64-bit integers, so sums of them cannot overflow.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

MAX_AMOUNT = 1_000_000_000_000
"""Largest amount accepted in one field: 10^12 minor units (one trillion yen)."""

MAX_COUNT = 1_000_000_000
"""Largest count (units, for example) accepted in one field."""

MAX_TEXT = 10_000
"""Longest string accepted in any field that does not set its own, smaller bound."""

StrictInt = Annotated[int, Strict()]
"""An integer that must arrive as a JSON integer (no strings, booleans or floats)."""

Amount = Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT, description="Minor units")]
"""A positive amount of money in minor units (JPY: yen)."""

AmountOrZero = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT, description="Minor units")]

Count = Annotated[int, Strict(), Field(gt=0, le=MAX_COUNT)]

# Tab, line feed and carriage return are text; every other C0/C1 control character
# (Unicode category Cc), and lone surrogates (category Cs, which no encoding can
# store), are refused.
_CONTROL = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ud800-\\udfff]")


def control_character(text: str) -> str | None:
    """The first character of ``text`` that no text field may hold, if any."""
    found = _CONTROL.search(text)
    return found.group() if found else None


def _find_control(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if control_character(value) is not None else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and control_character(key) is not None:
                return path or "(key)"
            found = _find_control(item, where)
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_control(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


class BodyPart(BaseModel):
    """A part of a request body (a posting, a batch's entry): closed and bounded; the
    body it belongs to checks its text, once for the whole body."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)


def _iso_day(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written ``YYYY-MM-DD`` (no timestamps, no numbers)."""


class RequestBody(BaseModel):
    """Base of every request body: closed, bounded, no control characters.

    Nested models are ``BodyPart``s: the body walks all of its text once.
    """

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        where = _find_control(data, "")
        if where is not None:
            raise PydanticCustomError(
                "control_character",
                "control characters are not allowed (in {field})",
                {"field": where[:100]},
            )
        return data


# -- query strings ------------------------------------------------------------------------


def _query_names(route: APIRoute) -> set[str]:
    """The query parameters a route takes, its dependencies' included (a few at most:
    cheaper to walk than to cache)."""
    found: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found.update(field.alias for field in dependant.query_params)
        pending.extend(dependant.dependencies)
    return found


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is refused (422), not ignored: a
    misspelt filter would otherwise answer as if there were none."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _query_names(route)
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "This operation takes no such query parameter",
                    "input": request.query_params.get(name),
                }
                for name in unknown
            ]
        )
