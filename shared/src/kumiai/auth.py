"""Bearer JWT authentication and role/tenant authorisation.

A token carries a role and the tenant it acts for (its MSME, investor, bank,
municipality or service id). In production tokens come from the operator's
identity provider: signed RS256, PS256 or ES256 with a key of its JWKS
(``kumiai.jwks``), naming the key (``kid``) and this service's audience
(``kumiai-<service>``), and living at most an hour. In development and tests,
HS256 with the development secret and audience ``kumiai`` (``kumiai token``).
Role and tenant are read from the claims ``jwt_role_claim`` and
``jwt_tenant_claim`` (``role`` and ``tenant`` unless mapped).

Who may call is decided in two places: the route's ``require_roles`` (which
roles, and which of the platform's own services) and, for partner banks and
municipalities, the partner registry (``kumiai.partners``): a token of a
partner staff never registered, or suspended, is refused everywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kumiai.errors import Forbidden, Unauthorized
from kumiai.jwks import KEY_TYPES, JwksKeys, UnknownSigningKey
from kumiai.partner_calls import remember_principal
from kumiai.partners import partner_directory
from kumiai.principal import PARTNER_ROLES as PARTNER_ROLES
from kumiai.principal import PLATFORM_SERVICES as PLATFORM_SERVICES
from kumiai.principal import Principal as Principal
from kumiai.principal import Role as Role
from kumiai.ratelimit import PartnerRateLimit
from kumiai.settings import DEVELOPMENT_AUDIENCE, ServiceSettings

# Tenants are ids: UUIDs, partner slugs, JIS codes, service names.
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")
MAX_TOKEN_BYTES = 4096
REMEMBERED_TOKENS = 4096
"""Verified tokens a process remembers at most (then it forgets them all at once)."""


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
)


def _token_problem(exc: jwt.PyJWTError) -> str:
    for kind, message in _TOKEN_ERRORS:
        if isinstance(exc, kind):
            return message
    return "the token is not valid"


@dataclass(frozen=True)
class _Verified:
    """A token that verified, and while it stays valid without checking it again."""

    principal: Principal
    not_before: float
    not_after: float
    keys_generation: int


class TokenVerifier:
    """Verifies bearer tokens: against the identity provider's JWKS when one is
    configured, else against the development secret.

    A caller sends the same token with every request until it expires, and checking
    its signature was a good part of a request's time; a token that verified is
    remembered, and accepted again without a second check only while its own times
    (``iat``, ``nbf``, ``exp``, with the allowed skew) hold and, with a JWKS, while
    the keys it was checked against are still the current ones (a key the provider
    removes stops being accepted at the same refresh as before). A refused token is
    never remembered.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        service: str | None = None,
        keys: JwksKeys | None = None,
        clock: Callable[[], float] = time.time,
        remember: int = REMEMBERED_TOKENS,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._remember = remember
        self._verified: dict[str, _Verified] = {}
        self.signature_checks = 0
        """Tokens checked in full (for tests and metrics)."""
        self._audience = settings.token_audience(service)
        self._max_lifetime_s = settings.token_max_lifetime_s
        self._keys = keys or (
            JwksKeys(
                settings.jwt_jwks_url,
                refresh_s=settings.jwt_jwks_refresh_s,
                min_refetch_s=settings.jwt_jwks_min_refetch_s,
                timeout_s=settings.jwt_jwks_timeout_s,
            )
            if settings.jwt_jwks_url
            else None
        )

    @property
    def keys(self) -> JwksKeys | None:
        """The identity provider's keys, when tokens are verified against a JWKS."""
        return self._keys

    async def verify(self, token: str) -> Principal:
        """The caller a token names; ``InvalidToken`` (401) for anything doubtful."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        known = self._verified.get(token)
        if known is not None:
            if self._still_valid(known):
                return known.principal
            del self._verified[token]
        principal, claims = await self._check(token)
        self._note(token, principal, claims)
        return principal

    def _still_valid(self, known: _Verified) -> bool:
        now = self._clock()
        if not known.not_before <= now < known.not_after:
            return False
        keys = self._keys
        return keys is None or (keys.generation == known.keys_generation and keys.fresh())

    def _note(self, token: str, principal: Principal, claims: dict[str, Any]) -> None:
        # Checked against the keys held now (fetched again first if they were stale).
        generation = self._keys.generation if self._keys is not None else 0
        leeway = self._settings.jwt_leeway_s
        starts = max(float(claims["iat"]), float(claims.get("nbf", claims["iat"])))
        if len(self._verified) >= self._remember:
            self._verified.clear()
        self._verified[token] = _Verified(
            principal=principal,
            not_before=starts - leeway,
            not_after=float(claims["exp"]) + leeway,
            keys_generation=generation,
        )

    async def _check(self, token: str) -> tuple[Principal, dict[str, Any]]:
        self.signature_checks += 1
        settings = self._settings
        try:
            if self._keys is not None:
                key, algorithms = await self._signing_key(self._keys, token)
            else:
                key, algorithms = settings.jwt_secret.get_secret_value(), ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_token_problem(exc)) from exc
        principal = _principal(
            claims,
            max_lifetime_s=self._max_lifetime_s,
            role_claim=settings.jwt_role_claim,
            tenant_claim=settings.jwt_tenant_claim,
        )
        return principal, claims

    @staticmethod
    async def _signing_key(keys: JwksKeys, token: str) -> tuple[Any, list[str]]:
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in KEY_TYPES:
            raise InvalidToken("the token is signed with an algorithm not accepted here")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token's header names no signing key (kid)")
        try:
            found = await keys.key(kid)
        except UnknownSigningKey:
            raise InvalidToken("the token's signing key is not known") from None
        if not found.accepts(alg):
            raise InvalidToken("the token's algorithm does not match its signing key")
        return found.key, [alg]


def _principal(
    claims: dict[str, Any],
    *,
    max_lifetime_s: int,
    role_claim: str = "role",
    tenant_claim: str = "tenant",
) -> Principal:
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidToken("exp and iat must be numeric dates")
    if exp - iat > max_lifetime_s:
        raise InvalidToken(f"the token lives longer than the {max_lifetime_s} s allowed")
    subject, role_value = claims.get("sub"), claims.get(role_claim)
    tenant = claims.get(tenant_claim)
    if not isinstance(subject, str) or not subject or len(subject) > 200:
        raise InvalidToken("the token's subject must be a non-empty string")
    try:
        role = Role(role_value) if isinstance(role_value, str) else None
    except ValueError:
        role = None
    if role is None or not isinstance(tenant, str) or not TENANT.match(tenant):
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
    audience: str = DEVELOPMENT_AUDIENCE,
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
    principal = await verifier.verify(credentials.credentials)
    if principal.role in PARTNER_ROLES:
        # Recorded whatever the answer (kumiai.partner_calls), a suspended partner's attempts
        # included; counted against the partner's rate before its registry entry is looked up.
        remember_principal(request.scope, principal)
        limit: PartnerRateLimit | None = getattr(request.app.state, "partner_rate_limit", None)
        if limit is not None:
            limit.check(principal)
        directory = partner_directory(request)
        if not await directory.is_active(principal.role.value, principal.tenant):
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
