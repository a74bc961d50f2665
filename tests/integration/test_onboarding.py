"""Onboarding over HTTP and the real broker: businesses, applications, documents, funds."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from helpers import (
    BANK,
    OTHER_BANK,
    PDF,
    REQUIRED_KINDS,
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
    offering,
    publish,
    ready_application,
    register,
)
from kumiai.auth import Role
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.errors import PROBLEM_BASE
from kumiai.events import Envelope
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running

PERSONAL = ("Taro Yamada", "Hanako Sato", "finance@example.jp", "+81-138-00-0000")


def msme_token(msme_id: str) -> dict[str, str]:
    return bearer(Role.MSME, msme_id)


async def _events(bootstrap: str, topic: str, until: set[str]) -> list[Envelope]:
    """Every event on ``topic`` from the start, once those of types ``until`` have arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[Envelope] = []
    try:

        async def enough() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                got.extend(Envelope.from_bytes(r.value or b"") for r in records)
            return until <= {e.type for e in got}

        await eventually(enough, timeout_s=30, what=f"{until} on {topic}")
    finally:
        await consumer.stop()
    return got


async def test_a_bank_referral_walks_to_fund_opened_on_the_broker(
    settings_for: SettingsFactory,
) -> None:
    """Referral by a bank -> screening and due diligence -> published fund -> FundOpened."""
    ob = settings_for("onboarding")
    sub = settings_for("subscription")
    onboarding = service("onboarding").create_app(ob)
    subscription = service("subscription").create_app(sub)
    async with running(onboarding) as client, running(subscription) as offers:
        msme = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=BANK)
        business = msme_token(msme["id"])
        application = await call(
            client,
            "POST",
            f"/msmes/{msme['id']}/applications",
            201,
            json=application_body(),
            headers=BANK,
        )
        app_id = application["id"]
        await move(client, app_id, *TO_AGREEMENT[1:], "agreement_and_documents")
        # The business uploads its documents; staff reject one, which is replaced.
        uploaded = {}
        for kind in REQUIRED_KINDS:
            uploaded[kind] = await call(
                client,
                "POST",
                f"/applications/{app_id}/documents/{kind}",
                201,
                params={"filename": f"{kind}.pdf"},
                content=PDF,
                headers={**business, "Content-Type": "application/pdf"},
            )
        early = await client.post(
            f"/applications/{app_id}/transitions",
            json={"to": "committee_decision", "note": "too early"},
            headers=STAFF,
        )
        plan = uploaded["business_plan"]
        rejected = await call(
            client,
            "POST",
            f"/applications/{app_id}/documents/business_plan/versions/{plan['id']}/review",
            json={"decision": "rejected", "reason": "the project's part is missing"},
            headers=STAFF,
        )
        replaced = await call(
            client,
            "POST",
            f"/applications/{app_id}/documents/business_plan",
            201,
            params={"filename": "business_plan_v2.pdf"},
            content=PDF + b"% with the project\n",
            headers={**business, "Content-Type": "application/pdf"},
        )
        for kind, doc in {**uploaded, "business_plan": replaced}.items():
            await call(
                client,
                "POST",
                f"/applications/{app_id}/documents/{kind}/versions/{doc['id']}/review",
                json={"decision": "accepted"},
                headers=STAFF,
            )
        checklist = await call(client, "GET", f"/applications/{app_id}/documents", headers=business)
        await move(client, app_id, "committee_decision")
        approved = await approve(client, app_id)
        await move(client, app_id, "msme_confirmation", "ready")
        progress = await call(client, "GET", f"/applications/{app_id}", headers=BANK)
        start = datetime.now(UTC) + timedelta(seconds=5)
        terms = fund_terms(
            offering_start=start.isoformat(),
            offering_end=(start + timedelta(days=30)).isoformat(),
        )
        draft = await call(
            client,
            "POST",
            "/funds",
            201,
            json={"application_id": app_id, "terms": terms},
            headers=STAFF,
        )
        scheduled = await call(client, "POST", f"/funds/{draft['id']}/publish", headers=STAFF)
        frozen = await client.put(f"/funds/{draft['id']}/terms", json=terms, headers=STAFF)
        offered = await eventually(
            lambda: offering(offers, draft["id"]), timeout_s=30, what="the offering"
        )
        opened = await call(client, "GET", f"/funds/{draft['id']}", headers=business)
        events = await _events(
            ob.kafka_bootstrap_servers,
            events_topic("onboarding", ob.topic_namespace),
            {"MsmeRegistered", "ApplicationSubmitted", "ApplicationDecided", "FundOpened"},
        )
    assert msme["referred_by_bank"] == "hokkaido-bank"
    assert msme["contact"] is None, "a bank does not see the business's personal data"
    assert application["referred_by"] == "bank"
    assert application["step"] == "initial_meeting", "the referral is the partner introduction"
    assert early.status_code == 409
    assert early.json()["type"] == PROBLEM_BASE + "illegal-transition"
    assert "every checklist document" in early.json()["detail"]
    assert rejected["status"] == "rejected"
    assert (replaced["version"], replaced["status"]) == (2, "submitted")
    assert replaced["sha256"] == hashlib.sha256(PDF + b"% with the project\n").hexdigest()
    assert checklist["complete"]
    assert checklist["missing"] == []
    assert approved["step"] == "offering_preparation"
    assert [v["vote"] for v in approved["committee_votes"]] == ["approve"] * 3
    assert progress["step"] == "ready"
    assert [h["to_step"] for h in progress["history"]] == [
        "initial_meeting",
        "staff_judgement",
        "onsite_interview",
        "project_meeting",
        "agreement_and_documents",
        "committee_decision",
        "offering_preparation",
        "msme_confirmation",
        "ready",
    ]
    assert scheduled["status"] == "scheduled", "FundOpened waits for the offering start"
    assert frozen.status_code == 409
    assert opened["status"] == "open"
    assert opened["capital_like_debt"]["eligible"] is True
    assert offered["units_offered"] == 1_000
    types = [e.type for e in events]
    assert types.count("FundOpened") == 1
    fund_opened = next(e for e in events if e.type == "FundOpened")
    assert fund_opened.schema_version == 3
    assert fund_opened.data["revenue_share"]["threshold_basis"] == "per_period"
    assert fund_opened.data["fees"]["arrangement_fee"] == 900_000
    assert fund_opened.data["terms_digest"] == scheduled["terms_digest"]
    decided = next(e for e in events if e.type == "ApplicationDecided")
    assert decided.data["outcome"] == "approved"
    wire = b"".join(e.to_bytes() for e in events)
    assert not any(p.encode() in wire for p in PERSONAL), "no personal data in events"


