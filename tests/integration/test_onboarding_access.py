"""Who learns what from onboarding: service tokens act as nobody, refusals name nothing else."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers import (
    BANK,
    OTHER_BANK,
    STAFF,
    TO_AGREEMENT,
    SettingsFactory,
    accept_all_documents,
    application_body,
    apply,
    approve,
    call,
    fetch,
    fund_terms,
    move,
    msme_body,
)
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.testing import bearer, running

SOME_ID = "3f0c8c1e-5d0b-4a55-9a2b-1f1d2c3b4a59"


@pytest.mark.parametrize("caller", [s.name for s in SERVICES])
async def test_a_service_token_is_refused_everywhere_and_never_acts_as_staff(
    settings_for: SettingsFactory, caller: str
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    token = bearer(Role.SERVICE, caller)
    async with running(service("onboarding").create_app(settings)) as client:
        msme = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
        requests = [
            ("GET", "/msmes", None),
            ("GET", f"/msmes/{msme['id']}", None),
            ("POST", "/msmes", msme_body()),
            ("POST", f"/msmes/{msme['id']}/applications", application_body()),
            ("GET", "/applications", None),
            ("GET", "/funds", None),
            ("GET", f"/funds/{SOME_ID}", None),
            ("POST", "/funds", {"application_id": SOME_ID, "terms": fund_terms()}),
            ("GET", "/audit", None),
            ("GET", "/partners", None),
            ("POST", "/partners", {"partner_id": "x-bank", "kind": "bank", "name": "X"}),
        ]
        answers = [
            (path, await client.request(method, path, json=body, headers=token))
            for method, path, body in requests
        ]
    for path, response in answers:
        assert response.status_code == 403, f"{path}: {response.text}"
        assert response.json()["detail"] == f"the {caller} service does not call this"
        assert "Taro Yamada" not in response.text


async def test_only_staff_learn_which_business_holds_a_corporate_number(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        first = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=BANK)
        taken = first["corporate_number"]
        newcomer = str(uuid.uuid4())
        by_bank = await client.post(
            "/msmes", json=msme_body(corporate_number=taken), headers=OTHER_BANK
        )
        by_business = await client.post(
            "/msmes",
            json=msme_body(corporate_number=taken),
            headers=bearer(Role.MSME, newcomer),
        )
        by_staff = await client.post(
            "/msmes", json=msme_body(corporate_number=taken), headers=STAFF
        )
    for refused in (by_bank, by_business):
        assert refused.status_code == 409
        assert refused.json()["type"] == PROBLEM_BASE + "already-registered"
        assert refused.json()["detail"] == f"corporate number {taken} is already registered"
        assert first["id"] not in refused.text
        assert not {"existing_id", "existing"} & set(refused.json())
    assert by_staff.status_code == 409
    assert by_staff.json()["existing_id"] == first["id"]
    assert first["id"] in by_staff.json()["detail"]


async def test_a_fund_a_caller_may_not_read_is_not_found_by_its_own_id(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        msme = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=BANK)
        application_id = (await apply(client, msme["id"]))["id"]  # referred: initial meeting
        await move(client, application_id, *TO_AGREEMENT[1:], "agreement_and_documents")
        await accept_all_documents(client, application_id)
        await move(client, application_id, "committee_decision")
        await approve(client, application_id)
        fund = await call(
            client,
            "POST",
            "/funds",
            201,
            json={"application_id": application_id, "terms": fund_terms()},
            headers=STAFF,
        )
        referring_bank = await call(client, "GET", f"/funds/{fund['id']}", headers=BANK)
        other_bank = await client.get(f"/funds/{fund['id']}", headers=OTHER_BANK)
        other_business = await client.get(
            f"/funds/{fund['id']}", headers=bearer(Role.MSME, str(uuid.uuid4()))
        )
        nonexistent = await client.get(f"/funds/{SOME_ID}", headers=OTHER_BANK)
        bank_list = await call(client, "GET", "/funds", headers=OTHER_BANK)
    assert referring_bank["id"] == fund["id"]
    for refused in (other_bank, other_business):
        assert refused.status_code == 404
        assert refused.json()["detail"] == f"no fund {fund['id']}"
        assert application_id not in refused.text, "the fund's application stays private"
    assert nonexistent.json()["detail"] == f"no fund {SOME_ID}"
    assert {k: v for k, v in other_bank.json().items() if k != "detail"} == {
        k: v for k, v in nonexistent.json().items() if k != "detail"
    } | {"instance": f"/funds/{fund['id']}"}, "a hidden fund looks like a missing one"
    assert bank_list["items"] == []


async def test_a_race_for_one_corporate_number_is_a_409_for_each_loser(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    body = msme_body()
    async with running(service("onboarding").create_app(settings)) as client:
        answers = await asyncio.gather(
            *(client.post("/msmes", json=body, headers=h) for h in [STAFF, BANK] * 3)
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in answers]
    winner = next(r.json() for r in answers if r.status_code == 201)
    for lost in (r for r in answers if r.status_code == 409):
        assert lost.json()["type"] == PROBLEM_BASE + "already-registered"
        if lost.request.headers["authorization"] == BANK["Authorization"]:
            assert winner["id"] not in lost.text
    rows = await fetch(settings.database_url, "SELECT id FROM msmes")
    assert [str(r["id"]) for r in rows] == [winner["id"]]
