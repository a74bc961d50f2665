"""The partner registry: owned by onboarding, copied by every service, enforced on every token."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from helpers import BANK, STAFF, SettingsFactory, call, fetch, msme_body
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai.partners import ACTIVE_CACHE_S
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running

SAPPORO = {
    "partner_id": "sapporo-shinkin",
    "kind": "bank",
    "name": "Sapporo Shinkin Bank",
    "zengin_code": "1004",
}
CHIYODA = {"partner_id": "131016", "kind": "municipality", "name": "Chiyoda City"}


async def _answers(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int
) -> httpx.Response | None:
    """The response, once ``path`` answers ``status`` (for ``eventually``)."""
    response = await client.get(path, headers=headers)
    return response if response.status_code == status else None


async def test_a_bank_registered_in_onboarding_is_accepted_elsewhere_until_suspended(
    settings_for: SettingsFactory,
) -> None:
    ob = settings_for("onboarding")
    lg = settings_for("ledger")
    bank = bearer(Role.BANK, SAPPORO["partner_id"])
    async with (
        running(service("onboarding").create_app(ob)) as client,
        running(service("ledger").create_app(lg)) as books,
    ):
        unknown_here = await client.get("/msmes", headers=bank)
        unknown_there = await books.get("/deposits", headers=bank)
        registered = await call(client, "POST", "/partners", 201, json=SAPPORO, headers=STAFF)
        # Onboarding wrote its own registry in the same transaction: accepted at once.
        here = await call(client, "GET", "/msmes", headers=bank)
        there = await eventually(
            lambda: _answers(books, "/deposits", bank, 200),
            timeout_s=30,
            what="the ledger accepting the new bank",
        )
        suspended = await call(
            client,
            "POST",
            f"/partners/{SAPPORO['partner_id']}/suspend",
            json={"reason": "the partnership agreement lapsed"},
            headers=STAFF,
        )
        refused_there = await eventually(
            lambda: _answers(books, "/deposits", bank, 403),
            timeout_s=30 + ACTIVE_CACHE_S,
            what="the ledger refusing the suspended bank",
        )
        refused_here = await eventually(
            lambda: _answers(client, "/msmes", bank, 403),
            timeout_s=30 + ACTIVE_CACHE_S,
            what="onboarding refusing the suspended bank",
        )
        reinstated = await call(
            client,
            "POST",
            f"/partners/{SAPPORO['partner_id']}/reinstate",
            json={"reason": "the agreement was renewed"},
            headers=STAFF,
        )
        again = await eventually(
            lambda: _answers(books, "/deposits", bank, 200),
            timeout_s=30,
            what="the ledger accepting the reinstated bank",
        )
    assert unknown_here.status_code == unknown_there.status_code == 403
    assert unknown_there.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert registered == {
        "partner_id": "sapporo-shinkin",
        "kind": "bank",
        "name": "Sapporo Shinkin Bank",
        "zengin_code": "1004",
        "status": "active",
        "version": 1,
        "registered_at": registered["registered_at"],
    }
    assert here["items"] == []
    assert there.json() == {"items": [], "next_cursor": None}
    assert (suspended["status"], suspended["version"]) == ("suspended", 2)
    assert refused_there.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert refused_here.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert (reinstated["status"], reinstated["version"]) == ("active", 3)
    assert again.status_code == 200
    copy = await fetch(
        lg.database_url,
        "SELECT kind, name, zengin_code, status, version FROM partners WHERE partner_id = $1",
        SAPPORO["partner_id"],
    )
    assert [tuple(r) for r in copy] == [("bank", "Sapporo Shinkin Bank", "1004", "active", 3)], (
        "the ledger's copy follows the owner's record, version for version"
    )
    events = await fetch(
        ob.database_url,
        "SELECT type, subject_seq, envelope->'data'->>'status' AS status FROM outbox_events "
        "WHERE subject = $1 ORDER BY seq",
        SAPPORO["partner_id"],
    )
    assert [tuple(e) for e in events] == [
        ("PartnerRegistered", 1, None),
        ("PartnerStatusChanged", 2, "suspended"),
        ("PartnerStatusChanged", 3, "active"),
    ]


async def test_staff_register_partners_once_with_identifiers_that_check_out(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        bank = await call(client, "POST", "/partners", 201, json=SAPPORO, headers=STAFF)
        city = await call(client, "POST", "/partners", 201, json=CHIYODA, headers=STAFF)
        same_id = await client.post(
            "/partners", json={**SAPPORO, "zengin_code": "1005"}, headers=STAFF
        )
        same_code = await client.post(
            "/partners", json={**SAPPORO, "partner_id": "sapporo-2"}, headers=STAFF
        )
        seeded_code = await client.post(
            "/partners",
            json={**SAPPORO, "partner_id": "hokkaido-2", "zengin_code": "0116"},
            headers=STAFF,
        )
        bad_city = await client.post(
            "/partners", json={**CHIYODA, "partner_id": "131017"}, headers=STAFF
        )
        city_with_code = await client.post(
            "/partners", json={**CHIYODA, "zengin_code": "0001"}, headers=STAFF
        )
        codeless_bank = await client.post(
            "/partners",
            json={"partner_id": "kushiro-bank", "kind": "bank", "name": "Kushiro"},
            headers=STAFF,
        )
        numeric_bank = await client.post(
            "/partners",
            json={**SAPPORO, "partner_id": "131016", "zengin_code": "9999"},
            headers=STAFF,
        )
        fetched = await call(client, "GET", "/partners/sapporo-shinkin", headers=STAFF)
        missing = await client.get("/partners/nowhere-bank", headers=STAFF)
        malformed = await client.get("/partners/Not_A_Slug", headers=STAFF)
        trail = await call(
            client,
            "GET",
            "/audit",
            params={"entity_type": "partner", "entity_id": "131016"},
            headers=STAFF,
        )
    assert bank["status"] == city["status"] == "active"
    assert city["zengin_code"] is None
    assert fetched == bank
    assert same_id.status_code == 409
    assert same_id.json()["type"] == PROBLEM_BASE + "partner-exists"
    assert same_code.status_code == 409
    assert same_code.json()["detail"] == "Zengin bank code 1004 belongs to partner sapporo-shinkin"
    assert seeded_code.status_code == 409, "the seeded Hokkaido Bank holds 0116"
    assert bad_city.status_code == 422
    assert bad_city.json()["type"] == PROBLEM_BASE + "partner-invalid"
    assert [p["name"] for p in bad_city.json()["invalid_params"]] == ["body.partner_id"]
    assert "check digit 7, expected 6" in bad_city.json()["detail"]
    assert [p["name"] for p in city_with_code.json()["invalid_params"]] == ["body.zengin_code"]
    assert [p["name"] for p in codeless_bank.json()["invalid_params"]] == ["body.zengin_code"]
    assert [p["name"] for p in numeric_bank.json()["invalid_params"]] == ["body.partner_id"]
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no partner nowhere-bank"
    assert malformed.status_code == 422
    assert [(r["action"], r["details"]["kind"]) for r in trail["items"]] == [
        ("partner.registered", "municipality")
    ]
    rows = await fetch(settings.database_url, "SELECT partner_id FROM partners ORDER BY 1")
    assert [r["partner_id"] for r in rows] == [
        "011002",
        "012025",
        "131016",
        "hokkaido-bank",
        "other-bank",
        "sapporo-shinkin",
    ]


async def test_a_registration_happens_once_under_retries_and_races(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with running(service("onboarding").create_app(settings)) as client:
        first = await call(client, "POST", "/partners", 201, json=SAPPORO, headers={**STAFF, **key})
        replay = await client.post("/partners", json=SAPPORO, headers={**STAFF, **key})
        other_body = await client.post(
            "/partners", json={**SAPPORO, "name": "Renamed"}, headers={**STAFF, **key}
        )
        racing = await asyncio.gather(
            *(
                client.post(
                    "/partners",
                    json={**SAPPORO, "partner_id": "kushiro-bank", "zengin_code": "1234"},
                    headers=STAFF,
                )
                for _ in range(4)
            )
        )
    assert replay.status_code == 201
    assert replay.json() == first
    assert replay.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 422
    assert sorted(r.status_code for r in racing) == [201, 409, 409, 409]
    events = await fetch(
        settings.database_url,
        "SELECT subject, envelope->'data'->>'name' AS name FROM outbox_events ORDER BY seq",
    )
    assert [tuple(e) for e in events] == [
        ("sapporo-shinkin", "Sapporo Shinkin Bank"),
        ("kushiro-bank", "Sapporo Shinkin Bank"),
    ]


async def test_suspension_and_reinstatement_need_a_reason_and_a_change(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    bank = bearer(Role.BANK, SAPPORO["partner_id"])
    base = f"/partners/{SAPPORO['partner_id']}"
    async with running(service("onboarding").create_app(settings)) as client:
        await call(client, "POST", "/partners", 201, json=SAPPORO, headers=STAFF)
        msme = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=bank)
        no_reason = await client.post(f"{base}/suspend", json={}, headers=STAFF)
        nul_reason = await client.post(f"{base}/suspend", json={"reason": "a\x00b"}, headers=STAFF)
        reinstate_active = await client.post(
            f"{base}/reinstate", json={"reason": "nothing to undo"}, headers=STAFF
        )
        suspended = await call(
            client, "POST", f"{base}/suspend", json={"reason": "fraud inquiry"}, headers=STAFF
        )
        twice = await client.post(f"{base}/suspend", json={"reason": "again"}, headers=STAFF)
        refused = await eventually(
            lambda: _answers(client, f"/msmes/{msme['id']}", bank, 403),
            timeout_s=ACTIVE_CACHE_S + 10,
            what="the suspended bank refused",
        )
        listed = await call(
            client, "GET", "/partners", params={"status": "suspended"}, headers=STAFF
        )
        unknown = await client.post(
            "/partners/nowhere-bank/suspend", json={"reason": "who?"}, headers=STAFF
        )
        trail = await call(
            client,
            "GET",
            "/audit",
            params={"entity_type": "partner", "entity_id": SAPPORO["partner_id"]},
            headers=STAFF,
        )
    assert no_reason.status_code == 422
    assert [p["name"] for p in no_reason.json()["invalid_params"]] == ["body.reason"]
    assert nul_reason.status_code == 422
    assert reinstate_active.status_code == 409
    assert reinstate_active.json()["type"] == PROBLEM_BASE + "partner-status"
    assert suspended["status"] == "suspended"
    assert twice.status_code == 409
    assert twice.json()["detail"] == "the partner is already suspended"
    assert refused.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert [p["partner_id"] for p in listed["items"]] == ["sapporo-shinkin"]
    assert unknown.status_code == 404
    assert [(r["action"], r["details"].get("reason")) for r in trail["items"]] == [
        ("partner.registered", None),
        ("partner.suspended", "fraud inquiry"),
    ]
    assert trail["items"][1]["actor_role"] == "staff"


async def test_a_record_ahead_of_its_events_is_not_changed_behind_the_copies_back(
    settings_for: SettingsFactory,
) -> None:
    """A partner loaded by hand at version 5 has no events: a change numbered 1 would be
    ignored by every copy, so it is refused and nothing is announced."""
    settings = settings_for("onboarding", run_workers=False)
    await fetch(
        settings.database_url,
        "INSERT INTO partners (partner_id, kind, name, zengin_code, status, version, "
        "registered_at) VALUES ('loaded-bank', 'bank', 'Loaded', '4321', 'active', 5, now())",
    )
    async with running(service("onboarding").create_app(settings)) as client:
        refused = await client.post(
            "/partners/loaded-bank/suspend", json={"reason": "test"}, headers=STAFF
        )
        still = await call(client, "GET", "/partners/loaded-bank", headers=STAFF)
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEM_BASE + "partner-registry-out-of-step"
    assert (still["status"], still["version"]) == ("active", 5)
    assert await fetch(settings.database_url, "SELECT seq FROM outbox_events") == []


async def test_partners_are_listed_a_page_at_a_time_by_kind_and_status(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        for n in range(3):
            await call(
                client,
                "POST",
                "/partners",
                201,
                json={**SAPPORO, "partner_id": f"bank-{n}", "zengin_code": f"900{n}"},
                headers=STAFF,
            )
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"kind": "bank", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = await call(client, "GET", "/partners", params=params, headers=STAFF)
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        municipalities = await call(
            client, "GET", "/partners", params={"kind": "municipality"}, headers=STAFF
        )
        nonsense_kind = await client.get("/partners", params={"kind": "insurer"}, headers=STAFF)
        nonsense_status = await client.get(
            "/partners", params={"status": "nonsense"}, headers=STAFF
        )
        forged_cursor = await client.get("/partners", params={"cursor": "AAAA"}, headers=STAFF)
        as_bank = await client.get("/partners", headers=BANK)
        as_service = await client.get("/partners", headers=bearer(Role.SERVICE, "ledger"))
        register_as_bank = await client.post("/partners", json=SAPPORO, headers=BANK)
        anonymous = await client.get("/partners")
    ids = [p["partner_id"] for page in pages for p in page["items"]]
    assert sorted(ids) == ["bank-0", "bank-1", "bank-2", "hokkaido-bank", "other-bank"]
    assert len(ids) == len(set(ids)), "no partner on two pages"
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert {p["partner_id"] for p in municipalities["items"]} == {"011002", "012025"}
    assert nonsense_kind.status_code == nonsense_status.status_code == 422
    assert forged_cursor.status_code == 422
    assert forged_cursor.json()["type"] == PROBLEM_BASE + "bad-cursor"
    assert as_bank.status_code == as_service.status_code == register_as_bank.status_code == 403
    assert anonymous.status_code == 401
