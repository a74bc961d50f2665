"""The rules of a business (MSME) on the platform (pure: no database, no web framework).

A business registers once, by its Corporate Number; its identifiers are checked
(check digits included) against the Japanese registries' rules: the Corporate
Number, the JIS X 0401 prefecture code, the local government code and the JSIC
major division. A partner bank that registers a business has referred it. Staff
see every business, a business itself, and a bank the businesses it referred;
people's names and contact details are shown to the business itself and staff only.

The database holds the weaker forms of some rules too (``onboarding.db.models.Msme``):
``uq_msmes_corporate_number``, ``ck_msmes_corporate_number_digits`` and
``ck_msmes_municipality_in``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, Protocol
from uuid import UUID

from kumiai.local_government import local_government_check_digit as check_digit
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent

# -- identifiers -------------------------------------------------------------------------


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
    return check_digit(base5)


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


# -- registration ------------------------------------------------------------------------


class InvalidIdentity(UnprocessableContent):
    problem = "invalid-identity"
    title = "The business's identifiers do not check out"


class AlreadyRegistered(Conflict):
    problem = "already-registered"
    title = "A business with this Corporate Number is already registered"


def check_identity(
    *, corporate_number: str, prefecture_code: str, municipality_code: str, industry: str
) -> None:
    """Refuse a business whose identifiers do not check out, naming every field at fault at once.

    The database holds the weaker forms: ``ck_msmes_corporate_number_digits`` (13 digits)
    and ``ck_msmes_municipality_in`` (the municipality lies in the prefecture).
    """
    checks: dict[str, Callable[[], str]] = {
        "corporate_number": lambda: validate_corporate_number(corporate_number),
        "prefecture_code": lambda: validate_prefecture_code(prefecture_code),
        "municipality_code": lambda: validate_municipality_code(
            municipality_code, prefecture=prefecture_code
        ),
        "industry": lambda: validate_industry(industry),
    }
    problems = {}
    for field, check in checks.items():
        try:
            check()
        except InvalidIdentifier as exc:
            problems[field] = str(exc)
    if problems:
        raise InvalidIdentity(
            "; ".join(problems.values()),
            invalid_params=[{"name": f"body.{k}", "reason": v} for k, v in problems.items()],
        )


def registrant_id(principal: Principal) -> UUID | None:
    """The id a business registering itself must have (its token's tenant); ``None`` for others.

    A business's token names the business it acts for, so its registration takes that id.
    """
    if principal.role is not Role.MSME:
        return None
    try:
        return UUID(principal.tenant)
    except ValueError:
        raise Forbidden("a business's token must carry its id as tenant") from None


def referring_bank(principal: Principal) -> str | None:
    """The bank a registration records as the referral: the registering bank itself, if any."""
    return principal.tenant if principal.role is Role.BANK else None


def already_registered(
    corporate_number: str, existing: UUID, principal: Principal
) -> AlreadyRegistered:
    """The 409 for a Corporate Number registered before: only staff learn which business holds it.

    The database holds the rule too: ``uq_msmes_corporate_number``.
    """
    if not principal.is_staff():
        return AlreadyRegistered(f"corporate number {corporate_number} is already registered")
    return AlreadyRegistered(
        f"corporate number {corporate_number} is registered as business {existing}",
        existing_id=str(existing),
        existing=f"/msmes/{existing}",
    )


def id_already_registered(msme_id: UUID) -> AlreadyRegistered:
    """The 409 for a business whose id is registered already (the primary key ``pk_msmes``)."""
    return AlreadyRegistered(f"business {msme_id} is already registered", existing_id=str(msme_id))


# -- who sees what -----------------------------------------------------------------------


class Registered(Protocol):
    """What the access rules read of a registered business."""

    @property
    def id(self) -> UUID: ...

    @property
    def referred_by_bank(self) -> str | None: ...


def may_read(principal: Principal, msme: Registered) -> bool:
    """Staff see every business; a business itself; a bank the ones it referred."""
    match principal.role:
        case Role.STAFF:
            return True
        case Role.MSME:
            return principal.tenant == str(msme.id)
        case Role.BANK:
            return msme.referred_by_bank == principal.tenant
        case _:
            return False


def may_see_contact(principal: Principal, msme: Registered) -> bool:
    """People's names and contact details are for the business itself and staff only."""
    return principal.is_staff() or (
        principal.role is Role.MSME and principal.tenant == str(msme.id)
    )


def listed_bank(principal: Principal, referring_bank: str | None) -> str | None:
    """Whose referrals a list of businesses shows: a bank only its own; staff any (or all).

    Refuses every other role, and a bank asking for another bank's referrals.
    """
    if principal.role is Role.BANK:
        if referring_bank not in (None, principal.tenant):
            raise Forbidden("a bank sees only the businesses it referred")
        return principal.tenant
    if not principal.is_staff():
        raise Forbidden("only staff and partner banks list businesses")
    return referring_bank
