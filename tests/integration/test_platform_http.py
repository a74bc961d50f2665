"""What every service offers over HTTP: auth, problems, idempotency, health, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from openapi_spec_validator import validate

from helpers import STAFF, SettingsFactory, fetch, fund_terms, msme_body, ready_application
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.cli import merged_openapi
from kumiai_tools.testing import bearer, running


async def test_designing_a_fund_needs_a_staff_token(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    body = {"application_id": str(uuid.uuid4()), "terms": fund_terms()}
    async with running(app) as client:
        anonymous = await client.post("/funds", json=body)
        investor = await client.post("/funds", json=body, headers=bearer(Role.INVESTOR, "inv-1"))
        forged = await client.post(
            "/funds",
            json=body,
            headers=bearer(Role.STAFF, "platform", secret="x" * 48),
        )
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == PROBLEM_BASE + "unauthorized"
    assert investor.status_code == 403
    assert investor.json()["detail"] == "role 'investor' may not do this"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert forged.status_code == 401
    assert forged.json()["detail"] == "the token's signature does not verify"
    assert forged.headers["www-authenticate"] == "Bearer"


async def test_bad_terms_are_answered_with_the_fields_at_fault(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        _, application_id = await ready_application(client)

        async def draft(**overrides: object) -> httpx.Response:
            body = {"application_id": application_id, "terms": fund_terms(**overrides)}
            return await client.post("/funds", json=body, headers=STAFF)

        schema_error = await draft(units_offered=-1)
        rule_error = await draft(unit_price=9_999, formation_threshold_units=5_000)
    assert schema_error.status_code == 422
    assert [p["name"] for p in schema_error.json()["invalid_params"]] == [
        "body.terms.units_offered"
    ]
    assert rule_error.status_code == 422
    body = rule_error.json()
    assert body["type"] == PROBLEM_BASE + "fund-terms-invalid"
    assert {p["name"] for p in body["invalid_params"]} == {
        "body.terms.unit_price",
        "body.terms.formation_threshold_units",
    }


async def test_idempotency_key_replays_and_refuses_a_different_body(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    app = service("onboarding").create_app(settings)
    business = msme_body()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with running(app) as client:
        first, second = await asyncio.gather(
            client.post("/msmes", json=business, headers={**STAFF, **key}),
            client.post("/msmes", json=business, headers={**STAFF, **key}),
        )
        third = await client.post("/msmes", json=business, headers={**STAFF, **key})
        changed = await client.post(
            "/msmes", json={**business, "company_name": "Another"}, headers={**STAFF, **key}
        )
        other_key = await client.post(
            "/msmes", json=business, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
        )
    assert first.status_code == second.status_code == third.status_code == 201
    assert first.json() == second.json() == third.json()
    assert third.headers["idempotent-replayed"] == "true"
    assert changed.status_code == 422
    assert changed.json()["type"] == PROBLEM_BASE + "idempotency-key-reused"
    assert other_key.status_code == 409, "a new key is a new registration: refused as a duplicate"
    assert other_key.json()["existing_id"] == first.json()["id"]
    msmes = await fetch(settings.database_url, "SELECT id FROM msmes")
    events = await fetch(settings.database_url, "SELECT subject FROM outbox_events")
    assert [str(m["id"]) for m in msmes] == [first.json()["id"]]
    assert [e["subject"] for e in events] == [first.json()["id"]]


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


async def test_an_unreachable_broker_degrades_readiness_but_keeps_serving(
    settings_for: SettingsFactory,
) -> None:
    """Writes still commit while the broker is down (their events wait in the outbox), so
    the service stays in rotation; an unreachable database takes it out."""
    settings = settings_for("ledger", kafka_bootstrap_servers="127.0.0.1:1", run_workers=False)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "degraded",
        "service": "ledger",
        "checks": {"database": True, "broker": False},
    }
    no_database = settings_for(
        "ledger",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
        run_workers=False,
    )
    async with running(service("ledger").create_app(no_database)) as client:
        down = await client.get("/readyz")
        answer = await client.get("/trial-balance", headers=STAFF)
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert answer.status_code == 503, "a bank retries a 503; a 500 says the request was at fault"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["type"] == PROBLEM_BASE + "unavailable"


def test_every_service_and_the_merged_document_are_valid_openapi() -> None:
    merged = merged_openapi()
    validate(merged)
    for info in SERVICES:
        assert f"/{info.name}/healthz" in merged["paths"]
    funds = merged["paths"]["/onboarding/funds"]["post"]
    assert funds["operationId"] == "create_fund"
    assert {"401", "403", "404", "409", "422"} <= set(funds["responses"])
    publish = merged["paths"]["/onboarding/funds/{fund_id}/publish"]["post"]
    assert publish["operationId"] == "publish_fund"
    upload = merged["paths"]["/onboarding/applications/{application_id}/documents/{kind}"]
    assert "application/pdf" in upload["post"]["requestBody"]["content"]
    assert {"413", "415"} <= set(upload["post"]["responses"])
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
