"""A deposit that reaches the ledger before the payment it pays is matched once that is known.

Seen in the field: a deposit 0-0.25 s after subscribing, and a dozen deposits while
the subscription service's relay replayed after a restart, all stayed in suspense
and their subscriptions expired although paid.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch, publish_events
from kumiai.references import normalise_reference
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import eventually, running, sample_fund_opened
from ledger_flows import Flows, deposit_body


@dataclass
class Ledger:
    client: httpx.AsyncClient
    url: str
    flows: Flows

    async def deposit(self, transaction: str, amount: int, reference: str) -> dict[str, Any]:
        response = await self.client.post(
            "/deposits", json=deposit_body(transaction, amount, reference), headers=BANK
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def status(self, deposit: dict[str, Any]) -> str:
        body = (await self.client.get(f"/deposits/{deposit['id']}", headers=STAFF)).json()
        return str(body["status"])

    async def posted(self, code: str) -> int:
        response = await self.client.get(f"/accounts/{code}/balance", headers=STAFF)
        return int(response.json()["posted"]) if response.status_code == 200 else 0


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    settings = settings_for("ledger", run_workers=False, database_pool_size=16)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        yield Ledger(client, settings.database_url, Flows(app))


async def _events(url: str, kind: str) -> list[dict[str, Any]]:
    rows = await fetch(url, "SELECT envelope FROM outbox_events WHERE type = $1 ORDER BY seq", kind)
    return [json.loads(r["envelope"])["data"] for r in rows]


async def test_a_deposit_before_its_subscription_is_matched_when_the_subscription_arrives(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger")
    ns, bootstrap = settings.topic_namespace, settings.kafka_bootstrap_servers
    app = service("ledger").create_app(settings)
    fund = sample_fund_opened()
    flows = Flows(app)
    placed = flows.subscription(fund, units=2)
    typed = "-".join(placed.payment_reference[i : i + 4] for i in range(0, 13, 4)).lower()
    async with running(app) as client:
        await publish_events(
            bootstrap, events_topic("onboarding", ns), "onboarding", str(fund.fund_id), [fund]
        )
        await eventually(
            lambda: fetch(settings.database_url, "SELECT 1 FROM funds"), what="the fund opened"
        )
        early = await client.post(
            "/deposits", json=deposit_body("EARLY-1", placed.amount_due, typed), headers=BANK
        )
        assert early.json()["status"] == "suspense"
        assert early.json()["reason"] == "unknown payment reference"
        await publish_events(
            bootstrap, events_topic("subscription", ns), "subscription", str(fund.fund_id), [placed]
        )

        async def matched() -> dict[str, Any] | None:
            body: dict[str, Any] = (
                await client.get(f"/deposits/{early.json()['id']}", headers=STAFF)
            ).json()
            return body if body["status"] == "matched" else None

        deposit = await eventually(matched, what="the early deposit matched")
        escrow = (
            await client.get(f"/accounts/fund/{fund.fund_id}/escrow/balance", headers=STAFF)
        ).json()
        held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        suspense = (await client.get("/suspense", headers=STAFF)).json()["items"]
    assert deposit["subscription_id"] == str(placed.subscription_id)
    assert deposit["payment_reference"] == typed, "kept as the payer wrote it"
    assert (escrow["posted"], held["posted"]) == (placed.amount_due, 0)
    assert suspense == []
    stored = await fetch(settings.database_url, "SELECT reference_normalised FROM deposits")
    assert [r["reference_normalised"] for r in stored] == [normalise_reference(typed)]
    received = await _events(settings.database_url, "PaymentReceived")
    assert [(e["subscription_id"], e["amount"], e["deposit_id"]) for e in received] == [
        (str(placed.subscription_id), placed.amount_due, early.json()["id"])
    ]


async def test_the_earliest_waiting_deposit_pays_and_the_others_stay_in_suspense(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund()
    placed = ledger.flows.subscription(fund, units=1)
    reference = placed.payment_reference
    first = await ledger.deposit("W-1", placed.amount_due, reference.lower())
    second = await ledger.deposit("W-2", placed.amount_due, reference)
    short = await ledger.deposit("W-3", placed.amount_due - 500, reference)
    stranger = await ledger.deposit("W-4", placed.amount_due, "KM0000000000")
    await ledger.flows.place(placed)
    statuses = [await ledger.status(d) for d in (first, second, short, stranger)]
    assert statuses == ["matched", "suspense", "suspense", "suspense"]
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == placed.amount_due
    assert await ledger.posted("suspense") == 3 * placed.amount_due - 500
    assert len(await _events(ledger.url, "PaymentReceived")) == 1


async def test_a_deposit_before_its_fund_opened_is_matched_when_the_fund_opens(
    ledger: Ledger,
) -> None:
    fund = sample_fund_opened()
    placed = await ledger.flows.place(ledger.flows.subscription(fund, units=3))
    early = await ledger.deposit("F-1", placed.amount_due, placed.payment_reference)
    assert early["status"] == "suspense"
    assert early["reason"] == "the fund is not open for payments"
    await ledger.flows.deliver("onboarding", str(fund.fund_id), fund)
    assert await ledger.status(early) == "matched"
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == placed.amount_due
    assert await ledger.posted("suspense") == 0


@pytest.mark.parametrize("round_", range(4))
async def test_deposits_racing_their_subscriptions_are_never_left_behind(
    ledger: Ledger, round_: int
) -> None:
    """Twelve deposits sent while their SubscriptionPlaced events are being handled."""
    fund = await ledger.flows.open_fund()
    subs = [ledger.flows.subscription(fund, units=1 + n % 3) for n in range(12)]

    async def place_all() -> None:
        for placed in subs:
            await ledger.flows.place(placed)

    async def pay(n: int) -> dict[str, Any]:
        return await ledger.deposit(
            f"RACE-{round_}-{n}", subs[n].amount_due, subs[n].payment_reference
        )

    _, *deposits = await asyncio.gather(place_all(), *(pay(n) for n in range(len(subs))))
    statuses = [await ledger.status(d) for d in deposits]
    assert statuses == ["matched"] * len(subs)
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == sum(s.amount_due for s in subs)
    assert await ledger.posted("suspense") == 0
    paid = await fetch(
        ledger.url,
        "SELECT count(*) AS n FROM expected_payments WHERE fund_id = $1 AND status = 'paid'",
        fund.fund_id,
    )
    assert paid[0]["n"] == len(subs)
    received = await _events(ledger.url, "PaymentReceived")
    assert sorted(e["subscription_id"] for e in received) == sorted(
        str(s.subscription_id) for s in subs
    )
    assert len({uuid.UUID(e["deposit_id"]) for e in received}) == len(subs)


async def test_the_same_report_sent_twice_at_once_is_booked_once(ledger: Ledger) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.flows.subscribe(fund, units=1)
    body = deposit_body("TWICE-1", placed.amount_due, placed.payment_reference)
    first, second = await asyncio.gather(
        *(ledger.client.post("/deposits", json=body, headers=BANK) for _ in range(2))
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "matched"
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == placed.amount_due


async def test_a_batch_of_placed_subscriptions_is_awaited_and_matched_in_one_transaction(
    ledger: Ledger,
) -> None:
    """The consumer hands a fetch's ``SubscriptionPlaced`` events to the ledger at once."""
    fund = await ledger.flows.open_fund()
    placed = [ledger.flows.subscription(fund, units=1 + i % 2) for i in range(5)]
    early = {
        i: await ledger.deposit(f"B-{i}", placed[i].amount_due, placed[i].payment_reference)
        for i in (1, 3)
    }
    outcomes = await ledger.flows.deliver_many("subscription", str(fund.fund_id), placed)
    again = await ledger.flows.runtime.consumer.handle_many([])  # nothing to do is fine
    assert (outcomes, again) == (["handled"] * 5, [])
    assert [await ledger.status(d) for d in early.values()] == ["matched", "matched"]
    awaited = await fetch(
        ledger.url, "SELECT subscription_id, status FROM expected_payments ORDER BY amount"
    )
    paid = {str(placed[i].subscription_id) for i in early}
    assert sorted((str(r["subscription_id"]), r["status"]) for r in awaited) == sorted(
        (str(p.subscription_id), "paid" if str(p.subscription_id) in paid else "expected")
        for p in placed
    )
    escrow = sum(placed[i].amount_due for i in early)
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == escrow
    assert await ledger.posted("suspense") == 0
    received = await _events(ledger.url, "PaymentReceived")
    assert sorted(e["subscription_id"] for e in received) == sorted(paid)
