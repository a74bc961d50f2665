"""Subscribing over HTTP with the real database and broker: limits, no overselling,
cancellation, expiry, payment, closing and "My page"."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import (
    STAFF,
    SettingsFactory,
    call,
    fetch,
    offering,
    personal_details,
    publish_events,
    ready_investor,
)
from kumiai.auth import Role
from kumiai.catalog import service
from kumiai.contracts.ledger import PaymentReceived
from kumiai.contracts.onboarding import FundOpened
from kumiai.errors import PROBLEM_BASE
from kumiai.references import is_valid_reference
from kumiai.settings import ServiceSettings
from kumiai.testing import bearer, eventually, running, sample_fund_opened
from kumiai.topics import events_topic


@dataclass
class Market:
    client: httpx.AsyncClient
    settings: ServiceSettings

    async def open_fund(self, **overrides: Any) -> FundOpened:
        fund = sample_fund_opened(**overrides)
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("onboarding", self.settings.topic_namespace),
            "onboarding",
            str(fund.fund_id),
            [fund],
        )
        await eventually(lambda: offering(self.client, str(fund.fund_id)), what="the offering")
        return fund

    async def subscribe(
        self, fund: FundOpened, investor: str, units: int, key: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/offerings/{fund.fund_id}/subscriptions",
            json={"units": units, "terms_digest": fund.terms_digest},
            headers={
                **bearer(Role.INVESTOR, investor),
                "Idempotency-Key": key or str(uuid.uuid4()),
            },
        )

    async def pay(self, fund: FundOpened, subscription: dict[str, Any], seq: int) -> None:
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("ledger", self.settings.topic_namespace),
            "ledger",
            str(fund.fund_id),
            [
                PaymentReceived(
                    deposit_id=uuid.uuid4(),
                    subscription_id=uuid.UUID(subscription["id"]),
                    fund_id=fund.fund_id,
                    investor_id=uuid.UUID(subscription["investor_id"]),
                    amount=subscription["amount_due"],
                    value_date=datetime.now(UTC).date(),
                    bank_id="hokkaido-bank",
                    received_at=datetime.now(UTC),
                )
            ],
            first=seq,
        )

    async def events(self, fund: FundOpened) -> list[tuple[str, dict[str, Any]]]:
        rows = await fetch(
            self.settings.database_url,
            "SELECT envelope->>'type' AS type, envelope->'data' AS data FROM outbox_events "
            "WHERE subject = $1 ORDER BY seq",
            str(fund.fund_id),
        )
        return [(r["type"], json.loads(r["data"])) for r in rows]


@pytest.fixture
async def market(settings_for: SettingsFactory) -> AsyncIterator[Market]:
    settings = settings_for(
        "subscription",
        payment_period=timedelta(days=7),
        cooling_off_period=timedelta(days=8),
        issuer_yearly_limit=500_000,
    )
    async with running(service("subscription").create_app(settings)) as client:
        yield Market(client, settings)


def _me(investor: str) -> dict[str, str]:
    return bearer(Role.INVESTOR, investor)


async def test_a_subscription_answers_amount_reference_and_deadline(market: Market) -> None:
    fund = await market.open_fund(max_units_per_investor=10)
    investor = await ready_investor(market.client)
    key = str(uuid.uuid4())
    first = await market.subscribe(fund, investor, 3, key)
    replay = await market.subscribe(fund, investor, 3, key)
    keyless = await market.client.post(
        f"/offerings/{fund.fund_id}/subscriptions",
        json={"units": 1, "terms_digest": fund.terms_digest},
        headers=_me(investor),
    )
    progress = await offering(market.client, str(fund.fund_id))
    events = await market.events(fund)
    body = first.json()
    assert first.status_code == 201, first.text
    assert body["amount_due"] == 3 * (10_000 + 500)
    assert is_valid_reference(body["payment_reference"])
    placed = datetime.fromisoformat(body["placed_at"])
    assert datetime.fromisoformat(body["payment_deadline"]) - placed == timedelta(days=7)
    assert datetime.fromisoformat(body["cooling_off_until"]) - placed == timedelta(days=8)
    assert replay.json() == body
    assert keyless.status_code == 422
    assert progress is not None
    assert (progress["units_sold"], progress["investors"]) == (3, 1)
    assert [t for t, _ in events] == ["SubscriptionPlaced"]
    assert events[0][1]["payment_reference"] == body["payment_reference"]


async def test_only_eligible_investors_within_their_limits(market: Market) -> None:
    fund = await market.open_fund(
        max_units_per_investor=5, unit_price=40_000, units_offered=100, formation_threshold_units=10
    )
    ready = await ready_investor(market.client)
    newcomer = str(uuid.uuid4())
    await call(
        market.client,
        "POST",
        "/investors",
        201,
        json={"personal": personal_details()},
        headers=_me(newcomer),
    )
    unverified = await market.subscribe(fund, newcomer, 1)
    await call(
        market.client,
        "POST",
        f"/investors/{newcomer}/verification",
        json={"status": "verified", "note": "checked by the bank"},
        headers=bearer(Role.BANK, "hokkaido-bank"),
    )
    no_notice = await market.subscribe(fund, newcomer, 1)
    stale_terms = await market.client.post(
        f"/offerings/{fund.fund_id}/subscriptions",
        json={"units": 1, "terms_digest": "a" * 64},
        headers={**_me(ready), "Idempotency-Key": "k"},
    )
    four = await market.subscribe(fund, ready, 4)
    two_more = await market.subscribe(fund, ready, 2)
    one_more = await market.subscribe(fund, ready, 1)
    # 12 units of 40,000 would pass 500,000 with another fund of the same issuer.
    sibling = await market.open_fund(
        msme_id=fund.msme_id, unit_price=40_000, units_offered=100, formation_threshold_units=10
    )
    over_issuer = await market.subscribe(sibling, ready, 8)
    within_issuer = await market.subscribe(sibling, ready, 7)
    assert unverified.status_code == 409
    assert "verification is unverified" in unverified.json()["detail"]
    assert no_notice.status_code == 409
    assert no_notice.json()["current"] == "2026-11"
    assert stale_terms.status_code == 409
    assert stale_terms.json()["terms_digest"] == fund.terms_digest
    assert four.status_code == 201
    assert two_more.status_code == 422
    assert two_more.json()["type"] == PROBLEM_BASE + "over-limit"
    assert one_more.status_code == 201
    assert over_issuer.status_code == 422
    assert "500000 per issuer" in over_issuer.json()["detail"]
    assert within_issuer.status_code == 201, within_issuer.text


async def test_no_unit_is_sold_twice_under_concurrency(market: Market) -> None:
    fund = await market.open_fund(units_offered=40, formation_threshold_units=10)
    investors = [await ready_investor(market.client) for _ in range(60)]
    wanted = {i: random.randint(1, 3) for i in investors}
    answers = await asyncio.gather(*(market.subscribe(fund, i, wanted[i]) for i in investors))
    sold = sum(wanted[i] for i, a in zip(investors, answers, strict=True) if a.status_code == 201)
    refused = [a for a in answers if a.status_code != 201]
    progress = await offering(market.client, str(fund.fund_id))
    rows = await fetch(
        market.settings.database_url,
        "SELECT coalesce(sum(units), 0) AS units FROM subscriptions WHERE fund_id = $1",
        fund.fund_id,
    )
    assert progress is not None
    assert progress["units_sold"] == sold == rows[0]["units"]
    assert sold <= 40
    assert sold >= 38, "units are left only when every remaining order wanted more"
    assert all(a.json()["type"] == PROBLEM_BASE + "sold-out" for a in refused)
    assert progress["investors"] == len(answers) - len(refused)


async def test_cooling_off_cancellation_frees_units_and_reopens(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription", cooling_off_period=timedelta(seconds=5))
    async with running(service("subscription").create_app(settings)) as client:
        market = Market(client, settings)
        fund = await market.open_fund(units_offered=3, max_units_per_investor=3)
        first, second, late = [await ready_investor(client) for _ in range(3)]
        taken = (await market.subscribe(fund, first, 3)).json()
        sold_out = await market.subscribe(fund, second, 1)
        paused = await offering(client, str(fund.fund_id))
        other = await client.post(f"/subscriptions/{taken['id']}/cancel", headers=_me(second))
        cancelled = await call(
            client, "POST", f"/subscriptions/{taken['id']}/cancel", headers=_me(first)
        )
        again = await client.post(f"/subscriptions/{taken['id']}/cancel", headers=_me(first))
        reopened = await offering(client, str(fund.fund_id))
        kept = (await market.subscribe(fund, late, 2)).json()

        until = datetime.fromisoformat(kept["cooling_off_until"])

        async def cooling_off_over() -> bool:
            return datetime.now(UTC) > until

        await eventually(cooling_off_over, timeout_s=20, what="the cooling-off period over")
        too_late = await client.post(f"/subscriptions/{kept['id']}/cancel", headers=_me(late))
        mine = await call(client, "GET", f"/investors/{first}/cancellations", headers=_me(first))
        events = await market.events(fund)
    assert sold_out.status_code == 409
    assert paused is not None
    assert paused["phase"] == "sold_out"
    assert other.status_code == 404
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "cooling_off"
    assert again.status_code == 409
    assert reopened is not None
    assert (reopened["units_sold"], reopened["phase"], reopened["investors"]) == (0, "open", 0)
    assert "cooling-off period ended" in too_late.json()["detail"]
    assert [s["id"] for s in mine["items"]] == [taken["id"]]
    assert [t for t, _ in events] == [
        "SubscriptionPlaced",
        "SubscriptionCancelled",
        "SubscriptionPlaced",
    ]


async def test_unpaid_subscriptions_expire_and_paid_ones_are_confirmed(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription", payment_period=timedelta(seconds=8))
    async with running(service("subscription").create_app(settings)) as client:
        market = Market(client, settings)
        fund = await market.open_fund()
        payer, forgetful = await ready_investor(client), await ready_investor(client)
        paid = (await market.subscribe(fund, payer, 2)).json()
        unpaid = (await market.subscribe(fund, forgetful, 5)).json()
        await market.pay(fund, paid, seq=1)

        async def settled() -> list[str] | None:
            states = [
                (await call(client, "GET", f"/subscriptions/{s['id']}", headers=STAFF))["status"]
                for s in (paid, unpaid)
            ]
            return states if states == ["confirmed", "cancelled"] else None

        await eventually(settled, timeout_s=60, what="payment confirmed and the rest expired")
        progress = await offering(client, str(fund.fund_id))
        due = await call(
            client, "GET", f"/investors/{forgetful}/payments-due", headers=_me(forgetful)
        )
        expired = await call(
            client, "GET", f"/subscriptions/{unpaid['id']}", headers=_me(forgetful)
        )
        events = await market.events(fund)
    assert progress is not None
    assert (progress["units_sold"], progress["units_confirmed"]) == (2, 2)
    assert due["items"] == []
    assert expired["cancel_reason"] == "unpaid"
    kinds = [t for t, _ in events]
    assert kinds.count("SubscriptionConfirmed") == 1
    assert ("SubscriptionCancelled", "unpaid") in [(t, d.get("reason")) for t, d in events]


async def test_the_offering_closes_and_the_register_freezes(settings_for: SettingsFactory) -> None:
    settings = settings_for(
        "subscription",
        payment_period=timedelta(seconds=30),
        cooling_off_period=timedelta(seconds=1),
    )
    async with running(service("subscription").create_app(settings)) as client:
        market = Market(client, settings)
        a, b = await ready_investor(client), await ready_investor(client)
        start = datetime.now(UTC) - timedelta(minutes=1)
        ends = datetime.now(UTC) + timedelta(seconds=10)
        formed = await market.open_fund(
            offering_start=start, offering_end=ends, formation_threshold_units=3
        )
        failed = await market.open_fund(
            offering_start=start, offering_end=ends, formation_threshold_units=30
        )
        answers = [
            await market.subscribe(formed, a, 2),
            await market.subscribe(formed, b, 1),
            await market.subscribe(formed, a, 1),
            await market.subscribe(failed, b, 4),
        ]
        assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
        subs = [r.json() for r in answers]
        for seq, sub in enumerate(subs[:3], start=1):
            await market.pay(formed, sub, seq)
        await market.pay(failed, subs[3], 1)

        async def closed() -> list[str] | None:
            states = [
                (await offering(client, str(f.fund_id)) or {}).get("status", "")
                for f in (formed, failed)
            ]
            return states if all(s.startswith("closed") for s in states) else None

        outcome = await eventually(closed, timeout_s=90, what="both offerings closed")
        holdings = await call(client, "GET", f"/investors/{a}/holdings", headers=_me(a))
        cancel_after = await client.post(f"/subscriptions/{subs[0]['id']}/cancel", headers=STAFF)
        other_page = await client.get(f"/investors/{a}/holdings", headers=_me(b))
        events = await market.events(formed) + await market.events(failed)
    register = await fetch(
        settings.database_url,
        "SELECT investor_id, units, amount_paid FROM holdings ORDER BY units DESC",
    )
    closings = [d for t, d in events if t == "FundClosed"]
    assert outcome == ["closed_succeeded", "closed_failed"]
    assert [(str(r["investor_id"]), r["units"], r["amount_paid"]) for r in register] == [
        (a, 3, 31_500),
        (b, 1, 10_500),
    ]
    assert [(h["units"], h["frozen"]) for h in holdings] == [(3, True)]
    assert cancel_after.status_code == 409
    assert other_page.status_code == 404
    assert [(c["outcome"], c["units_confirmed"], c["investor_count"]) for c in closings] == [
        ("succeeded", 4, 2),
        ("failed", 4, 1),
    ]
    assert closings[0]["amount_raised"] == 40_000
    assert closings[0]["handling_fees_collected"] == 2_000
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await fetch(settings.database_url, "UPDATE holdings SET units = units + 1")


async def test_personal_data_is_encrypted_and_shown_only_to_its_owner(
    market: Market,
) -> None:
    investor = await ready_investor(market.client)
    own = await call(market.client, "GET", f"/investors/{investor}", headers=_me(investor))
    staff = await call(market.client, "GET", f"/investors/{investor}", headers=STAFF)
    bank = await call(
        market.client, "GET", f"/investors/{investor}", headers=bearer(Role.BANK, "b")
    )
    stranger = await market.client.get(f"/investors/{investor}", headers=_me(str(uuid.uuid4())))
    [row] = await fetch(
        market.settings.database_url,
        "SELECT personal FROM investors WHERE id = $1",
        uuid.UUID(investor),
    )
    assert own["personal"]["full_name"] == "Ichiro Suzuki"
    assert staff["personal"]["payout_account"]["account_number"] == "1234567"
    assert bank["personal"] is None
    assert bank["verification"] == "verified"
    assert stranger.status_code == 404
    assert b"Ichiro" not in row["personal"]
    assert b"1234567" not in row["personal"]


async def test_staff_withdraw_an_offering_and_every_subscription_goes(market: Market) -> None:
    fund = await market.open_fund()
    a, b = await ready_investor(market.client), await ready_investor(market.client)
    paid = (await market.subscribe(fund, a, 2)).json()
    unpaid = (await market.subscribe(fund, b, 1)).json()
    await market.pay(fund, paid, seq=1)

    async def confirmed() -> bool:
        sub = await call(market.client, "GET", f"/subscriptions/{paid['id']}", headers=STAFF)
        return bool(sub["status"] == "confirmed")

    await eventually(confirmed, what="the payment confirmed")
    body = {"reason": "the business withdrew the project"}
    refused = await market.client.post(
        f"/offerings/{fund.fund_id}/cancel", json=body, headers=_me(a)
    )
    withdrawn = await call(
        market.client, "POST", f"/offerings/{fund.fund_id}/cancel", json=body, headers=STAFF
    )
    twice = await market.client.post(f"/offerings/{fund.fund_id}/cancel", json=body, headers=STAFF)
    late = await market.subscribe(fund, b, 1)
    states = [
        (await call(market.client, "GET", f"/subscriptions/{s['id']}", headers=STAFF))
        for s in (paid, unpaid)
    ]
    events = await market.events(fund)
    assert refused.status_code == 403
    assert (withdrawn["status"], withdrawn["units_sold"], withdrawn["investors"]) == (
        "cancelled",
        0,
        0,
    )
    assert twice.status_code == 409
    assert late.status_code == 409
    assert [(s["status"], s["cancel_reason"]) for s in states] == [
        ("cancelled", "offering_cancelled"),
        ("cancelled", "offering_cancelled"),
    ]
    assert [t for t, _ in events][-3:] == [
        "SubscriptionCancelled",
        "SubscriptionCancelled",
        "FundClosed",
    ]
    assert events[-1][1]["outcome"] == "failed"
