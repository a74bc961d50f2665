"""Japanese local government codes (JIS X 0402 with its check digit): who a code names,
and which applicants a programme of a prefecture or a municipality covers.

A code is six ASCII digits: two for the prefecture (01 Hokkaido to 47 Okinawa), three for
the municipality within it ("000" for the prefecture itself), and a check digit. Sapporo
is 011002, Hokkaido 010006, Chiyoda (Tokyo) 131016, Tokyo 130001.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

_PREFECTURES = frozenset(f"{n:02d}" for n in range(1, 48))
_WEIGHTS = (6, 5, 4, 3, 2)
_PREFECTURE_ITSELF = "000"


def _ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def local_government_check_digit(base5: str) -> int:
    """The sixth digit of a Japanese local government code (JIS X 0402) for its first five."""
    if not _ascii_digits(base5, 5):
        raise ValueError(f"a check digit is computed on five ASCII digits, not {base5!r}")
    remainder = sum(int(d) * w for d, w in zip(base5, _WEIGHTS, strict=True)) % 11
    return (11 - remainder) % 10


def is_local_government_code(value: str) -> bool:
    """Six ASCII digits: a prefecture (01-47), a municipality, and a correct check digit."""
    return (
        _ascii_digits(value, 6)
        and value[:2] in _PREFECTURES
        and int(value[5]) == local_government_check_digit(value[:5])
    )


def is_prefecture_code(code: str) -> bool:
    """Whether ``code`` is a valid local government code naming a prefecture itself (its
    digits 3-5 are "000", e.g. Hokkaido 010006), not one of its municipalities."""
    return is_local_government_code(code) and code[2:5] == _PREFECTURE_ITSELF


def prefecture_of(code: str) -> str:
    """The local government code of the prefecture ``code`` lies in (Sapporo 011002 ->
    Hokkaido 010006; a prefecture's code is its own); ValueError for an invalid code."""
    if not is_local_government_code(code):
        raise ValueError(f"{code!r} is not a local government code")
    base = code[:2] + _PREFECTURE_ITSELF
    return base + str(local_government_check_digit(base))


def covers(programme_code: str, applicant_code: str) -> bool:
    """Whether a programme run by ``programme_code`` is open to an applicant located in
    ``applicant_code``: a prefecture's programme covers the prefecture and every
    municipality in it, a municipality's programme only that municipality. An invalid
    code on either side covers nothing."""
    if not (is_local_government_code(programme_code) and is_local_government_code(applicant_code)):
        return False
    if is_prefecture_code(programme_code):
        return prefecture_of(applicant_code) == programme_code
    return applicant_code == programme_code


def _check_local_government_code(value: str) -> str:
    if not _ascii_digits(value, 6):
        raise PydanticCustomError(
            "local_government_code",
            "a local government code is six digits 0-9 (e.g. 011002 for Sapporo)",
        )
    if value[:2] not in _PREFECTURES:
        raise PydanticCustomError(
            "local_government_code",
            "a local government code starts with a prefecture number from 01 to 47, not {found}",
            {"found": value[:2]},
        )
    expected = local_government_check_digit(value[:5])
    if int(value[5]) != expected:
        raise PydanticCustomError(
            "local_government_code",
            "the check digit of local government code {code} is wrong: a code starting"
            " {base} ends in {digit}",
            {"code": value, "base": value[:5], "digit": str(expected)},
        )
    return value


LocalGovernmentCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=6,
        # The digits are checked by the validator, whose message says what is wrong; the
        # pattern is published for clients.
        json_schema_extra={"pattern": "^[0-9]{6}$"},
        description=(
            "Japanese local government code (JIS X 0402): six digits, the last a check digit;"
            " a prefecture's has 000 as its digits 3-5 (Hokkaido 010006)"
        ),
        examples=["011002"],
    ),
    AfterValidator(_check_local_government_code),
]
"""A request field holding a six-digit local government code with a correct check digit."""
