"""What the platform accepts from a caller: request bodies, amounts, counts, text.

Every request body model subclasses ``RequestBody``: unknown fields are
refused, every string is bounded and free of control characters (a NUL byte
never reaches the database). Every integer a caller sends is strict: ``"40000"``,
``true`` and ``1e3`` are refused, never coerced, and amounts have an upper bound
well inside the database's 64-bit integers, so sums of them cannot overflow.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator
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

# Tab, line feed and carriage return are text; every other C0/C1 control character,
# and lone surrogates (which no encoding can store), are refused.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_character(text: str) -> str | None:
    """The first character of ``text`` that no text field may hold, if any."""
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


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


class RequestBody(BaseModel):
    """Base of every request body: closed, bounded, no control characters."""

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
