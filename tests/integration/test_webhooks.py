"""Partners' webhooks over the real broker and real HTTP: a receiver started by the test
verifies every message with the reference Standard Webhooks library, fails for a while
and comes back; nothing is lost, nothing arrives out of order, and each partner hears
only what it may see."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from standardwebhooks import Webhook, WebhookVerificationError

from helpers import (
    BANK,
    MUNICIPALITY,
    OTHER_BANK,
    STAFF,
    SettingsFactory,
    call,
    fetch,
    publish,
    publish_events,
    publish_referred,
    register,
)
from kumiai.contracts.ledger import PaymentReceived, PayoutBeneficiary, PayoutInstructed
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.contracts.subsidy import SubsidyGranted
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.devstack import free_port
from kumiai_tools.testing import eventually, running

FAST_RETRIES = {
    "min_offering_days": 0,
    "webhook_retry_base_s": 0.05,
    "webhook_retry_cap_s": 0.2,
    "webhook_interval_s": 0.05,
    "webhook_timeout_s": 2.0,
}


@dataclass
class Received:
    message_id: str
    type: str
    data: dict[str, Any]
    signatures: int


@dataclass
class Receiver:
    """A partner's HTTP endpoint: answers ``status`` while failing, else 204 for every
    message whose signature the reference library verifies with ``secrets``."""

    secrets: list[str] = field(default_factory=list)
    status: int = 503
    failing: bool = True
    refusals: int = 0
    unverified: int = 0
    accepted: list[Received] = field(default_factory=list)

    def first_receipts(self) -> list[Received]:
        """Each message once, in the order it first arrived."""
        seen: set[str] = set()
        first = []
        for item in self.accepted:
            if item.message_id not in seen:
                seen.add(item.message_id)
                first.append(item)
        return first

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            raw = await request.body()
            if self.failing:
                self.refusals += 1
                return Response(status_code=self.status)
            for secret in self.secrets:
                try:
                    message = Webhook(secret).verify(raw, dict(request.headers))
                except WebhookVerificationError:
                    continue
                self.accepted.append(
                    Received(
                        message_id=request.headers["webhook-id"],
                        type=message["type"],
                        data=message["data"],
                        signatures=len(request.headers["webhook-signature"].split(" ")),
                    )
                )
                return Response(status_code=204)
            self.unverified += 1
            return Response(status_code=400)

        return app


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[str]:
    """Serve ``receiver`` over real HTTP on a free port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, result=server.started), what="receiver up")
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def _endpoint(
    client: httpx.AsyncClient,
    partner: str,
    headers: dict[str, str],
    url: str,
    types: list[str],
) -> tuple[dict[str, Any], str]:
    endpoint = await call(
        client,
        "POST",
        f"/partners/{partner}/webhook-endpoints",
        201,
        json={"url": url, "event_types": types, "description": "test"},
        headers=headers,
    )
    base = f"/partners/{partner}/webhook-endpoints/{endpoint['endpoint_id']}"
    secret = await call(client, "GET", f"{base}/secret", headers=headers)
    return endpoint, secret["secret"]


async def _deliveries(url: str, endpoint_id: str) -> list[Any]:
    return await fetch(
        url,
        "SELECT message_id, event_type, subject, status, attempts FROM webhook_deliveries "
        "WHERE endpoint_id = $1 ORDER BY seq",
        uuid.UUID(endpoint_id),
    )


async def _queued(url: str, endpoint_id: str, count: int) -> list[Any] | None:
    rows = await _deliveries(url, endpoint_id)
    return rows if len(rows) >= count else None


def _payment(fund: dict[str, Any], bank_id: str, amount: int) -> PaymentReceived:
    return PaymentReceived(
        deposit_id=uuid.uuid4(),
        subscription_id=uuid.uuid4(),
        fund_id=uuid.UUID(fund["id"]),
        investor_id=uuid.uuid4(),
        amount=amount,
        value_date=date(2026, 11, 30),
        bank_id=bank_id,
        received_at=datetime.now(UTC),
    )


