"""Helpers shared by the integration tests."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from kumiai.auth import Role
from kumiai.db import session_factory
from kumiai.events import Envelope, EventRegistry
from kumiai.inbox import EventConsumer, Handler
from kumiai.kafka import ensure_topics
from kumiai.settings import ServiceSettings
from kumiai_tools.testing import bearer
from onboarding.documents.rules import CHECKLIST
from onboarding.msmes.rules import corporate_number_check_digit

SettingsFactory = Callable[..., ServiceSettings]

STAFF = bearer(Role.STAFF, "platform")

# Partners every test database starts with (conftest seeds them after each clean-up):
# (partner id, kind, name, Zengin code). Any other bank or municipality is unknown.
PARTNERS = (
    ("hokkaido-bank", "bank", "Hokkaido Bank", "0116"),
    ("other-bank", "bank", "Other Regional Bank", "0117"),
    ("012025", "municipality", "Hakodate City", None),
    ("011002", "municipality", "Sapporo City", None),
)
BANK = bearer(Role.BANK, "hokkaido-bank")
OTHER_BANK = bearer(Role.BANK, "other-bank")
MUNICIPALITY = bearer(Role.MUNICIPALITY, "012025")


async def seed_partners(conn: asyncpg.Connection) -> None:
    """Register the standard partners in one service's database (its copy of the registry)."""
    await conn.executemany(
        "INSERT INTO partners (partner_id, kind, name, zengin_code, status, version, "
        "registered_at) VALUES ($1, $2, $3, $4, 'active', 0, now()) "
        "ON CONFLICT (partner_id) DO NOTHING",
        PARTNERS,
    )


REQUIRED_KINDS = [item.kind for item in CHECKLIST if item.required]


def corporate_number() -> str:
    """A random Corporate Number with a correct check digit."""
    base = f"{random.randrange(10**12):012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def msme_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "corporate_number": corporate_number(),
        "company_name": "Hakodate Craft Brewery Co., Ltd.",
        "prefecture_code": "01",
        "municipality_code": "012025",
        "industry": "E",
        "head_office_address": "1-2-3 Motomachi, Hakodate, Hokkaido",
        "representative_name": "Taro Yamada",
        "contact_name": "Hanako Sato",
        "contact_email": "finance@example.jp",
        "contact_phone": "+81-138-00-0000",
    }
    body.update(overrides)
    return body


def application_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": "New fermentation tanks for a seasonal beer",
        "amount_sought": 10_000_000,
        "use_of_funds": "Two 2,000-litre tanks and their installation",
        "business_plan_summary": "Double the output of the seasonal beer within two years.",
        "municipality_code": "012025",
    }
    body.update(overrides)
    return body


def fund_terms(**overrides: Any) -> dict[str, Any]:
    """Valid fund terms whose offering started an hour ago."""
    start = datetime.now(UTC) - timedelta(hours=1)
    terms: dict[str, Any] = {
        "name": "Craft brewery: new fermentation tanks",
        "currency": "JPY",
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "donation_per_unit": 0,
        "units_offered": 1_000,
        "formation_threshold_units": 300,
        "max_units_per_investor": 50,
        "offering_start": start.isoformat(),
        "offering_end": (start + timedelta(days=30)).isoformat(),
        "term_months": 72,
        "settlement": {"fiscal_year_end_month": 3, "periods_per_year": 1},
        "revenue_share": {"rate_before_recoup_ppm": 30_000, "rate_after_recoup_ppm": 10_000},
        "fees": {
            "arrangement_fee": 900_000,
            "operation_fee_rate_ppm": 20_000,
            "audit_fee_first_year": 150_000,
            "audit_fee_later_years": 100_000,
            "success_fee_rate_ppm": 30_000,
        },
        "subordinated": True,
    }
    terms.update(overrides)
    return terms


PDF = b"%PDF-1.4\n% a document for a test\n"
TO_AGREEMENT = ["initial_meeting", "staff_judgement", "onsite_interview", "project_meeting"]


async def call(
    client: httpx.AsyncClient, method: str, path: str, expect: int = 200, **kwargs: Any
) -> Any:
    """One request that must answer ``expect``; its JSON body."""
    response = await client.request(method, path, **kwargs)
    assert response.status_code == expect, f"{method} {path}: {response.text}"
    return response.json()


