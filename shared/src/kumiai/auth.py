"""Bearer JWT authentication and role/tenant authorisation.

A token carries a role and the tenant it acts for (its MSME, investor, bank,
municipality or service id). HS256 with a configured secret in development;
RS256 keys from a JWKS URL when one is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from kumiai.errors import Forbidden, Unauthorized
from kumiai.settings import ServiceSettings


class Role(StrEnum):
    STAFF = "staff"
    MSME = "msme"
    INVESTOR = "investor"
    BANK = "bank"
    MUNICIPALITY = "municipality"
    SERVICE = "service"


class Principal(BaseModel):
    """Who is calling: the token's subject, role and tenant."""

    subject: str
    role: Role
    tenant: str

    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    def require_tenant(self, tenant: str) -> None:
        """Refuse unless the caller is staff or acts for ``tenant``."""
        if not self.is_staff() and self.tenant != tenant:
            raise Forbidden("this resource belongs to another tenant")


class TokenVerifier:
    """Verifies bearer tokens against the configured secret or JWKS."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key = self._settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        try:
            return Principal(
                subject=claims["sub"], role=Role(claims["role"]), tenant=claims["tenant"]
            )
        except (KeyError, ValueError) as exc:
            raise Unauthorized("token lacks a valid role or tenant claim") from exc


def mint_token(
    *,
    secret: str,
    role: Role,
    tenant: str,
    subject: str | None = None,
    issuer: str = "kumiai",
    audience: str = "kumiai",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """An HS256 development token (the ``kumiai token`` command)."""
    now = datetime.now(UTC)
    claims = {
        "sub": subject or f"{role.value}:{tenant}",
        "role": role.value,
        "tenant": tenant,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="JWT with `role` and `tenant` claims")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller, if it has one of ``roles``; 403 otherwise."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role.value!r} may not do this")
        return principal

    return dependency
