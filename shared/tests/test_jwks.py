"""The identity provider's keys: which are used, when they are fetched again, and how
tokens signed with them are judged (no network: the JWKS is served from memory)."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from kumiai.auth import Principal, Role, TokenVerifier, mint_token
from kumiai.errors import SigningKeysUnavailable, Unauthorized
from kumiai.jwks import JwksKeys, UnknownSigningKey, parse_jwks
from kumiai.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", **extra}


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, **extra}


def document(*keys: object) -> bytes:
    return json.dumps({"keys": list(keys)}).encode()


class Provider:
    """A JWKS served from memory, with a clock the test moves."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.down = False
        self.now = 1000.0

    async def fetch(self) -> bytes:
        if self.down:
            raise OSError("connection refused")
        return document(*self.keys)

    def jwks(self, *, refresh_s: float = 300, min_refetch_s: float = 30) -> JwksKeys:
        return JwksKeys(
            "https://id.example/jwks",
            refresh_s=refresh_s,
            min_refetch_s=min_refetch_s,
            timeout_s=1,
            fetch=self.fetch,
            clock=lambda: self.now,
        )


def test_only_public_signing_keys_of_accepted_kinds_are_used() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
    p384 = ec.generate_private_key(ec.SECP384R1())
    private = {**rsa_jwk(RSA_KEY, "private"), "d": "AQAB"}
    keys = parse_jwks(
        document(
            rsa_jwk(RSA_KEY, "rsa"),
            ec_jwk(EC_KEY, "ec", alg="ES256"),
            rsa_jwk(RSA_KEY, "no-kid") | {"kid": ""},
            rsa_jwk(RSA_KEY, "encryption", use="enc"),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"},
            private,
            rsa_jwk(weak, "weak"),
            ec_jwk(p384, "p384"),
            rsa_jwk(RSA_KEY, "mismatch", alg="ES256"),
            "not an object",
        )
    )
    assert sorted(keys) == ["ec", "rsa"]
    assert keys["rsa"].accepts("RS256")
    assert keys["rsa"].accepts("PS256")
    assert not keys["rsa"].accepts("ES256")
    assert not keys["rsa"].accepts("HS256")
    assert keys["ec"].accepts("ES256")
    assert not keys["ec"].accepts("RS256")


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'{"keys": {}}', b"\xff"])
def test_a_document_that_is_not_a_jwks_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        parse_jwks(body)


def test_a_key_pinned_to_an_algorithm_accepts_only_that_one() -> None:
    keys = parse_jwks(document(rsa_jwk(RSA_KEY, "pinned", alg="RS256")))
    assert keys["pinned"].accepts("RS256")
    assert not keys["pinned"].accepts("PS256")


async def test_an_unknown_kid_fetches_again_at_most_once_per_interval() -> None:
    provider = Provider(rsa_jwk(RSA_KEY, "k1"))
    jwks = provider.jwks(min_refetch_s=30)
    assert (await jwks.key("k1")).kid == "k1"
    assert jwks.fetches == 1
    provider.now += 31
    for n in range(100):
        with pytest.raises(UnknownSigningKey):
            await jwks.key(f"forged-{n}")
    assert jwks.fetches == 2, "a flood of forged kids costs one fetch per interval"
    # The provider starts signing with a new key: found after the interval, not before.
    provider.keys.append(rsa_jwk(RSA_KEY_2, "k2"))
    with pytest.raises(UnknownSigningKey):
        await jwks.key("k2")
    provider.now += 31
    assert (await jwks.key("k2")).kid == "k2"
    assert jwks.fetches == 3


async def test_a_key_removed_from_the_jwks_is_refused_after_the_next_refresh() -> None:
    provider = Provider(rsa_jwk(RSA_KEY, "old"), rsa_jwk(RSA_KEY_2, "new"))
    jwks = provider.jwks(refresh_s=300, min_refetch_s=30)
    await jwks.key("old")
    provider.keys = [rsa_jwk(RSA_KEY_2, "new")]
    provider.now += 299
    assert (await jwks.key("old")).kid == "old", "still within the refresh interval"
    provider.now += 2
    with pytest.raises(UnknownSigningKey):
        await jwks.key("old")
    assert (await jwks.key("new")).kid == "new"


async def test_cached_keys_keep_working_while_the_provider_is_down() -> None:
    provider = Provider(rsa_jwk(RSA_KEY, "k1"))
    jwks = provider.jwks(refresh_s=300, min_refetch_s=30)
    await jwks.key("k1")
    provider.down = True
    provider.now += 3600
    assert (await jwks.key("k1")).kid == "k1"
    fetches = jwks.fetches
    for _ in range(50):
        await jwks.key("k1")
    assert jwks.fetches == fetches, "a failed refresh is retried once per interval, not per token"