async def test_identifiers_are_checked_and_a_business_registers_once(
    settings_for: SettingsFactory,
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        bad = await client.post(
            "/msmes",
            json=msme_body(
                corporate_number="7000012050003",
                prefecture_code="13",
                municipality_code="012025",
                industry="Z",
            ),
            headers=STAFF,
        )
        first = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
        again = await client.post(
            "/msmes",
            json=msme_body(corporate_number=first["corporate_number"]),
            headers=BANK,
        )
        again_by_staff = await client.post(
            "/msmes",
            json=msme_body(corporate_number=first["corporate_number"]),
            headers=STAFF,
        )
        mine = await call(client, "GET", f"/msmes/{first['id']}", headers=msme_token(first["id"]))
        bad_email = await client.post(
            "/msmes", json=msme_body(contact_email="not-an-address"), headers=STAFF
        )
    assert bad.status_code == 422
    assert {p["name"] for p in bad.json()["invalid_params"]} == {
        "body.corporate_number",
        "body.municipality_code",
        "body.industry",
    }
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM_BASE + "already-registered"
    assert "existing_id" not in again.json(), "a bank learns only that the number is taken"
    assert first["id"] not in again.text
    assert again_by_staff.status_code == 409
    assert again_by_staff.json()["existing_id"] == first["id"]
    assert again_by_staff.json()["existing"] == f"/msmes/{first['id']}"
    assert mine["contact"]["representative_name"] == "Taro Yamada"
    assert bad_email.status_code == 422
    assert [p["name"] for p in bad_email.json()["invalid_params"]] == ["body.contact_email"]


async def test_banks_and_businesses_see_only_their_own(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        ours = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=BANK)
        theirs = await call(client, "POST", "/msmes", 201, json=msme_body(), headers=OTHER_BANK)
        application = await call(
            client,
            "POST",
            f"/msmes/{ours['id']}/applications",
            201,
            json=application_body(),
            headers=msme_token(ours["id"]),
        )
        app_id = application["id"]
        doc = await call(
            client,
            "POST",
            f"/applications/{app_id}/documents/ceo_cv",
            201,
            params={"filename": "cv.pdf"},
            content=PDF,
            headers={**msme_token(ours["id"]), "Content-Type": "application/pdf"},
        )
        content = f"/applications/{app_id}/documents/ceo_cv/versions/{doc['id']}/content"
        own_download = await client.get(content, headers=msme_token(ours["id"]))
        staff_download = await client.get(content, headers=STAFF)
        other_business = await client.get(content, headers=msme_token(theirs["id"]))
        bank_download = await client.get(content, headers=BANK)
        other_bank_msme = await client.get(f"/msmes/{ours['id']}", headers=OTHER_BANK)
        other_bank_application = await client.get(f"/applications/{app_id}", headers=OTHER_BANK)
        bank_progress = await call(client, "GET", f"/applications/{app_id}", headers=BANK)
        bank_list = await call(client, "GET", "/msmes", headers=BANK)
        bank_prying = await client.get(
            "/msmes", params={"referring_bank": "other-bank"}, headers=BANK
        )
        other_business_list = await call(
            client, "GET", "/applications", headers=msme_token(theirs["id"])
        )
        advance_own = await client.post(
            f"/applications/{app_id}/transitions",
            json={"to": "staff_judgement", "note": "let us hurry"},
            headers=msme_token(ours["id"]),
        )
        investor = await client.get(f"/msmes/{ours['id']}", headers=bearer(Role.INVESTOR, "i"))
    assert own_download.content == PDF
    assert own_download.headers["content-type"] == "application/pdf"
    digest = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert own_download.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert staff_download.status_code == 200
    assert other_business.status_code == 404
    assert bank_download.status_code == 403, "documents are for the business and staff only"
    assert other_bank_msme.status_code == 404
    assert other_bank_application.status_code == 404
    assert bank_progress["step"] == "initial_meeting"
    assert [m["id"] for m in bank_list["items"]] == [ours["id"]]
    assert bank_prying.status_code == 403
    assert other_business_list["items"] == []
    assert advance_own.status_code == 403
    assert investor.status_code == 403


async def test_illegal_moves_withdrawal_and_overdue_applications(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for(
        "onboarding", run_workers=False, step_target_days={"submitted": 0, "initial_meeting": 30}
    )
    app = service("onboarding").create_app(settings)
    async with running(app) as client:
        msme = await register(client)
        late = await apply(client, msme["id"])
        on_time = await apply(client, msme["id"])
        await move(client, on_time["id"], "initial_meeting")
        jump = await client.post(
            f"/applications/{late['id']}/transitions",
            json={"to": "ready", "note": "skip it all"},
            headers=STAFF,
        )
        overdue = await call(
            client, "GET", "/applications", params={"overdue": "true"}, headers=STAFF
        )
        withdrawn = await call(
            client,
            "POST",
            f"/applications/{on_time['id']}/transitions",
            json={"to": "withdrawn", "note": "we found a bank loan"},
            headers=msme_token(msme["id"]),
        )
        after = await client.post(
            f"/applications/{on_time['id']}/transitions",
            json={"to": "staff_judgement", "note": "changed our mind"},
            headers=STAFF,
        )
        not_at_committee = await client.post(
            f"/applications/{late['id']}/decision",
            json={
                "votes": [{"member": "m", "vote": "approve", "reason": "fine"}],
                "note": "too early",
            },
            headers=STAFF,
        )
    assert jump.status_code == 409
    assert jump.json()["current"] == "submitted"
    assert jump.json()["allowed"] == ["initial_meeting", "withdrawn", "rejected"]
    assert [a["id"] for a in overdue["items"]] == [late["id"]]
    assert overdue["items"][0]["overdue_days"] == 0
    assert withdrawn["step"] == "withdrawn"
    assert withdrawn["allowed_moves"] == []
    assert after.status_code == 409
    assert not_at_committee.status_code == 409
    rows = await fetch(
        settings.database_url,
        "SELECT envelope->>'type' AS type, envelope->'data'->>'outcome' AS outcome "
        "FROM outbox_events WHERE subject = $1 ORDER BY seq",
        on_time["id"],
    )
    assert [(r["type"], r["outcome"]) for r in rows] == [
        ("ApplicationSubmitted", None),
        ("ApplicationDecided", "withdrawn"),
    ]


async def test_the_committee_needs_a_quorum_and_can_reject(settings_for: SettingsFactory) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        msme = await register(client)
        application = await apply(client, msme["id"])
        app_id = application["id"]
        await move(client, app_id, "initial_meeting", *TO_AGREEMENT[1:], "agreement_and_documents")
        await accept_all_documents(client, app_id)
        await move(client, app_id, "committee_decision")
        votes = [
            {"member": "chair", "vote": "approve", "reason": "good story"},
            {"member": "risk", "vote": "reject", "reason": "thin margins"},
        ]
        short = await client.post(
            f"/applications/{app_id}/decision",
            json={"votes": votes, "note": "two members present"},
            headers=STAFF,
        )
        decided = await call(
            client,
            "POST",
            f"/applications/{app_id}/decision",
            json={
                "votes": [*votes, {"member": "finance", "vote": "reject", "reason": "debt"}],
                "note": "full committee",
            },
            headers=STAFF,
        )
        fund = await client.post(
            "/funds", json={"application_id": app_id, "terms": fund_terms()}, headers=STAFF
        )
    assert short.status_code == 422
    assert "quorum is 3" in short.json()["detail"]
    assert decided["step"] == "rejected"
    assert {v["member"]: v["vote"] for v in decided["committee_votes"]} == {
        "chair": "approve",
        "risk": "reject",
        "finance": "reject",
    }
    assert fund.status_code == 409


async def test_document_limits_and_an_accepted_document_stays(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False, document_max_bytes=64)
    app = service("onboarding").create_app(settings)
    async with running(app) as client:
        msme = await register(client)
        application = await apply(client, msme["id"])
        base = f"/applications/{application['id']}/documents"

        async def upload(kind: str, content: bytes, content_type: str) -> httpx.Response:
            return await client.post(
                f"{base}/{kind}",
                params={"filename": "file"},
                content=content,
                headers={**STAFF, "Content-Type": content_type},
            )

        too_large = await upload("brochure", PDF + b"x" * 100, "application/pdf")
        exe = await upload("brochure", b"MZ\x90\x00", "application/x-msdownload")
        disguised = await upload("brochure", b"\x89PNG\r\n\x1a\n1234", "application/pdf")
        unknown_kind = await upload("horoscope", PDF, "application/pdf")
        accepted = await call(
            client,
            "POST",
            f"{base}/brochure",
            201,
            params={"filename": "brochure.pdf"},
            content=PDF,
            headers={**STAFF, "Content-Type": "application/pdf"},
        )
        await call(
            client,
            "POST",
            f"{base}/brochure/versions/{accepted['id']}/review",
            json={"decision": "accepted"},
            headers=STAFF,
        )
        replace = await upload("brochure", PDF, "application/pdf")
        no_reason = await client.post(
            f"{base}/brochure/versions/{accepted['id']}/review",
            json={"decision": "rejected"},
            headers=STAFF,
        )
    assert too_large.status_code == 413
    assert too_large.json()["type"] == PROBLEM_BASE + "payload-too-large"
    assert "larger than 64 bytes" in too_large.json()["detail"]
    assert exe.status_code == 415
    assert disguised.status_code == 415
    assert unknown_kind.status_code == 404
    assert replace.status_code == 409
    assert no_reason.status_code == 422
    files = [p for p in settings.documents_dir.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert len(files) == 1, "refused uploads leave no file behind"


async def test_the_yearly_limit_cancellation_and_the_closing_outcome(
    settings_for: SettingsFactory,
) -> None:
    ob = settings_for("onboarding", yearly_raise_limit=25_000_000)
    onboarding = service("onboarding").create_app(ob)
    subscription_runtime = service("subscription").create_app(settings_for("subscription"))
    async with running(onboarding) as client:
        first = await publish(client)
        msme_id = first["msme_id"]
        later = (datetime.now(UTC) + timedelta(days=40)).isoformat()
        second = await publish(
            client,
            msme_id,
            offering_start=later,
            offering_end=(datetime.now(UTC) + timedelta(days=70)).isoformat(),
        )
        _, application_id = await ready_application(client, msme_id)
        draft = await call(
            client,
            "POST",
            "/funds",
            201,
            json={"application_id": application_id, "terms": fund_terms()},
            headers=STAFF,
        )
        refused = await client.post(f"/funds/{draft['id']}/publish", headers=STAFF)
        cancelled = await call(
            client,
            "POST",
            f"/funds/{second['id']}/cancel",
            json={"reason": "the business postponed the project"},
            headers=STAFF,
        )
        after_cancel = await call(client, "POST", f"/funds/{draft['id']}/publish", headers=STAFF)
        cancel_open = await client.post(
            f"/funds/{first['id']}/cancel", json={"reason": "too late"}, headers=STAFF
        )
        # The subscription service announces that the first fund failed.
        closed = FundClosed(
            fund_id=uuid.UUID(first["id"]),
            msme_id=uuid.UUID(msme_id),
            outcome=FundOutcome.FAILED,
            units_confirmed=0,
            amount_raised=0,
            handling_fees_collected=0,
            investor_count=0,
            closed_at=datetime.now(UTC),
        )
        async with subscription_runtime.state.runtime.unit_of_work() as uow:
            await uow.emit(closed, subject=first["id"])
        async with running(subscription_runtime):

            async def failed() -> dict[str, Any] | None:
                fund: dict[str, Any] = await call(
                    client, "GET", f"/funds/{first['id']}", headers=STAFF
                )
                return fund if fund["status"] == "closed_failed" else None

            closed_fund = await eventually(failed, what="the closing recorded")
        trail = await call(
            client,
            "GET",
            "/audit",
            params={"entity_type": "fund", "entity_id": second["id"]},
            headers=STAFF,
        )
        audit_forbidden = await client.get("/audit", headers=BANK)
    assert first["status"] == "open"
    assert second["status"] == "scheduled"
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"] == PROBLEM_BASE + "yearly-limit"
    assert (body["counted"], body["this_fund"], body["limit"]) == (
        20_000_000,
        10_000_000,
        25_000_000,
    )
    assert cancelled["status"] == "cancelled"
    assert after_cancel["status"] == "open", "a cancelled fund no longer counts"
    assert cancel_open.status_code == 409
    assert closed_fund["amount_raised"] == 0
    assert [r["action"] for r in trail["items"]] == [
        "fund.drafted",
        "fund.published",
        "fund.cancelled",
    ]
    assert audit_forbidden.status_code == 403
    events = await fetch(
        ob.database_url,
        "SELECT envelope->>'type' AS type FROM outbox_events WHERE subject = $1 ORDER BY seq",
        second["id"],
    )
    assert [e["type"] for e in events] == ["FundCancelled"]


async def test_the_audit_trail_and_step_history_are_append_only(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    app = service("onboarding").create_app(settings)
    async with running(app) as client:
        await call(client, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM application_steps",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await fetch(settings.database_url, statement)
    rows = await fetch(settings.database_url, "SELECT action FROM audit_log")
    assert [r["action"] for r in rows] == ["msme.registered"]


async def test_personal_data_stays_out_of_the_logs(
    settings_for: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    async with running(app) as client:
        await call(client, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
        refused = await client.post("/msmes", json=msme_body(corporate_number="123"), headers=STAFF)
        await client.post("/msmes", json={**msme_body(), "contact_phone": "x"}, headers=STAFF)
    logged = capsys.readouterr()
    assert refused.status_code == 422
    assert '"path": "/msmes"' in logged.out, "requests are logged"
    for value in PERSONAL:
        assert value not in logged.out + logged.err
