"""Credentials for production: tokens from an identity provider's JWKS, per-partner rate
limits, and partners' calls in the record.

The test serves a JWKS of real RSA and EC keys over HTTP (a server in a thread) and
points a real ledger at it; it adds and removes keys as a provider rotating them would,
and takes the provider down, without restarting the service.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from helpers import SettingsFactory
from kumiai.auth import Role, mint_token
from kumiai.errors import PROBLEM_BASE
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import service
from kumiai_tools.testing import eventually, running

ISSUER = "https://id.example/realms/kumiai"


class Provider:
    """An identity provider's JWKS endpoint: keys the test adds and removes, served over
    HTTP until the test takes it down."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[Any, str]] = {}
        """kid -> (private key, algorithm)."""
        self.requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                body = json.dumps({"keys": provider.public_keys()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/protocol/openid-connect/certs"
        self.up = True

    def add_rsa(self, kid: str, alg: str = "RS256") -> None:
        self.keys[kid] = (rsa.generate_private_key(public_exponent=65537, key_size=2048), alg)

    def add_ec(self, kid: str) -> None:
        self.keys[kid] = (ec.generate_private_key(ec.SECP256R1()), "ES256")

    def public_keys(self) -> list[dict[str, Any]]:
        out = []
        for kid, (key, alg) in list(self.keys.items()):
            codec = ECAlgorithm if alg == "ES256" else RSAAlgorithm
            jwk = json.loads(codec.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "use": "sig", "alg": alg})
        return out

    def token(
        self,
        kid: str,
        *,
        role: str = "bank",
        tenant: str = "hokkaido-bank",
        audience: str = "kumiai-ledger",
        lifetime_s: int = 900,
        issued_ago_s: int = 0,
        key: Any = None,
    ) -> dict[str, str]:
        """Headers with a bearer token of this provider signed with ``kid``."""
        private, alg = self.keys[kid] if key is None else (key, "RS256")
        iat = int(time.time()) - issued_ago_s
        claims = {
            "iss": ISSUER,
            "sub": f"{tenant}-api",
            "aud": audience,
            "iat": iat,
            "exp": iat + lifetime_s,
            "role": role,
            "tenant": tenant,
        }
        token = jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        if self.up:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self.up = False


@pytest.fixture
def provider() -> Iterator[Provider]:
    served = Provider()
    served.add_rsa("rsa-1")
    served.add_ec("ec-1")
    try:
        yield served
    finally:
        served.stop()


def ledger_settings(settings_for: SettingsFactory, provider: Provider, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "run_workers": False,
        "jwt_jwks_url": provider.url,
        "jwt_issuer": ISSUER,
        "jwt_jwks_refresh_s": 0.5,
        "jwt_jwks_min_refetch_s": 0.2,
        **overrides,
    }
    return settings_for("ledger", **values)


async def _status(client: httpx.AsyncClient, headers: dict[str, str], status: int) -> bool:
    return (await client.get("/deposits", headers=headers)).status_code == status


async def test_tokens_of_the_providers_keys_are_accepted_and_others_refused(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    app = service("ledger").create_app(ledger_settings(settings_for, provider))
    async with running(app) as client:
        rsa_ok = await client.get("/deposits", headers=provider.token("rsa-1"))
        ec_ok = await client.get("/deposits", headers=provider.token("ec-1"))
        staff = await client.get("/deposits", headers=provider.token("rsa-1", role="staff"))
        refused = {
            "another service's audience": provider.token("rsa-1", audience="kumiai-subscription"),
            "the development audience": provider.token("rsa-1", audience="kumiai"),
            "expired": provider.token("rsa-1", issued_ago_s=1200, lifetime_s=600),
            "too long-lived": provider.token("rsa-1", lifetime_s=2 * 3600),
            "unknown kid": provider.token("forged", key=provider.keys["rsa-1"][0]),
            "HS256 with the development secret": {
                "Authorization": "Bearer "
                + mint_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.STAFF, tenant="platform")
            },
        }
        answers = {what: await client.get("/deposits", headers=h) for what, h in refused.items()}
    assert rsa_ok.status_code == 200, rsa_ok.text
    assert ec_ok.status_code == 200, ec_ok.text
    assert staff.status_code == 200, staff.text
    for what, answer in answers.items():
        assert answer.status_code == 401, f"{what}: {answer.status_code} {answer.text}"
        assert answer.json()["type"] == PROBLEM_BASE + "invalid-token", what
        assert answer.headers["WWW-Authenticate"] == "Bearer", what


async def test_keys_rotate_without_a_restart(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    app = service("ledger").create_app(ledger_settings(settings_for, provider))
    async with running(app) as client:
        old = provider.token("rsa-1")
        assert await _status(client, old, 200)
        # The provider publishes a new key and signs with it: its tokens are accepted as soon
        # as the service may fetch the keys again (jwt_jwks_min_refetch_s), long before the
        # refresh interval in production.
        provider.add_rsa("rsa-2", alg="PS256")
        new = provider.token("rsa-2")
        await eventually(
            lambda: _status(client, new, 200), timeout_s=10, what="the new key accepted"
        )
        # The old key is withdrawn: its tokens are refused once the keys are refreshed.
        del provider.keys["rsa-1"]
        await eventually(
            lambda: _status(client, old, 401), timeout_s=10, what="the withdrawn key refused"
        )
        assert await _status(client, new, 200)


async def test_cached_keys_keep_working_while_the_provider_is_down(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    app = service("ledger").create_app(ledger_settings(settings_for, provider))
    keys = app.state.token_verifier.keys
    async with running(app) as client:
        bank = provider.token("rsa-1")
        assert await _status(client, bank, 200)
        fetched = keys.fetches
        provider.stop()

        async def accepted_after_a_failed_refresh() -> bool:
            # Past the refresh interval a request makes the service try the provider
            # again; the attempt fails and the keys it has still serve.
            answer = await client.get("/deposits", headers=bank)
            assert answer.status_code == 200, answer.text
            return bool(keys.fetches > fetched)

        await eventually(accepted_after_a_failed_refresh, timeout_s=10, what="a failed refresh")
        forged = await client.get(
            "/deposits", headers=provider.token("never-published", key=provider.keys["rsa-1"][0])
        )
    assert forged.status_code == 401, forged.text


async def test_without_the_providers_keys_the_caller_is_told_to_retry(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    bank = provider.token("rsa-1")
    provider.stop()
    app = service("ledger").create_app(ledger_settings(settings_for, provider))
    async with running(app) as client:
        answer = await client.get("/deposits", headers=bank)
    assert answer.status_code == 503, answer.text
    assert answer.json()["type"] == PROBLEM_BASE + "signing-keys-unavailable"
    assert int(answer.headers["Retry-After"]) >= 1


async def test_a_partner_over_its_rate_is_told_when_to_retry_and_others_are_not(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    settings = ledger_settings(settings_for, provider, partner_rate_per_s=0.5, partner_burst=3)
    app = service("ledger").create_app(settings)
    bank, other = provider.token("rsa-1"), provider.token("rsa-1", tenant="other-bank")
    staff = provider.token("rsa-1", role="staff", tenant="platform")
    async with running(app) as client:
        burst = [(await client.get("/deposits", headers=bank)).status_code for _ in range(3)]
        over = await client.get("/deposits", headers=bank)
        others = [(await client.get("/deposits", headers=other)).status_code for _ in range(3)]
        staff_answers = {
            (await client.get("/deposits", headers=staff)).status_code for _ in range(20)
        }
    assert burst == [200, 200, 200]
    assert over.status_code == 429, over.text
    assert over.json()["type"] == PROBLEM_BASE + "rate-limited"
    assert int(over.headers["Retry-After"]) >= 1
    assert others == [200, 200, 200], "another partner has its own bucket"
    assert staff_answers == {200}, "staff are not limited"


async def test_every_partner_call_is_recorded_with_the_partners_id(
    settings_for: SettingsFactory, provider: Provider
) -> None:
    settings = ledger_settings(settings_for, provider)
    app = service("ledger").create_app(settings)
    missing = uuid.uuid4()
    async with running(app) as client:
        listed = await client.get("/deposits", headers=provider.token("rsa-1"))
        unknown = await client.get(f"/deposits/{missing}", headers=provider.token("rsa-1"))
        staff = await client.get("/deposits", headers=provider.token("rsa-1", role="staff"))
        stranger = await client.get(
            "/deposits", headers=provider.token("rsa-1", tenant="unregistered-bank")
        )
        request_id = listed.headers["x-request-id"]
    assert (listed.status_code, unknown.status_code, staff.status_code) == (200, 404, 200)
    assert stranger.json()["type"] == PROBLEM_BASE + "unknown-partner"
    conn = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT partner_id, role, subject, method, route, path, status, request_id, at "
            "FROM partner_calls ORDER BY id"
        )
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("DELETE FROM partner_calls")
    finally:
        await conn.close()
    lines = [dict(r) for r in rows]
    assert [(r["partner_id"], r["role"], r["method"], r["route"], r["status"]) for r in lines] == [
        ("hokkaido-bank", "bank", "GET", "/deposits", 200),
        ("hokkaido-bank", "bank", "GET", "/deposits/{deposit_id}", 404),
        ("unregistered-bank", "bank", "GET", "/deposits", 403),
    ], "one line per partner call, refused ones included; staff are not recorded here"
    assert lines[1]["path"] == f"/deposits/{missing}"
    assert lines[0]["subject"] == "hokkaido-bank-api"
    assert lines[0]["request_id"] == request_id
    assert all(r["at"] is not None for r in lines)
