"""The identity provider's signing keys, fetched from its JWKS URL and kept in memory.

Keys are fetched without blocking the event loop (httpx, bounded in time and size)
and fetched again once they are older than the refresh interval, so a key the
provider adds is used and a key it removes stops being accepted without a
restart. A token naming a key not seen yet triggers one fetch at once (a
provider may sign with a new key before the refresh interval has passed), but
fetches never come closer together than ``min_refetch_s``: a flood of tokens
with forged key ids costs the provider one request per interval, not one each.

When the provider cannot be reached the keys already fetched keep working; with
none fetched yet, the caller is told to retry (503 ``signing-keys-unavailable``):
the token may be perfectly good.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from kumiai.problems import SigningKeysUnavailable

log = structlog.get_logger(__name__)

KEY_TYPES: Mapping[str, str] = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
"""The algorithms accepted with a JWKS, and the key type each needs: asymmetric only
(never HS256, whose key would be public here, nor "none")."""

MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 50
MIN_RSA_BITS = 2048


class UnknownSigningKey(LookupError):
    """No key of the JWKS has the token's key id."""


@dataclass(frozen=True)
class SigningKey:
    """One public key of the provider: its id, type, the algorithm it is pinned to (if the
    JWKS says), and the key itself."""

    kid: str
    kty: str
    alg: str | None
    key: Any

    def accepts(self, alg: str) -> bool:
        """Whether a token signed with ``alg`` may be checked with this key."""
        return KEY_TYPES.get(alg) == self.kty and (self.alg is None or self.alg == alg)


def parse_jwks(document: bytes) -> dict[str, SigningKey]:
    """The usable signing keys of a JWKS document, by key id; ``ValueError`` if it is not one.

    Keys that are not for signatures, of a type or curve not accepted, too weak,
    carrying private material, or without a key id are left out (and logged).
    """
    try:
        body = json.loads(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("the JWKS is not JSON") from exc
    entries = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS has no list of keys")
    keys: dict[str, SigningKey] = {}
    for entry in entries[:MAX_KEYS]:
        try:
            key = _signing_key(entry)
        except ValueError as exc:
            log.warning("JWKS key left out", kid=_kid_of(entry), reason=str(exc))
            continue
        keys.setdefault(key.kid, key)
    return keys


def _kid_of(entry: object) -> str | None:
    kid = entry.get("kid") if isinstance(entry, dict) else None
    return kid[:100] if isinstance(kid, str) else None


def _signing_key(entry: object) -> SigningKey:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    kid, kty, alg, use = (entry.get(name) for name in ("kid", "kty", "alg", "use"))
    if not isinstance(kid, str) or not 0 < len(kid) <= 200:
        raise ValueError("no key id")
    if use not in (None, "sig"):
        raise ValueError("not a signing key")
    if alg is not None and alg not in KEY_TYPES:
        raise ValueError(f"algorithm {str(alg)[:20]!r} is not accepted")
    if alg is not None and KEY_TYPES[alg] != kty:
        raise ValueError("algorithm and key type disagree")
    if "d" in entry:
        raise ValueError("private key material published")
    if kty == "RSA":
        key: Any = RSAAlgorithm.from_jwk(entry)
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    elif kty == "EC":
        if entry.get("crv") != "P-256":
            raise ValueError("EC keys must be on P-256 (ES256)")
        key = ECAlgorithm.from_jwk(entry)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("not an EC public key")
    else:
        raise ValueError(f"key type {str(kty)[:20]!r} is not accepted")
    return SigningKey(kid=kid, kty=kty, alg=alg, key=key)


async def fetch_jwks(url: str, *, timeout_s: float) -> bytes:
    """The JWKS document at ``url``, within ``timeout_s`` and ``MAX_JWKS_BYTES``."""

    async def get() -> bytes:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
            return bytes(body)

    return await asyncio.wait_for(get(), timeout_s)


Fetch = Callable[[], Awaitable[bytes]]


class JwksKeys:
    """The provider's keys as one service process knows them."""

    def __init__(
        self,
        url: str,
        *,
        refresh_s: float,
        min_refetch_s: float,
        timeout_s: float,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._refresh_s = refresh_s
        self._min_refetch_s = min_refetch_s
        self._fetch = fetch or (lambda: fetch_jwks(url, timeout_s=timeout_s))
        self._clock = clock
        self._keys: dict[str, SigningKey] | None = None
        self._fetched_at = -float("inf")
        self._attempted_at = -float("inf")
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Fetches attempted so far (for tests and metrics)."""
        self.generation = 0
        """Grows with every successful fetch: a token checked against older keys is
        checked again."""

    def fresh(self) -> bool:
        """Whether keys were fetched and are younger than the refresh interval (a token
        checked against them needs no new look at the provider's keys)."""
        return self._keys is not None and self._clock() - self._fetched_at < self._refresh_s

    async def key(self, kid: str) -> SigningKey:
        """The key named ``kid``; ``UnknownSigningKey`` if the provider has none by that id,
        ``SigningKeysUnavailable`` if no keys could be fetched at all."""
        if self._keys is None or self._clock() - self._fetched_at >= self._refresh_s:
            await self._refresh()
        if self._keys is None:
            raise SigningKeysUnavailable(
                "the identity provider's signing keys could not be fetched; retry shortly"
            )
        found = self._keys.get(kid)
        if found is None:
            await self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise UnknownSigningKey(kid)
        return found

    async def _refresh(self) -> None:
        """Fetch the keys again, unless a fetch was attempted less than ``min_refetch_s``
        ago (then the keys, or their absence, stand); a failure keeps the keys held."""
        async with self._lock:
            if self._clock() - self._attempted_at < self._min_refetch_s:
                return
            self._attempted_at = self._clock()
            self.fetches += 1
            try:
                keys = parse_jwks(await self._fetch())
            except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError, ValueError) as exc:
                log.warning(
                    "JWKS fetch failed",
                    url=self._url,
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    cached_keys=len(self._keys or {}),
                )
                return
            self._keys = keys
            self._fetched_at = self._clock()
            self.generation += 1
