"""Bearer tokens: verification, roles and tenants."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest

from kumiai.auth import Principal, Role, TokenVerifier, mint_token, require_roles
from kumiai.errors import Unauthorized
from kumiai.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings
from kumiai_tools.testing import staff_token

SETTINGS = ServiceSettings(environment="test")


async def test_a_minted_token_verifies_to_its_principal() -> None:
    token = mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.BANK, tenant="bank-42")
    principal = await TokenVerifier(SETTINGS).verify(token)
    assert principal == Principal(subject="bank:bank-42", role=Role.BANK, tenant="bank-42")


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"secret": "another-secret-that-is-long-enough-0123456789"}, "signature does not verify"),
        ({"ttl": timedelta(seconds=-60)}, "expired"),
        ({"audience": "someone-else"}, "(?i)audience"),
        ({"issuer": "someone-else"}, "issuer"),
    ],
)
async def test_bad_tokens_are_refused(token_kwargs: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {
        "secret": DEVELOPMENT_JWT_SECRET,
        "role": Role.STAFF,
        "tenant": "platform",
        **token_kwargs,
    }
    token = mint_token(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match=message) as refused:
        await TokenVerifier(SETTINGS).verify(token)
    assert "jwt" not in str(refused.value).lower(), "no library internals in the answer"


async def test_a_token_without_a_known_role_is_refused() -> None:
    with pytest.raises(Unauthorized, match="role or tenant"):
        await TokenVerifier(SETTINGS).verify(staff_token(role="admin"))


async def test_an_unsigned_token_is_refused() -> None:
    token = jwt.encode(
        {
            "sub": "x",
            "role": "staff",
            "tenant": "t",
            "iss": "kumiai",
            "aud": "kumiai",
            "exp": 4_102_444_800,
        },
        key="",
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        await TokenVerifier(SETTINGS).verify(token)


async def test_a_small_clock_skew_is_allowed() -> None:
    now = int(time.time())
    late = staff_token(iat=now - 620, exp=now - 10)
    early = staff_token(iat=now + 10, exp=now + 600)
    assert (await TokenVerifier(SETTINGS).verify(late)).tenant == "platform"
    assert (await TokenVerifier(SETTINGS).verify(early)).tenant == "platform"
    with pytest.raises(Unauthorized, match="expired"):
        await TokenVerifier(SETTINGS).verify(staff_token(iat=now - 700, exp=now - 100))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": int(time.time()) + 2 * 24 * 3600}, "lives longer"),
        ({"iat": None}, "lacks a required claim"),
        ({"tenant": ""}, "tenant"),
        ({"tenant": "a" * 101}, "tenant"),
        ({"tenant": "bank\x00"}, "tenant"),
        ({"sub": ""}, "subject"),
        ({"role": "service", "tenant": "anything"}, "platform's services"),
    ],
)
async def test_doubtful_claims_are_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        await TokenVerifier(SETTINGS).verify(staff_token(**claims))


async def test_an_oversized_token_is_refused_before_decoding() -> None:
    with pytest.raises(Unauthorized, match="longer than"):
        await TokenVerifier(SETTINGS).verify(staff_token(padding="x" * 5000))


async def test_a_service_token_names_a_platform_service() -> None:
    principal = await TokenVerifier(SETTINGS).verify(staff_token(role="service", tenant="ledger"))
    assert principal.role is Role.SERVICE
    assert principal.key_scope == "service/ledger/staff:platform"


def test_service_principals_are_named_per_route() -> None:
    with pytest.raises(ValueError, match="services="):
        require_roles(Role.STAFF, Role.SERVICE)
    with pytest.raises(ValueError, match="not platform services"):
        require_roles(Role.STAFF, services=["anything"])
