"""Bearer tokens: verification, roles and tenants."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from kumiai.auth import Principal, Role, TokenVerifier, mint_token
from kumiai.errors import Forbidden, Unauthorized
from kumiai.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

SETTINGS = ServiceSettings(environment="test")


def test_a_minted_token_verifies_to_its_principal() -> None:
    token = mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.BANK, tenant="bank-42")
    principal = TokenVerifier(SETTINGS).verify(token)
    assert principal == Principal(subject="bank:bank-42", role=Role.BANK, tenant="bank-42")


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"secret": "another-secret-that-is-long-enough-0123456789"}, "Signature"),
        ({"ttl": timedelta(seconds=-5)}, "expired"),
        ({"audience": "someone-else"}, "(?i)audience"),
        ({"issuer": "someone-else"}, "issuer"),
    ],
)
def test_bad_tokens_are_refused(token_kwargs: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {
        "secret": DEVELOPMENT_JWT_SECRET,
        "role": Role.STAFF,
        "tenant": "platform",
        **token_kwargs,
    }
    token = mint_token(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match=message):
        TokenVerifier(SETTINGS).verify(token)


def test_a_token_without_a_known_role_is_refused() -> None:
    token = jwt.encode(
        {
            "sub": "x",
            "role": "admin",
            "tenant": "t",
            "iss": "kumiai",
            "aud": "kumiai",
            "exp": 4_102_444_800,
        },
        DEVELOPMENT_JWT_SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized, match="role or tenant"):
        TokenVerifier(SETTINGS).verify(token)


def test_an_unsigned_token_is_refused() -> None:
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
        TokenVerifier(SETTINGS).verify(token)


def test_tenant_checks() -> None:
    investor = Principal(subject="i", role=Role.INVESTOR, tenant="inv-1")
    investor.require_tenant("inv-1")
    with pytest.raises(Forbidden, match="another tenant"):
        investor.require_tenant("inv-2")
    Principal(subject="s", role=Role.STAFF, tenant="platform").require_tenant("inv-2")


def test_rs256_tokens_are_verified_against_a_jwks_url() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update(kid="key-1", use="sig", alg="RS256")
    body = json.dumps({"keys": [public_jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = ServiceSettings(
            environment="production",
            jwt_jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json",
        )
        claims = {
            "sub": "bank-7-api",
            "role": "bank",
            "tenant": "bank-7",
            "iss": "kumiai",
            "aud": "kumiai",
            "exp": 4_102_444_800,
        }
        good = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "key-1"})
        principal = TokenVerifier(settings).verify(good)
        assert principal == Principal(subject="bank-7-api", role=Role.BANK, tenant="bank-7")
        # A token signed with the shared development secret is not accepted there.
        hs = mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.STAFF, tenant="platform")
        with pytest.raises(Unauthorized):
            TokenVerifier(settings).verify(hs)
    finally:
        server.shutdown()
