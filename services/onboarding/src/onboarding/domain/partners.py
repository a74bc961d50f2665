"""The partner registry's rules: who a bank or a municipality is, and how its status moves (pure).

A partner's id is the tenant its tokens carry. A bank's is a slug of lower-case
letters, digits and hyphens (``hokkaido-bank``) and it has a four-digit Zengin
bank code; a municipality's is its six-digit local government code, check digit
included, and it has no bank code.
"""

from __future__ import annotations

import re

from kumiai.contracts.onboarding import PartnerKind, PartnerStatus
from onboarding.domain.identifiers import InvalidIdentifier, validate_municipality_code

BANK_SLUG = re.compile(r"^(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9]|-(?!-)){0,61}[a-z0-9]$")
"""2-63 characters, at least one letter, no leading, trailing or doubled hyphen.

The letter keeps a bank's id apart from every municipality's six-digit code.
"""

ZENGIN_CODE = re.compile(r"^[0-9]{4}$")


class InvalidPartner(ValueError):
    """The partner's identifiers do not check out; ``problems`` maps each field to the fault."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def check_partner(kind: PartnerKind, partner_id: str, zengin_code: str | None) -> None:
    """Refuse a partner whose id or bank code does not fit its kind, naming every field."""
    problems: dict[str, str] = {}
    if kind is PartnerKind.BANK:
        if not BANK_SLUG.fullmatch(partner_id):
            problems["partner_id"] = (
                f"a bank's id {partner_id!r} must be 2-63 lower-case letters, digits and single "
                "hyphens, with at least one letter (e.g. hokkaido-bank)"
            )
        if zengin_code is None:
            problems["zengin_code"] = "a bank needs its four-digit Zengin bank code"
        elif not ZENGIN_CODE.fullmatch(zengin_code):
            problems["zengin_code"] = f"Zengin bank code {zengin_code!r} must be four digits"
    else:
        try:
            validate_municipality_code(partner_id)
        except InvalidIdentifier as exc:
            problems["partner_id"] = f"a municipality's id is its local government code: {exc}"
        if zengin_code is not None:
            problems["zengin_code"] = "only banks have a Zengin bank code"
    if problems:
        raise InvalidPartner(problems)


class StatusUnchanged(ValueError):
    """The partner already has the status asked for."""


def check_status_change(current: PartnerStatus, wanted: PartnerStatus) -> None:
    """Suspend only an active partner and reinstate only a suspended one."""
    if current is wanted:
        raise StatusUnchanged(f"the partner is already {current.value}")