async def test_without_any_key_fetched_the_caller_is_told_to_retry() -> None:
    provider = Provider(rsa_jwk(RSA_KEY, "k1"))
    provider.down = True
    jwks = provider.jwks()
    with pytest.raises(SigningKeysUnavailable) as unavailable:
        await jwks.key("k1")
    assert unavailable.value.status == 503
    assert "Retry-After" in unavailable.value.response_headers()


# Tokens checked against the keys.

LEDGER = ServiceSettings(environment="test", jwt_jwks_url="https://id.example/jwks")
NOW = int(time.time())


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "hokkaido-bank-api",
        "role": "bank",
        "tenant": "hokkaido-bank",
        "iss": "kumiai",
        "aud": "kumiai-ledger",
        "iat": NOW,
        "exp": NOW + 900,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def verifier(settings: ServiceSettings = LEDGER) -> TokenVerifier:
    provider = Provider(rsa_jwk(RSA_KEY, "rsa"), ec_jwk(EC_KEY, "ec"))
    return TokenVerifier(settings, service="ledger", keys=provider.jwks())


BANK = Principal(subject="hokkaido-bank-api", role=Role.BANK, tenant="hokkaido-bank")


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [(RSA_KEY, "RS256", "rsa"), (RSA_KEY, "PS256", "rsa"), (EC_KEY, "ES256", "ec")],
)
async def test_tokens_signed_by_a_key_of_the_jwks_are_accepted(
    key: Any, alg: str, kid: str
) -> None:
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    assert await verifier().verify(token) == BANK


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.STAFF, tenant="platform"),
            "algorithm not accepted",
        ),
        (jwt.encode(claims(), key="", algorithm="none"), "algorithm not accepted"),
        (jwt.encode(claims(), RSA_KEY, algorithm="RS256"), "names no signing key"),
        (
            jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "forged"}),
            "signing key is not known",
        ),
        (
            jwt.encode(claims(), RSA_KEY_2, algorithm="RS256", headers={"kid": "rsa"}),
            "signature does not verify",
        ),
        (
            jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "rsa"}),
            "does not match its signing key",
        ),
        (
            jwt.encode(
                claims(aud="kumiai-subscription"),
                RSA_KEY,
                algorithm="RS256",
                headers={"kid": "rsa"},
            ),
            "another audience",
        ),
        (
            jwt.encode(claims(aud="kumiai"), RSA_KEY, algorithm="RS256", headers={"kid": "rsa"}),
            "another audience",
        ),
        (
            jwt.encode(claims(exp=NOW + 7200), RSA_KEY, algorithm="RS256", headers={"kid": "rsa"}),
            "lives longer than the 3600 s",
        ),
        (
            jwt.encode(claims(exp=NOW - 120), RSA_KEY, algorithm="RS256", headers={"kid": "rsa"}),
            "expired",
        ),
    ],
    ids=[
        "hs256",
        "none",
        "no-kid",
        "unknown-kid",
        "other-key",
        "alg-mismatch",
        "other-service",
        "development-audience",
        "too-long",
        "expired",
    ],
)
async def test_doubtful_tokens_are_refused_with_a_jwks(token: str, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        await verifier().verify(token)


async def test_role_and_tenant_may_come_from_namespaced_claims() -> None:
    mapped = ServiceSettings(
        environment="test",
        jwt_jwks_url="https://id.example/jwks",
        jwt_role_claim="https://kumiai.example/role",
        jwt_tenant_claim="https://kumiai.example/tenant",
        jwt_issuer="https://id.example/",
        jwt_audience="https://api.kumiai.example/ledger",
    )
    token = jwt.encode(
        claims(
            role=None,
            tenant=None,
            iss="https://id.example/",
            aud="https://api.kumiai.example/ledger",
            **{
                "https://kumiai.example/role": "bank",
                "https://kumiai.example/tenant": "hokkaido-bank",
            },
        ),
        RSA_KEY,
        algorithm="RS256",
        headers={"kid": "rsa"},
    )
    assert await verifier(mapped).verify(token) == BANK
    plain = jwt.encode(
        claims(iss="https://id.example/", aud="https://api.kumiai.example/ledger"),
        RSA_KEY,
        algorithm="RS256",
        headers={"kid": "rsa"},
    )
    with pytest.raises(Unauthorized, match="role or tenant"):
        await verifier(mapped).verify(plain)
