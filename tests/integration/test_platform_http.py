"""What every service offers over HTTP: auth, problems, idempotency, health, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from openapi_spec_validator import validate

from helpers import STAFF, SettingsFactory, fetch, fund_terms
from kumiai.auth import Role
from kumiai.catalog import SERVICES, service
from kumiai.cli import merged_openapi
from kumiai.errors import PROBLEM_BASE
from kumiai.testing import bearer, running


async def test_publishing_a_fund_needs_a_staff_token(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        anonymous = await client.post("/funds", json=fund_terms())
        investor = await client.post(
            "/funds", json=fund_terms(), headers=bearer(Role.INVESTOR, "inv-1")
        )
        forged = await client.post(
            "/funds",
            json=fund_terms(),
            headers=bearer(Role.STAFF, "platform", secret="x" * 48),
        )
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == PROBLEM_BASE + "unauthorized"
    assert investor.status_code == 403
    assert investor.json()["detail"] == "role 'investor' may not do this"
    assert forged.status_code == 401
    assert "Signature verification failed" in forged.json()["detail"]


async def test_bad_terms_are_answered_with_the_fields_at_fault(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        schema_error = await client.post("/funds", json=fund_terms(units_offered=-1), headers=STAFF)
        rule_error = await client.post(
            "/funds",
            json=fund_terms(unit_price=9_999, formation_threshold_units=5_000),
            headers=STAFF,
        )
    assert schema_error.status_code == 422
    assert [p["name"] for p in schema_error.json()["invalid_params"]] == ["body.units_offered"]
    assert rule_error.status_code == 422
    body = rule_error.json()
    assert body["type"] == PROBLEM_BASE + "fund-terms-invalid"
    assert {p["name"] for p in body["invalid_params"]} == {
        "body.unit_price",
        "body.formation_threshold_units",
    }


async def test_idempotency_key_replays_and_refuses_a_different_body(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    app = service("onboarding").create_app(settings)
    terms = fund_terms()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with running(app) as client:
        first, second = await asyncio.gather(
            client.post("/funds", json=terms, headers={**STAFF, **key}),
            client.post("/funds", json=terms, headers={**STAFF, **key}),
        )
        third = await client.post("/funds", json=terms, headers={**STAFF, **key})
        changed = await client.post(
            "/funds", json={**terms, "units_offered": 999}, headers={**STAFF, **key}
        )
        other_key = await client.post(
            "/funds", json=terms, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
        )
    assert first.status_code == second.status_code == third.status_code == 201
    assert first.json() == second.json() == third.json()
    assert third.headers["idempotent-replayed"] == "true"
    assert changed.status_code == 422
    assert changed.json()["type"] == PROBLEM_BASE + "idempotency-key-reused"
    assert other_key.json()["id"] != first.json()["id"]
    funds = await fetch(settings.database_url, "SELECT id FROM funds")
    events = await fetch(settings.database_url, "SELECT subject FROM outbox_events")
    assert len(funds) == 2, "one fund per key"
    assert sorted(e["subject"] for e in events) == sorted(str(f["id"]) for f in funds)


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
async def test_health_readiness_metrics_and_request_ids(
    settings_for: SettingsFactory, name: str
) -> None:
    app = service(name).create_app(settings_for(name))
    async with running(app) as client:
        health = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    assert health.json() == {"status": "ok", "service": name}
    assert health.headers["x-request-id"] == "req-123"
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True}
    assert 'http_requests_total{method="GET",route="/healthz"' in metrics.text.replace(
        f'service="{name}",', ""
    )
    assert "kumiai_relay_published_events" in metrics.text


async def test_readiness_reports_an_unreachable_broker(settings_for: SettingsFactory) -> None:
    settings = settings_for("ledger", kafka_bootstrap_servers="127.0.0.1:1", run_workers=False)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": True, "broker": False}


def test_every_service_and_the_merged_document_are_valid_openapi() -> None:
    merged = merged_openapi()
    validate(merged)
    for info in SERVICES:
        assert f"/{info.name}/healthz" in merged["paths"]
    funds = merged["paths"]["/onboarding/funds"]["post"]
    assert funds["operationId"] == "publish_fund"
    assert {"401", "403", "422"} <= set(funds["responses"])
    assert "Problem" in merged["components"]["schemas"]
    assert merged["paths"]["/subscription/offerings/{fund_id}"]["get"]["tags"][0] == "subscription"


async def test_a_dropped_database_connection_is_answered_503_then_recovers(
    settings_for: SettingsFactory,
) -> None:
    """Pooled connections are not pinged: the request that meets a dead one gets 503."""
    settings = settings_for("subscription", run_workers=False)
    async with running(service("subscription").create_app(settings)) as client:
        assert (await client.get("/offerings")).json()["items"] == []
        await fetch(
            settings.database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        lost = await client.get("/offerings")
        again = await client.get("/offerings")
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["type"] == PROBLEM_BASE + "unavailable"
    assert again.status_code == 200
    assert again.json()["items"] == []
