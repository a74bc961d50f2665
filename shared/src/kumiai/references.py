"""Payment references an investor quotes on a bank transfer (pure).

A reference is ``KM``, ten random Crockford base32 characters and one
Luhn mod 32 check character over those ten, e.g. ``KM0123456789T``.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: digits and capitals without I, L, O and U."""

PREFIX: Final = "KM"
PAYLOAD_LENGTH: Final = 10
REFERENCE_LENGTH: Final = len(PREFIX) + PAYLOAD_LENGTH + 1

_N: Final = len(ALPHABET)
_VALUES: Final = {char: value for value, char in enumerate(ALPHABET)}
_CANONICAL_LETTERS: Final = string.ascii_uppercase.translate(str.maketrans("OIL", "011"))
_NORMALISE: Final = str.maketrans(string.ascii_letters, _CANONICAL_LETTERS * 2, " -")
"""ASCII only: ``str.upper`` would turn e.g. a long s into S and let it through."""


def check_character(payload: str) -> str:
    """The Luhn mod 32 check character for ``payload`` (canonical alphabet characters)."""
    total = 0
    factor = 2
    for char in reversed(payload):
        if char not in _VALUES:
            raise ValueError(f"{char!r} is not a reference character")
        addend = factor * _VALUES[char]
        total += addend // _N + addend % _N
        factor = 3 - factor
    return ALPHABET[-total % _N]


def new_reference(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh reference; 32 divides 256, so ``byte % 32`` is unbiased."""
    data = random_bytes(PAYLOAD_LENGTH)
    if len(data) != PAYLOAD_LENGTH:
        raise ValueError(f"random source gave {len(data)} bytes, expected {PAYLOAD_LENGTH}")
    payload = "".join(ALPHABET[byte % _N] for byte in data)
    return PREFIX + payload + check_character(payload)


def normalise_reference(text: str) -> str:
    """Uppercase ASCII, drop spaces and hyphens, and read O as 0 and I or L as 1."""
    return text.translate(_NORMALISE)


def is_valid_reference(text: str) -> bool:
    """Whether ``text`` is, once normalised, a reference with a correct check character."""
    reference = normalise_reference(text)
    if len(reference) != REFERENCE_LENGTH or not reference.startswith(PREFIX):
        return False
    body = reference[len(PREFIX) :]
    if any(char not in _VALUES for char in body):
        return False
    return check_character(body[:-1]) == body[-1]
