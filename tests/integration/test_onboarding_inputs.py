"""Onboarding answers bad input with a clear 4xx, never a 500, and reads no oversized body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpers import (
    PDF,
    STAFF,
    SettingsFactory,
    application_body,
    call,
    fetch,
    fund_terms,
    msme_body,
    ready_application,
    register,
)
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import running

MiB = 1024 * 1024


def _fields(response: httpx.Response) -> list[str]:
    return [p["name"] for p in response.json().get("invalid_params", [])]


@pytest.mark.parametrize("amount", [10**30, 2**63 - 1, 10**12 + 1, "40000", True, 1e3, 0])
async def test_an_amount_sought_out_of_range_or_not_an_integer_is_a_422(
    settings_for: SettingsFactory, amount: object
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        msme = await register(client)
        response = await client.post(
            f"/msmes/{msme['id']}/applications",
            json=application_body(amount_sought=amount),
            headers=STAFF,
        )
    assert response.status_code == 422, response.text
    assert _fields(response) == ["body.amount_sought"]
    assert await fetch(settings.database_url, "SELECT id FROM applications") == []


async def test_a_nul_or_control_character_in_any_text_is_refused_before_the_database(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        msme = await register(client)
        _, application_id = await ready_application(client, msme["id"])
        answers = {
            "msme": await client.post(
                "/msmes", json=msme_body(company_name="Brewery\x00Ltd"), headers=STAFF
            ),
            "application": await client.post(
                f"/msmes/{msme['id']}/applications",
                json=application_body(purpose="tanks\x00"),
                headers=STAFF,
            ),
            "transition": await client.post(
                f"/applications/{application_id}/transitions",
                json={"to": "withdrawn", "note": "done\x1b[2J"},
                headers=STAFF,
            ),
            "fund": await client.post(
                "/funds",
                json={
                    "application_id": application_id,
                    "terms": fund_terms(perks_per_unit="a bottle\x00"),
                },
                headers=STAFF,
            ),
            "partner": await client.post(
                "/partners",
                json={"partner_id": "x-bank", "kind": "bank", "name": "X\x00", "zengin_code": "1"},
                headers=STAFF,
            ),
        }
    for what, response in answers.items():
        assert response.status_code == 422, f"{what}: {response.text}"
        assert "control characters are not allowed" in response.text, what
    steps = await fetch(settings.database_url, "SELECT note FROM application_steps")
    assert all("\x1b" not in r["note"] for r in steps)


async def test_fund_terms_are_strict_json_integers(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        _, application_id = await ready_application(client)
        draft = await call(
            client,
            "POST",
            "/funds",
            201,
            json={"application_id": application_id, "terms": fund_terms()},
            headers=STAFF,
        )
        as_text = await client.put(
            f"/funds/{draft['id']}/terms", json=fund_terms(unit_price="10000"), headers=STAFF
        )
        as_bool = await client.put(
            f"/funds/{draft['id']}/terms", json=fund_terms(units_offered=True), headers=STAFF
        )
        nested = await client.put(
            f"/funds/{draft['id']}/terms",
            json=fund_terms(
                fees={**fund_terms()["fees"], "arrangement_fee": 9.0e5},
            ),
            headers=STAFF,
        )
        huge = await client.put(
            f"/funds/{draft['id']}/terms", json=fund_terms(units_offered=2**63), headers=STAFF
        )
        too_long = await client.put(
            f"/funds/{draft['id']}/terms", json=fund_terms(name="x" * 201), headers=STAFF
        )
        rule = await client.put(
            f"/funds/{draft['id']}/terms", json=fund_terms(unit_price=9_999), headers=STAFF
        )
        unchanged = await call(client, "GET", f"/funds/{draft['id']}", headers=STAFF)
    assert _fields(as_text) == ["body.unit_price"]
    assert _fields(as_bool) == ["body.units_offered"]
    assert _fields(nested) == ["body.fees.arrangement_fee"]
    assert _fields(huge) == ["body.units_offered"]
    assert _fields(too_long) == ["body.name"]
    assert rule.json()["type"] == PROBLEM_BASE + "fund-terms-invalid"
    assert _fields(rule) == ["body.unit_price"], "a rule names the PUT body's own field"
    assert unchanged["terms"]["unit_price"] == 10_000


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/funds", {"status": "nonsense"}),
        ("/applications", {"step": "nonsense"}),
        ("/audit", {"entity_type": "nonsense"}),
        ("/partners", {"kind": "nonsense"}),
        ("/partners", {"status": "nonsense"}),
        ("/msmes", {"referring_bank": "x" * 64}),
        ("/applications", {"referring_bank": "Not A Bank"}),
    ],
)
async def test_unknown_filter_values_are_a_422(
    settings_for: SettingsFactory, path: str, params: dict[str, str]
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        response = await client.get(path, params=params, headers=STAFF)
    assert response.status_code == 422, response.text
    assert _fields(response) == [f"query.{next(iter(params))}"]


async def test_known_filter_values_still_filter(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        _, application_id = await ready_application(client)
        draft = await call(
            client,
            "POST",
            "/funds",
            201,
            json={"application_id": application_id, "terms": fund_terms()},
            headers=STAFF,
        )
        drafts = await call(client, "GET", "/funds", params={"status": "draft"}, headers=STAFF)
        open_ = await call(client, "GET", "/funds", params={"status": "open"}, headers=STAFF)
        trail = await call(client, "GET", "/audit", params={"entity_type": "fund"}, headers=STAFF)
    assert [f["id"] for f in drafts["items"]] == [draft["id"]]
    assert open_["items"] == []
    assert [r["entity_id"] for r in trail["items"]] == [draft["id"]]


async def _chunks(total: int, size: int = MiB, head: bytes = b"") -> AsyncIterator[bytes]:
    """``total`` bytes in chunks of ``size``, starting with ``head``, with no declared length."""
    yield head
    sent = len(head)
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_50_mb_body_is_refused_before_the_token_is_looked_at(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    body = b"{" + b" " * (50 * MiB) + b"}"
    async with running(app) as client:
        declared = await client.post(
            "/msmes", content=body, headers={"Content-Type": "application/json"}
        )
        streamed = await client.post(
            "/partners",
            content=_chunks(50 * MiB),
            headers={"Content-Type": "application/json"},
        )
        as_staff = await client.post(
            "/funds", content=body, headers={**STAFF, "Content-Type": "application/json"}
        )
        just_under = await client.post(
            "/msmes",
            content=b'{"x": "' + b" " * (MiB - 20) + b'"}',
            headers={"Content-Type": "application/json"},
        )
    for response in (declared, streamed, as_staff):
        assert response.status_code == 413
        assert response.json()["type"] == PROBLEM_BASE + "payload-too-large"
    assert just_under.status_code == 401, "a body within the limit goes on to the token check"


async def test_documents_larger_than_a_json_body_upload_up_to_their_own_limit(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False, document_max_bytes=3 * MiB)
    app = service("onboarding").create_app(settings)
    async with running(app) as client:
        msme = await register(client)
        application = await call(
            client,
            "POST",
            f"/msmes/{msme['id']}/applications",
            201,
            json=application_body(),
            headers=STAFF,
        )
        base = f"/applications/{application['id']}/documents"
        pdf = PDF + b"%" * (2 * MiB)
        uploaded = await call(
            client,
            "POST",
            f"{base}/financial_statements",
            201,
            params={"filename": "statements.pdf"},
            content=pdf,
            headers={**STAFF, "Content-Type": "application/pdf"},
        )
        oversized = await client.post(
            f"{base}/brochure",
            params={"filename": "brochure.pdf"},
            content=PDF + b"%" * (4 * MiB),
            headers={"Content-Type": "application/pdf"},
        )
        streamed = await client.post(
            f"{base}/brochure",
            params={"filename": "brochure.pdf"},
            content=_chunks(4 * MiB, size=256 * 1024, head=PDF),
            headers={**STAFF, "Content-Type": "application/pdf"},
        )
        review_body = await client.post(
            f"{base}/financial_statements/versions/{uploaded['id']}/review",
            content=b'{"decision": "accepted", "reason": "' + b"x" * (2 * MiB) + b'"}',
            headers={**STAFF, "Content-Type": "application/json"},
        )
    assert uploaded["size"] == len(pdf)
    assert oversized.status_code == 413, "refused before the missing token is noticed"
    assert streamed.status_code == 413
    assert review_body.status_code == 413, "only the upload route takes a large body"
    files = [p for p in settings.documents_dir.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert len(files) == 1, "a refused upload leaves nothing behind"


@pytest.mark.parametrize(
    ("filename", "status"),
    [
        ("invoice\u202efdp.pdf", 422),  # right-to-left override hides the real extension
        ("../../etc/passwd", 422),
        ("a" * 201, 422),
        ("", 422),
        ("report\x1b.pdf", 400),  # control characters never get past the request guard
        ("report\x00.pdf", 400),
    ],
)
async def test_a_file_name_with_hidden_characters_or_folders_is_refused(
    settings_for: SettingsFactory, filename: str, status: int
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        msme = await register(client)
        application = await call(
            client,
            "POST",
            f"/msmes/{msme['id']}/applications",
            201,
            json=application_body(),
            headers=STAFF,
        )
        response = await client.post(
            f"/applications/{application['id']}/documents/brochure",
            params={"filename": filename},
            content=PDF,
            headers={**STAFF, "Content-Type": "application/pdf"},
        )
    assert response.status_code == status, response.text
    if status == 422:
        assert _fields(response) == ["query.filename"]
    assert await fetch(settings.database_url, "SELECT id FROM documents") == []


async def test_path_and_header_values_are_bounded(settings_for: SettingsFactory) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        msme = await register(client)
        application = await call(
            client,
            "POST",
            f"/msmes/{msme['id']}/applications",
            201,
            json=application_body(),
            headers=STAFF,
        )
        base = f"/applications/{application['id']}/documents"
        long_kind = await client.get(f"{base}/{'k' * 65}/versions", headers=STAFF)
        unknown_kind = await client.get(f"{base}/horoscope/versions", headers=STAFF)
        long_type = await client.post(
            f"{base}/brochure",
            params={"filename": "b.pdf"},
            content=PDF,
            headers={**STAFF, "Content-Type": "application/pdf;" + "x" * 300},
        )
        long_partner = await client.get(f"/partners/{'b' * 64}", headers=STAFF)
    assert long_kind.status_code == 422
    assert unknown_kind.status_code == 404
    assert unknown_kind.json()["detail"] == "'horoscope' is not on the checklist"
    assert long_type.status_code == 422
    assert long_partner.status_code == 422


async def test_malformed_json_and_unknown_fields_are_named(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        malformed = await client.post(
            "/partners",
            content=b'{"partner_id": ',
            headers={**STAFF, "Content-Type": "application/json"},
        )
        extra = await client.post("/msmes", json={**msme_body(), "is_admin": True}, headers=STAFF)
        wrong_method = await client.delete("/partners/hokkaido-bank", headers=STAFF)
    body: dict[str, Any] = malformed.json()
    assert malformed.status_code == 400
    assert body["type"] == PROBLEM_BASE + "malformed-json"
    assert extra.status_code == 422
    assert _fields(extra) == ["body.is_admin"]
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == PROBLEM_BASE + "method-not-allowed"
