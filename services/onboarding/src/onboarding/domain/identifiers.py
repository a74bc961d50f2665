"""Japanese business identifiers checked when a small business registers (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final


class InvalidIdentifier(ValueError):
    """An identifier is malformed or fails its check digit."""


PREFECTURES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "Hokkaido",
        "02": "Aomori",
        "03": "Iwate",
        "04": "Miyagi",
        "05": "Akita",
        "06": "Yamagata",
        "07": "Fukushima",
        "08": "Ibaraki",
        "09": "Tochigi",
        "10": "Gunma",
        "11": "Saitama",
        "12": "Chiba",
        "13": "Tokyo",
        "14": "Kanagawa",
        "15": "Niigata",
        "16": "Toyama",
        "17": "Ishikawa",
        "18": "Fukui",
        "19": "Yamanashi",
        "20": "Nagano",
        "21": "Gifu",
        "22": "Shizuoka",
        "23": "Aichi",
        "24": "Mie",
        "25": "Shiga",
        "26": "Kyoto",
        "27": "Osaka",
        "28": "Hyogo",
        "29": "Nara",
        "30": "Wakayama",
        "31": "Tottori",
        "32": "Shimane",
        "33": "Okayama",
        "34": "Hiroshima",
        "35": "Yamaguchi",
        "36": "Tokushima",
        "37": "Kagawa",
        "38": "Ehime",
        "39": "Kochi",
        "40": "Fukuoka",
        "41": "Saga",
        "42": "Nagasaki",
        "43": "Kumamoto",
        "44": "Oita",
        "45": "Miyazaki",
        "46": "Kagoshima",
        "47": "Okinawa",
    }
)
"""JIS X 0401 prefecture codes and their romanised names."""

INDUSTRIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "Agriculture and forestry",
        "B": "Fisheries",
        "C": "Mining and quarrying of stone and gravel",
        "D": "Construction",
        "E": "Manufacturing",
        "F": "Electricity, gas, heat supply and water",
        "G": "Information and communications",
        "H": "Transport and postal activities",
        "I": "Wholesale and retail trade",
        "J": "Finance and insurance",
        "K": "Real estate and goods rental and leasing",
        "L": "Scientific research, professional and technical services",
        "M": "Accommodations, eating and drinking services",
        "N": "Living-related and personal services and amusement services",
        "O": "Education, learning support",
        "P": "Medical, health care and welfare",
        "Q": "Compound services",
        "R": "Services, not elsewhere classified",
        "S": "Government, except elsewhere classified",
        "T": "Industries unable to classify",
    }
)
"""Japan Standard Industrial Classification major divisions."""


def _require_digits(value: str, length: int, what: str) -> str:
    if len(value) != length or not (value.isascii() and value.isdigit()):
        raise InvalidIdentifier(f"{what} {value!r} must be exactly {length} ASCII digits")
    return value


def corporate_number_check_digit(base12: str) -> int:
    """Check digit (the leading digit) of a corporate number for its 12-digit base."""
    _require_digits(base12, 12, "corporate number base")
    total = sum(
        int(digit) * (1 if n % 2 == 1 else 2) for n, digit in enumerate(reversed(base12), start=1)
    )
    return 9 - total % 9


def validate_corporate_number(value: str) -> str:
    """Return a 13-digit corporate number if its check digit is right."""
    _require_digits(value, 13, "corporate number")
    expected = corporate_number_check_digit(value[1:])
    if int(value[0]) != expected:
        raise InvalidIdentifier(
            f"corporate number {value} has check digit {value[0]}, expected {expected}"
        )
    return value


def validate_prefecture_code(value: str) -> str:
    """Return a two-digit JIS X 0401 prefecture code."""
    if value not in PREFECTURES:
        raise InvalidIdentifier(f"prefecture code {value!r} is not one of 01 to 47")
    return value


def local_government_check_digit(base5: str) -> int:
    """Check digit (the sixth digit) of a local government code for its 5-digit base."""
    _require_digits(base5, 5, "local government code base")
    remainder = (
        sum(int(digit) * weight for digit, weight in zip(base5, (6, 5, 4, 3, 2), strict=True)) % 11
    )
    return (11 - remainder) % 10


def validate_municipality_code(value: str, *, prefecture: str | None = None) -> str:
    """Return a 6-digit local government code, optionally required to lie in ``prefecture``."""
    _require_digits(value, 6, "local government code")
    if value[:2] not in PREFECTURES:
        raise InvalidIdentifier(
            f"local government code {value} starts with {value[:2]}, not a prefecture code"
        )
    expected = local_government_check_digit(value[:5])
    if int(value[5]) != expected:
        raise InvalidIdentifier(
            f"local government code {value} has check digit {value[5]}, expected {expected}"
        )
    if prefecture is not None and value[:2] != prefecture:
        raise InvalidIdentifier(
            f"local government code {value} is in prefecture {value[:2]}, not {prefecture!r}"
        )
    return value


def validate_industry(value: str) -> str:
    """Return a JSIC major division letter (A to T)."""
    if value not in INDUSTRIES:
        raise InvalidIdentifier(f"industry {value!r} is not a division letter A to T")
    return value