async def move(client: httpx.AsyncClient, application_id: str, *steps: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for step in steps:
        body = await call(
            client,
            "POST",
            f"/applications/{application_id}/transitions",
            json={"to": step, "note": f"{step} done"},
            headers=STAFF,
        )
    return body


async def accept_all_documents(client: httpx.AsyncClient, application_id: str) -> None:
    for kind in REQUIRED_KINDS:
        doc = await call(
            client,
            "POST",
            f"/applications/{application_id}/documents/{kind}",
            expect=201,
            params={"filename": f"{kind}.pdf"},
            content=PDF,
            headers={**STAFF, "Content-Type": "application/pdf"},
        )
        await call(
            client,
            "POST",
            f"/applications/{application_id}/documents/{kind}/versions/{doc['id']}/review",
            json={"decision": "accepted"},
            headers=STAFF,
        )


async def approve(client: httpx.AsyncClient, application_id: str) -> dict[str, Any]:
    votes = [
        {"member": f"member-{n}", "vote": "approve", "reason": "strong local support"}
        for n in range(3)
    ]
    return dict(
        await call(
            client,
            "POST",
            f"/applications/{application_id}/decision",
            json={"votes": votes, "note": "approved at the monthly committee"},
            headers=STAFF,
        )
    )


async def register(client: httpx.AsyncClient, headers: dict[str, str] = STAFF) -> dict[str, Any]:
    body: dict[str, Any] = await call(
        client, "POST", "/msmes", 201, json=msme_body(), headers=headers
    )
    return body


async def apply(
    client: httpx.AsyncClient, msme_id: str, headers: dict[str, str] = STAFF
) -> dict[str, Any]:
    """Submit an application for the business ``msme_id``."""
    body: dict[str, Any] = await call(
        client,
        "POST",
        f"/msmes/{msme_id}/applications",
        201,
        json=application_body(),
        headers=headers,
    )
    return body


async def ready_application(
    client: httpx.AsyncClient, msme_id: str | None = None
) -> tuple[str, str]:
    """Register a business (unless given) and walk an application of it to ``ready``."""
    if msme_id is None:
        msme_id = str((await register(client))["id"])
    application_id = str((await apply(client, msme_id))["id"])
    await move(client, application_id, "initial_meeting", *TO_AGREEMENT[1:])
    await move(client, application_id, "agreement_and_documents")
    await accept_all_documents(client, application_id)
    await move(client, application_id, "committee_decision")
    await approve(client, application_id)
    await move(client, application_id, "msme_confirmation", "ready")
    return msme_id, application_id


async def publish(
    client: httpx.AsyncClient, msme_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """Walk a new application through onboarding and publish its fund (open if started)."""
    _, application_id = await ready_application(client, msme_id)
    fund = await call(
        client,
        "POST",
        "/funds",
        expect=201,
        json={"application_id": application_id, "terms": fund_terms(**overrides)},
        headers=STAFF,
    )
    published: dict[str, Any] = await call(
        client, "POST", f"/funds/{fund['id']}/publish", headers=STAFF
    )
    return published


async def publish_referred(
    client: httpx.AsyncClient, msme_id: str, bank: dict[str, str], **terms: Any
) -> dict[str, Any]:
    """A new application of a business the bank referred (it starts at the initial
    meeting), walked to ready, and its fund published (open at once if started)."""
    application = await apply(client, msme_id, bank)
    await move(client, application["id"], *TO_AGREEMENT[1:], "agreement_and_documents")
    await accept_all_documents(client, application["id"])
    await move(client, application["id"], "committee_decision")
    await approve(client, application["id"])
    await move(client, application["id"], "msme_confirmation", "ready")
    draft = await call(
        client,
        "POST",
        "/funds",
        201,
        json={"application_id": application["id"], "terms": fund_terms(**terms)},
        headers=STAFF,
    )
    fund: dict[str, Any] = await call(
        client, "POST", f"/funds/{draft['id']}/publish", headers=STAFF
    )
    return fund


async def offering(client: httpx.AsyncClient, fund_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/offerings/{fund_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def publish_events(
    bootstrap: str, topic: str, source: str, subject: str, payloads: list[Any], first: int = 1
) -> None:
    """Publish events as the service ``source`` would, with per-subject sequences from ``first``."""
    await ensure_topics(bootstrap, [topic], partitions=6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for seq, payload in enumerate(payloads, start=first):
            envelope = Envelope(
                type=payload.event_type,
                schema_version=payload.schema_version,
                source=source,
                subject=subject,
                sequence=seq,
                data=payload.model_dump(mode="json"),
            )
            await producer.send_and_wait(topic, envelope.to_bytes(), key=subject.encode())
    finally:
        await producer.stop()


def personal_details(name: str = "Ichiro Suzuki") -> dict[str, Any]:
    return {
        "full_name": name,
        "address": "4-5-6 Kita-ku, Sapporo",
        "phone": "+81-11-000-0000",
        "email": "ichiro@example.jp",
        "payout_account": {
            "bank_code": "0116",
            "branch_code": "101",
            "account_type": "ordinary",
            "account_number": "1234567",
            "account_holder": "SUZUKI ICHIRO",
        },
    }


async def ready_investor(
    client: httpx.AsyncClient, risk_version: str = "2026-11", *, verifying_bank: str | None = None
) -> str:
    """Register, verify and let acknowledge the risk notice an investor; its id.

    With ``verifying_bank`` the investor chooses that partner bank, which verifies it;
    otherwise staff do.
    """
    investor_id = str(uuid.uuid4())
    me = bearer(Role.INVESTOR, investor_id)
    body: dict[str, Any] = {"personal": personal_details()}
    if verifying_bank is not None:
        body["verifying_bank_id"] = verifying_bank
    await call(client, "POST", "/investors", 201, json=body, headers=me)
    await call(
        client,
        "POST",
        f"/investors/{investor_id}/verification",
        json={"status": "verified", "note": "identity documents checked"},
        headers=STAFF if verifying_bank is None else bearer(Role.BANK, verifying_bank),
    )
    await call(
        client,
        "POST",
        f"/investors/{investor_id}/risk-acknowledgements",
        json={"version": risk_version},
        headers=me,
    )
    return investor_id


def offline_consumer(
    engine: AsyncEngine,
    bootstrap: str,
    handlers: Mapping[str, Handler],
    registry: EventRegistry,
    **options: Any,
) -> EventConsumer:
    """A consumer whose events the test hands over itself (no broker loop)."""
    return EventConsumer(
        service="subscription",
        sessions=session_factory(engine),
        bootstrap_servers=bootstrap,
        topics=["unused"],
        handlers=dict(handlers),
        registry=registry,
        own_topic="unused",
        group_id="unused",
        dead_letter_topic="unused",
        **options,
    )
