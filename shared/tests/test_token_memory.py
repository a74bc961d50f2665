"""A token that verified is accepted again without a second check only while it would
still verify: within its own times, and against the keys it was checked with."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kumiai.auth import Role, TokenVerifier
from kumiai.errors import Unauthorized
from kumiai.jwks import JwksKeys
from kumiai.settings import ServiceSettings
from kumiai_tools.testing import staff_token

SETTINGS = ServiceSettings(environment="test")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_checked_once_while_it_is_valid() -> None:
    verifier = TokenVerifier(SETTINGS, clock=Clock())
    token = staff_token()
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert first.role is Role.STAFF
    assert verifier.signature_checks == 1


async def test_a_remembered_token_is_checked_again_outside_its_times() -> None:
    clock = Clock()
    verifier = TokenVerifier(SETTINGS, clock=clock)
    now = int(clock.now)
    token = staff_token(iat=now, exp=now + 600)
    await verifier.verify(token)
    clock.now = now + 600 + SETTINGS.jwt_leeway_s + 1
    await verifier.verify(token)  # the library's own clock still finds it valid
    assert verifier.signature_checks == 2, "past exp and the skew: not taken from memory"
    clock.now = now - SETTINGS.jwt_leeway_s - 1
    await verifier.verify(token)
    assert verifier.signature_checks == 3, "before iat less the skew: not taken from memory"


async def test_a_token_not_valid_before_a_time_is_not_remembered_before_it() -> None:
    clock = Clock()
    verifier = TokenVerifier(SETTINGS, clock=clock)
    now = int(clock.now)
    token = staff_token(iat=now - 60, nbf=now - 10)
    await verifier.verify(token)
    clock.now = now - 10 - SETTINGS.jwt_leeway_s - 1
    await verifier.verify(token)
    assert verifier.signature_checks == 2


async def test_a_refused_token_is_never_remembered() -> None:
    verifier = TokenVerifier(SETTINGS, clock=Clock())
    forged = jwt.encode(
        jwt.decode(staff_token(), options={"verify_signature": False}),
        "not-the-secret-this-service-trusts-at-all",
    )
    for _ in range(2):
        with pytest.raises(Unauthorized, match="signature"):
            await verifier.verify(forged)
    assert verifier.signature_checks == 2


async def test_memory_is_bounded() -> None:
    verifier = TokenVerifier(SETTINGS, clock=Clock(), remember=2)
    tokens = [staff_token(sub=f"staff:{n}") for n in range(3)]
    for token in tokens:
        await verifier.verify(token)
    await verifier.verify(tokens[0])
    assert verifier.signature_checks == 4, "the third token made room by forgetting"


def _jwk(kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


async def test_a_token_whose_key_was_removed_is_refused_after_the_next_refresh() -> None:
    served = [_jwk("old")]
    monotonic = Clock()

    async def fetch() -> bytes:
        return json.dumps({"keys": served}).encode()

    keys = JwksKeys(
        "https://id.example/jwks",
        refresh_s=300,
        min_refetch_s=30,
        timeout_s=1,
        fetch=fetch,
        clock=monotonic,
    )
    settings = ServiceSettings(environment="test", jwt_jwks_url="https://id.example/jwks")
    verifier = TokenVerifier(settings, service="ledger", keys=keys, clock=Clock())
    now = int(time.time())
    claims = {
        "sub": "hokkaido-bank-api",
        "role": "bank",
        "tenant": "hokkaido-bank",
        "iss": "kumiai",
        "aud": "kumiai-ledger",
        "iat": now,
        "exp": now + 900,
    }
    token = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "old"})
    await verifier.verify(token)
    served[:] = [_jwk("new")]
    monotonic.now += 299
    await verifier.verify(token)
    assert verifier.signature_checks == 1, "the keys are still the current ones"
    monotonic.now += 2
    with pytest.raises(Unauthorized, match="signing key is not known"):
        await verifier.verify(token)
