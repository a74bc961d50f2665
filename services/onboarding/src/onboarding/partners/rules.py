"""The partner registry's rules (pure): who a bank or a municipality is, and how its status moves.

A partner's id is the tenant its tokens carry. A bank's is a slug of lower-case
letters, digits and hyphens (``hokkaido-bank``) and it has a four-digit Zengin
bank code; a municipality's is its six-digit local government code, check digit
included, and it has no bank code. An id, and a Zengin code, registers once.
A partner's record carries the sequence of the last event about it, so every
service's copy applies only newer changes (decision 0009). Only staff keep the
registry.

The database holds some of these too: ``ck_partners_kind_known``,
``ck_partners_status_known`` (``kumiai.platform_tables.partners``), and the
conditional writes of ``kumiai.partners.record_partner`` and ``change_status``
(only a newer version wins).
"""

from __future__ import annotations

import re

from kumiai.contracts.onboarding import PartnerKind, PartnerStatus
from kumiai.principal import Principal
from kumiai.problems import Conflict, UnprocessableContent
from onboarding.msmes.rules import InvalidIdentifier, validate_municipality_code

BANK_SLUG = re.compile(r"^(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9]|-(?!-)){0,61}[a-z0-9]$")
"""2-63 characters, at least one letter, no leading, trailing or doubled hyphen.

The letter keeps a bank's id apart from every municipality's six-digit code.
"""

ZENGIN_CODE = re.compile(r"^[0-9]{4}$")


class PartnerRefused(UnprocessableContent):
    problem = "partner-invalid"
    title = "The partner's identifiers do not check out"


class PartnerExists(Conflict):
    problem = "partner-exists"
    title = "A partner with this id or Zengin bank code is already registered"


class PartnerStatusConflict(Conflict):
    problem = "partner-status"
    title = "The partner already has that status"


class RegistryOutOfStep(Conflict):
    problem = "partner-registry-out-of-step"
    title = "The partner's record is newer than its events; it cannot be changed here"


class InvalidPartner(PartnerRefused):
    """The partner's identifiers do not check out; ``problems`` maps each field to the fault."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(
            "; ".join(problems.values()),
            invalid_params=[{"name": f"body.{k}", "reason": v} for k, v in problems.items()],
        )
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


def check_id_free(partner_id: str, *, taken: bool) -> None:
    """A partner's id registers once (the primary key of ``partners`` holds it too)."""
    if taken:
        raise PartnerExists(f"partner {partner_id} is already registered")


def check_zengin_code_free(zengin_code: str | None, *, holder: str | None) -> None:
    """A Zengin bank code belongs to one partner only."""
    if zengin_code is not None and holder is not None:
        raise PartnerExists(
            f"Zengin bank code {zengin_code} belongs to partner {holder}",
            existing=f"/partners/{holder}",
        )


class StatusUnchanged(PartnerStatusConflict):
    """The partner already has the status asked for."""

    def __init__(self, current: PartnerStatus) -> None:
        super().__init__(f"the partner is already {current.value}", status=current.value)


def check_status_change(current: PartnerStatus, wanted: PartnerStatus) -> None:
    """Suspend only an active partner and reinstate only a suspended one."""
    if current is wanted:
        raise StatusUnchanged(current)


def check_in_step(partner_id: str, *, version: int, sequence: int) -> None:
    """A change is made only if its event's sequence is above the record's version.

    A record written without its event (loaded by hand, say) is ahead of its events:
    every copy would ignore a change numbered below it (``kumiai.partners.change_status``
    updates only ``WHERE version < :version``), so none is made.
    """
    if sequence <= version:
        raise RegistryOutOfStep(
            f"partner {partner_id} is at version {version}, its events at {sequence - 1}"
        )


def may_read(principal: Principal) -> bool:
    """Only platform staff read and keep the partner registry."""
    return principal.is_staff()