async def test_partners_hear_what_they_may_see_signed_in_order_through_an_outage(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", **FAST_RETRIES)
    app = service("onboarding").create_app(settings)
    bank_receiver, other_receiver, city_receiver = Receiver(), Receiver(), Receiver()
    ledger = events_topic("ledger", settings.topic_namespace)
    bootstrap = settings.kafka_bootstrap_servers
    async with (
        serving(bank_receiver) as bank_url,
        serving(other_receiver) as other_url,
        serving(city_receiver) as city_url,
        running(app) as client,
    ):
        bank_types = ["fund.opened", "fund.closed", "deposit.matched", "payout.instructed"]
        bank_endpoint, bank_secret = await _endpoint(
            client, "hokkaido-bank", BANK, bank_url, bank_types
        )
        _, other_secret = await _endpoint(client, "other-bank", OTHER_BANK, other_url, bank_types)
        city_endpoint, city_secret = await _endpoint(
            client,
            "012025",
            MUNICIPALITY,
            city_url,
            ["fund.opened", "subsidy.granted", "fund.closed"],
        )
        bank_receiver.secrets = [bank_secret]
        other_receiver.secrets = [other_secret]
        city_receiver.secrets = [city_secret]

        # A business the bank referred gets a fund (open at once: fund.opened).
        referred = await register(client, BANK)
        fund = await publish_referred(client, referred["id"], BANK)
        # Staff's own business: the bank hears nothing of it.
        unreferred = await publish(client)
        db = settings.database_url
        await eventually(
            lambda: _queued(db, bank_endpoint["endpoint_id"], 1), what="fund.opened queued"
        )
        # The ledger matches deposits at both banks, and instructs a refund to an investor.
        payments = [_payment(fund, "hokkaido-bank", 10_500 * n) for n in (1, 2, 3)]
        refund = PayoutInstructed(
            payout_id=uuid.uuid4(),
            fund_id=uuid.UUID(fund["id"]),
            beneficiary=PayoutBeneficiary.INVESTOR,
            beneficiary_id=str(uuid.uuid4()),
            bank_id="hokkaido-bank",
            amount=10_500,
            instructed_at=datetime.now(UTC),
        )
        others = _payment(fund, "other-bank", 21_000)
        await publish_events(bootstrap, ledger, "ledger", fund["id"], [*payments, refund, others])
        # The city's programme backs the fund; later the offering closes and formed.
        granted = SubsidyGranted(
            award_id=uuid.uuid4(),
            programme_id=uuid.uuid4(),
            municipality_code="012025",
            fiscal_year=2026,
            fund_id=uuid.UUID(fund["id"]),
            msme_id=uuid.UUID(referred["id"]),
            application_id=uuid.UUID(fund["application_id"]),
            arrangement_fee=900_000,
            amount=800_000,
            payment_reference="SUB-012025-0001",
            lapses_if_fund_fails=True,
            granted_at=datetime.now(UTC),
        )
        subsidy = events_topic("subsidy", settings.topic_namespace)
        await publish_events(bootstrap, subsidy, "subsidy", fund["id"], [granted])
        await eventually(
            lambda: _queued(db, city_endpoint["endpoint_id"], 2), what="subsidy.granted queued"
        )
        closings = [
            FundClosed(
                fund_id=uuid.UUID(f["id"]),
                msme_id=uuid.UUID(f["msme_id"]),
                outcome=FundOutcome.SUCCEEDED,
                units_confirmed=400,
                amount_raised=4_000_000,
                handling_fees_collected=200_000,
                investor_count=40,
                closed_at=datetime.now(UTC),
            )
            for f in (fund, unreferred)
        ]
        subscription = events_topic("subscription", settings.topic_namespace)
        for closing in closings:
            await publish_events(
                bootstrap, subscription, "subscription", str(closing.fund_id), [closing]
            )
        bank_queue = await eventually(
            lambda: _queued(db, bank_endpoint["endpoint_id"], 6), what="the bank's messages"
        )
        # Every receiver has refused for a while; then they come back.
        await eventually(
            lambda: asyncio.sleep(0, result=bank_receiver.refusals >= 4), what="retries"
        )
        for receiver in (bank_receiver, other_receiver, city_receiver):
            receiver.failing = False
        await eventually(
            lambda: asyncio.sleep(0, result=len(bank_receiver.first_receipts()) >= 6),
            what="the bank's messages delivered",
        )
        await eventually(
            lambda: asyncio.sleep(0, result=len(city_receiver.first_receipts()) >= 3),
            what="the city's messages delivered",
        )
        await eventually(
            lambda: asyncio.sleep(0, result=len(other_receiver.first_receipts()) >= 1),
            what="the other bank's message delivered",
        )
        base = f"/partners/hokkaido-bank/webhook-endpoints/{bank_endpoint['endpoint_id']}"
        log = await call(client, "GET", f"{base}/deliveries", headers=BANK)
        first = log["items"][-1]
        detail = await call(
            client, "GET", f"{base}/deliveries/{first['delivery_id']}", headers=BANK
        )
        others_log = await client.get(f"{base}/deliveries", headers=OTHER_BANK)
        delivered = await eventually(
            lambda: _all_delivered(db, bank_endpoint["endpoint_id"]), what="log settled"
        )

    # The bank hears its referral's fund, its own deposits and the refund it must send, in
    # the order they were queued (per fund), each once verified by the reference library.
    bank = bank_receiver.first_receipts()
    assert [m.message_id for m in bank] == [row["message_id"] for row in bank_queue]
    assert [m.type for m in bank] == [
        "fund.opened",
        "deposit.matched",
        "deposit.matched",
        "deposit.matched",
        "payout.instructed",
        "fund.closed",
    ]
    assert {m.data["fund_id"] for m in bank} == {fund["id"]}, "not the unreferred business's"
    assert [m.data["amount"] for m in bank[1:4]] == [10_500, 21_000, 31_500]
    assert bank_receiver.unverified == 0
    assert bank_receiver.refusals >= 4
    # No personal data: no investor id anywhere, the refund's beneficiary withheld.
    assert all("investor_id" not in m.data for m in bank)
    assert bank[4].data["beneficiary"] == "investor"
    assert bank[4].data["beneficiary_id"] is None
    assert bank[5].data["outcome"] == "succeeded"
    assert bank[5].data["amount_raised"] == 4_000_000
    # The other bank hears only its own deposit; the city its grant, then the fund it backs.
    assert [(m.type, m.data["amount"]) for m in other_receiver.first_receipts()] == [
        ("deposit.matched", 21_000)
    ]
    # The city hears of the opening with its grant (a grant needs an open fund), then the
    # news of the fund it now backs.
    city = city_receiver.first_receipts()
    assert [m.type for m in city] == ["fund.opened", "subsidy.granted", "fund.closed"]
    assert city[0].data == bank[0].data, "the opening as the bank heard it"
    assert city[2].data["fund_id"] == fund["id"]
    # The log: every message delivered after failed attempts that it shows.
    assert delivered == 6
    assert first["event_type"] == "fund.opened"
    assert detail["status"] == "delivered"
    assert detail["message"]["type"] == "fund.opened"
    assert detail["attempt_log"][0]["status_code"] == 503
    assert detail["attempt_log"][-1]["status_code"] == 204
    assert len(detail["attempt_log"]) == detail["attempts"] >= 2
    assert others_log.status_code == 404, "another bank cannot read the log"


async def _all_delivered(url: str, endpoint_id: str) -> int | None:
    rows = await _deliveries(url, endpoint_id)
    return len(rows) if rows and all(r["status"] == "delivered" for r in rows) else None


async def test_a_rotated_secret_signs_beside_the_new_one_for_the_overlap(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", **FAST_RETRIES)
    app = service("onboarding").create_app(settings)
    receiver = Receiver(failing=False)
    async with serving(receiver) as url, running(app) as client:
        endpoint, old = await _endpoint(client, "hokkaido-bank", BANK, url, ["fund.opened"])
        base = f"/partners/hokkaido-bank/webhook-endpoints/{endpoint['endpoint_id']}"
        rotated = await call(
            client, "POST", f"{base}/rotate-secret", json={"overlap_s": 3600}, headers=BANK
        )
        receiver.secrets = [old]  # the partner has not switched yet
        referred = await register(client, BANK)
        await publish_referred(client, referred["id"], BANK)
        await eventually(
            lambda: asyncio.sleep(0, result=len(receiver.accepted) >= 1), what="first message"
        )
        shown = await call(client, "GET", f"{base}/secret", headers=BANK)
        # The partner switches to the new secret only, and ends the overlap at once.
        receiver.secrets = [rotated["secret"]]
        ended = await call(
            client, "POST", f"{base}/rotate-secret", json={"overlap_s": 0}, headers=BANK
        )
        log = await call(client, "GET", f"{base}/deliveries", headers=BANK)
        delivery_id = log["items"][0]["delivery_id"]
        # With the old secret only, a redelivery no longer verifies...
        await call(client, "POST", f"{base}/deliveries/{delivery_id}/redeliver", headers=BANK)
        await eventually(
            lambda: asyncio.sleep(0, result=receiver.unverified >= 1), what="a refused message"
        )
        # ... with the latest secret, it does.
        receiver.secrets = [ended["secret"]]
        await eventually(
            lambda: asyncio.sleep(0, result=len(receiver.accepted) >= 2), what="redelivered"
        )
        # The receiver has it; the worker records so when its pass commits.
        detail = await eventually(
            lambda: _delivered(client, f"{base}/deliveries/{delivery_id}"),
            what="the redelivery recorded",
        )

    first, again = receiver.accepted[:2]
    assert first.signatures == 2, "the old and the new secret both sign during the overlap"
    assert again.signatures == 1
    assert again.message_id == first.message_id, "a redelivery keeps its webhook-id"
    assert shown["secret"] == rotated["secret"]
    assert shown["previous_expires_at"] is not None
    assert ended["previous_expires_at"] is None
    assert old != rotated["secret"] != ended["secret"]
    assert detail["attempt_log"][-1]["manual"] is True
    assert detail["status"] == "delivered"


async def _delivered(client: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    detail: dict[str, Any] = await call(client, "GET", path, headers=BANK)
    return detail if detail["status"] == "delivered" else None


async def test_an_endpoint_failing_for_days_is_disabled_and_resumes_in_order_after_a_restart(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", **FAST_RETRIES, webhook_give_up_after_s=0.5)
    receiver = Receiver(status=500)
    async with serving(receiver) as url:
        async with running(service("onboarding").create_app(settings)) as client:
            endpoint, secret = await _endpoint(client, "hokkaido-bank", BANK, url, ["fund.opened"])
            receiver.secrets = [secret]
            base = f"/partners/hokkaido-bank/webhook-endpoints/{endpoint['endpoint_id']}"
            referred = await register(client, BANK)
            funds = [await publish_referred(client, referred["id"], BANK) for _ in range(3)]
            disabled = await eventually(
                lambda: _disabled(client, base), what="the endpoint disabled", timeout_s=30
            )
            staff_view = await call(
                client, "GET", "/webhook-endpoints", params={"status": "disabled"}, headers=STAFF
            )
            trail = await call(
                client,
                "GET",
                "/audit",
                params={"entity_type": "webhook_endpoint", "entity_id": endpoint["endpoint_id"]},
                headers=STAFF,
            )
            redeliver = await client.post(
                f"{base}/deliveries/{uuid.uuid4()}/redeliver", headers=BANK
            )
            # Openings heard after the endpoint was disabled are queued all the same.
            pending = await eventually(
                lambda: _queued(settings.database_url, endpoint["endpoint_id"], 3),
                what="every opening queued",
            )
        # A new process: the receiver is back, the bank enables its endpoint.
        receiver.failing = False
        async with running(service("onboarding").create_app(settings)) as client:
            enabled = await call(client, "POST", f"{base}/enable", headers=BANK)
            await eventually(
                lambda: asyncio.sleep(0, result=len(receiver.first_receipts()) >= 3),
                what="every waiting message",
            )

    assert disabled["status"] == "disabled"
    assert disabled["disabled_reason"] == "failing"
    assert disabled["failing_since"] is not None
    assert endpoint["endpoint_id"] in [e["endpoint_id"] for e in staff_view["items"]]
    assert "webhook.endpoint_disabled" in [r["action"] for r in trail["items"]]
    assert redeliver.status_code == 409
    assert redeliver.json()["type"].endswith("webhook-delivery-not-redeliverable")
    assert pending is not None
    assert {r["status"] for r in pending} == {"pending"}, "nothing dropped while disabled"
    assert enabled["status"] == "enabled"
    assert enabled["failing_since"] is None
    # Three funds are three subjects: no order between them, but none is missing.
    received = [m.data["fund_id"] for m in receiver.first_receipts()]
    assert sorted(received) == sorted(f["id"] for f in funds)


async def _disabled(client: httpx.AsyncClient, base: str) -> dict[str, Any] | None:
    endpoint: dict[str, Any] = await call(client, "GET", base, headers=BANK)
    return endpoint if endpoint["status"] == "disabled" else None


async def test_endpoints_are_the_partners_own_and_hear_only_their_kinds_events(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding")
    app = service("onboarding").create_app(settings)
    async with running(app) as client:
        path = "/partners/hokkaido-bank/webhook-endpoints"
        body = {"url": "https://hooks.example.jp/k", "event_types": ["fund.opened"]}
        mine = await call(client, "POST", path, 201, json=body, headers=BANK)
        by_staff = await call(client, "POST", path, 201, json=body, headers=STAFF)
        replay_headers = {**BANK, "Idempotency-Key": "hook-1"}
        once = await call(client, "POST", path, 201, json=body, headers=replay_headers)
        twice = await client.post(path, json=body, headers=replay_headers)
        listed = await call(client, "GET", path, headers=BANK)
        other = await client.get(path, headers=OTHER_BANK)
        other_secret = await client.get(f"{path}/{mine['endpoint_id']}/secret", headers=OTHER_BANK)
        city_path = "/partners/012025/webhook-endpoints"
        city_payouts = await client.post(
            city_path,
            json={"url": "https://city.example.jp/k", "event_types": ["payout.instructed"]},
            headers=MUNICIPALITY,
        )
        bank_grants = await client.post(
            path, json={**body, "event_types": ["subsidy.granted"]}, headers=BANK
        )
        bad_urls = [
            await client.post(path, json={**body, "url": url}, headers=BANK)
            for url in ("ftp://hooks.example.jp/k", "https://user:pw@hooks.example.jp/k", "x" * 9)
        ]
        nul = await client.post(path, json={**body, "description": "a\u0000b"}, headers=BANK)
        unknown_type = await client.post(
            path, json={**body, "event_types": ["fund.exploded"]}, headers=BANK
        )
        unknown_partner = await client.get(
            "/partners/no-such-bank/webhook-endpoints", headers=STAFF
        )
        disabled = await call(client, "POST", f"{path}/{mine['endpoint_id']}/disable", headers=BANK)
        again = await client.post(f"{path}/{mine['endpoint_id']}/disable", headers=BANK)
        many = [await client.post(path, json=body, headers=BANK) for _ in range(8)]
        stored = await fetch(
            settings.database_url,
            "SELECT secret FROM webhook_secrets WHERE endpoint_id = $1",
            uuid.UUID(mine["endpoint_id"]),
        )
        secret = await call(client, "GET", f"{path}/{mine['endpoint_id']}/secret", headers=BANK)

    assert mine["partner_id"] == by_staff["partner_id"] == "hokkaido-bank"
    assert "secret" not in mine
    assert twice.status_code == 201
    assert twice.json()["endpoint_id"] == once["endpoint_id"], "a retried registration"
    assert {e["endpoint_id"] for e in listed["items"]} == {
        mine["endpoint_id"],
        by_staff["endpoint_id"],
        once["endpoint_id"],
    }
    assert other.status_code == 404
    assert other_secret.status_code == 404
    for refused in (city_payouts, bank_grants):
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("webhook-event-type-not-available")
    assert "deposit.matched" in bank_grants.json()["detail"], "it names what the bank may hear"
    assert [r.status_code for r in bad_urls] == [422, 422, 422]
    assert bad_urls[1].json()["type"].endswith("webhook-endpoint-invalid")
    assert nul.status_code == 422
    assert unknown_type.status_code == 422
    assert unknown_partner.status_code == 404
    assert disabled["disabled_reason"] == "by_partner"
    assert again.status_code == 409
    assert [r.status_code for r in many] == [201] * 7 + [409], "ten endpoints at most"
    assert many[-1].json()["type"].endswith("webhook-endpoint-limit")
    # The secret is encrypted at rest, shown to its partner on request.
    assert secret["secret"].startswith("whsec_")
    assert secret["secret"].encode() not in bytes(stored[0]["secret"])
    assert json.loads(json.dumps(secret))["previous_expires_at"] is None
