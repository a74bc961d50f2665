"""Bearer JWT authentication and role/tenant authorisation.

A token carries a role and the tenant it acts for (its MSME, investor, bank,
municipality or service id). HS256 with a configured secret in development;
RS256 keys from a JWKS URL when one is configured.

Who may call is decided in two places: the route's ``require_roles`` (which
roles, and which of the platform's own services) and, for partner banks and
municipalities, the partner registry (``kumiai.partners``): a token of a
partner staff never registered, or suspended, is refused everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kumiai.errors import Forbidden, Unauthorized
from kumiai.partners import partner_directory
from kumiai.principal import PARTNER_ROLES as PARTNER_ROLES
from kumiai.principal import PLATFORM_SERVICES as PLATFORM_SERVICES
from kumiai.principal import Principal as Principal
from kumiai.principal import Role as Role
from kumiai.settings import ServiceSettings

# Tenants are ids: UUIDs, partner slugs, JIS codes, service names.
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")
MAX_TOKEN_BYTES = 4096


class InvalidToken(Unauthorized):
    problem = "invalid-token"
    title = "The bearer token is not valid"


class UnknownPartner(Forbidden):
    problem = "unknown-partner"
    title = "The token's partner is not registered, or is suspended"


# What a caller is told about a refused token: enough to fix it, nothing of the library.
_TOKEN_ERRORS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.InvalidIssuerError, "the token was issued by an unknown issuer"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token is signed with an algorithm not accepted here"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim (exp, iat, sub, iss, aud)"),
    (jwt.DecodeError, "the token is not a well-formed JWT"),
    (jwt.PyJWKClientError, "the token's signing key is not known"),
)


def _token_problem(exc: jwt.PyJWTError) -> str:
    for kind, message in _TOKEN_ERRORS:
        if isinstance(exc, kind):
            return message
    return "the token is not valid"


class TokenVerifier:
    """Verifies bearer tokens against the configured secret or JWKS."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        """The caller a token names; ``InvalidToken`` (401) for anything doubtful."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        settings = self._settings
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key = settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_token_problem(exc)) from exc
        return _principal(claims, max_lifetime_s=settings.jwt_max_lifetime_s)


def _principal(claims: dict[str, Any], *, max_lifetime_s: int) -> Principal:
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidToken("exp and iat must be numeric dates")
    if exp - iat > max_lifetime_s:
        raise InvalidToken(f"the token lives longer than the {max_lifetime_s} s allowed")
    subject, role_claim, tenant = claims.get("sub"), claims.get("role"), claims.get("tenant")
    if not isinstance(subject, str) or not subject or len(subject) > 200:
        raise InvalidToken("the token's subject must be a non-empty string")
    try:
        role = Role(str(role_claim))
    except ValueError:
        raise InvalidToken("the token lacks a valid role or tenant claim") from None
    if not isinstance(tenant, str) or not TENANT.match(tenant):
        raise InvalidToken("the token lacks a valid role or tenant claim")
    if role is Role.SERVICE and tenant not in PLATFORM_SERVICES:
        raise InvalidToken("a service token must name one of the platform's services")
    return Principal(subject=subject, role=role, tenant=tenant)


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
    """The verified caller; a partner's token only while the partner is registered and active."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = verifier.verify(credentials.credentials)
    directory = partner_directory(request)
    if principal.role in PARTNER_ROLES and not await directory.is_active(
        principal.role.value, principal.tenant
    ):
        raise UnknownPartner(f"{principal.role.value} {principal.tenant!r} is not a partner")
    return principal


def require_roles(
    *roles: Role, services: Iterable[str] = ()
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller, if it has one of ``roles``; 403 otherwise.

    A ``service`` token is accepted only from the platform services named in
    ``services`` (those that call this route); ``Role.SERVICE`` is never
    passed in ``roles``.
    """
    if Role.SERVICE in roles:
        raise ValueError("name the calling services with services=..., not Role.SERVICE")
    callers = frozenset(services)
    unknown = callers - PLATFORM_SERVICES
    if unknown:
        raise ValueError(f"not platform services: {sorted(unknown)}")

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role is Role.SERVICE:
            if principal.tenant not in callers:
                raise Forbidden(f"the {principal.tenant} service does not call this")
            return principal
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role.value!r} may not do this")
        return principal

    return dependency
