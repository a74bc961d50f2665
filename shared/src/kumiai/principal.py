"""Who is calling: a role and the tenant it acts for. Pure: no web framework.

Rules decide with a ``Principal``; ``kumiai.auth`` makes one from a bearer token.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Role(StrEnum):
    STAFF = "staff"
    MSME = "msme"
    INVESTOR = "investor"
    BANK = "bank"
    MUNICIPALITY = "municipality"
    SERVICE = "service"


PLATFORM_SERVICES = frozenset({"onboarding", "subscription", "ledger", "disclosure", "subsidy"})
"""The only valid tenants of a ``service`` token: the platform's own services."""

PARTNER_ROLES = frozenset({Role.BANK, Role.MUNICIPALITY})
"""Roles whose tenant must be a registered, active partner."""


class Principal(BaseModel):
    """Who is calling: the token's subject, role and tenant."""

    subject: str
    role: Role
    tenant: str

    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    @property
    def key_scope(self) -> str:
        """The namespace of this caller's Idempotency-Keys: role, tenant and subject.

        A key is never shared between two callers, nor with the keys the
        services derive for their own writes.
        """
        return f"{self.role.value}/{self.tenant}/{self.subject}"
