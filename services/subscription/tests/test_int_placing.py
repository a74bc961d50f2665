"""Placing an order over HTTP with the real database: an order refused before its
Idempotency-Key is looked up writes nothing, and a placed order's key replays its answer
whenever it is retried, sold out or not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from subscription_flows import Market

from helpers import SettingsFactory, call, fetch, offering, ready_investor
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, running


@pytest.fixture
async def market(settings_for: SettingsFactory) -> AsyncIterator[Market]:
    settings = settings_for(
        "subscription",
        cooling_off_test_period=timedelta(minutes=10),
        issuer_yearly_limit=50_000,
    )
    async with running(service("subscription").create_app(settings)) as client:
        yield Market(client, settings)


async def _rows(market: Market, query: str, *args: object) -> int:
    rows = await fetch(market.settings.database_url, query, *args)
    return int(rows[0]["n"])


async def test_a_placed_order_replays_its_answer_after_the_sell_out(market: Market) -> None:
    fund = await market.open_fund(units_offered=4, max_units_per_investor=3)
    first, second, late, third = [await ready_investor(market.client) for _ in range(4)]
    key = str(uuid.uuid4())
    placed = await market.subscribe(fund, first, 3, key)
    await market.subscribe(fund, second, 1)
    sold_out_retry = await market.subscribe(fund, first, 3, key)
    refused = await market.subscribe(fund, late, 1)
    await call(
        market.client,
        "POST",
        f"/subscriptions/{placed.json()['id']}/cancel",
        headers=bearer(Role.INVESTOR, first),
    )
    await market.subscribe(fund, third, 3)
    cancelled_retry = await market.subscribe(fund, first, 3, key)
    progress = await offering(market.client, str(fund.fund_id))
    assert placed.status_code == 201, placed.text
    # Sold out, and later with the order cancelled (its position at 0 units): the key
    # still answers what it answered first, and places nothing more.
    for retry in (sold_out_retry, cancelled_retry):
        assert retry.status_code == 201, retry.text
        assert retry.json() == placed.json()
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEM_BASE + "sold-out"
    assert progress is not None
    assert progress["units_sold"] == 4
    assert (
        await _rows(
            market,
            "SELECT count(*) AS n FROM subscriptions WHERE investor_id = $1",
            uuid.UUID(first),
        )
        == 1
    )


async def test_an_order_refused_on_its_facts_writes_nothing(market: Market) -> None:
    fund = await market.open_fund(units_offered=2, max_units_per_investor=2)
    buyer, late = [await ready_investor(market.client) for _ in range(2)]
    unregistered = str(uuid.uuid4())
    await market.subscribe(fund, buyer, 2)
    sold_out = await market.subscribe(fund, late, 1)
    not_registered = await market.subscribe(fund, unregistered, 1)
    missing = await market.client.post(
        f"/offerings/{uuid.uuid4()}/subscriptions",
        json={"units": 1, "terms_digest": fund.terms_digest},
        headers={**bearer(Role.INVESTOR, late), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert sold_out.status_code == 409
    assert not_registered.status_code == 409
    assert "register" in not_registered.json()["detail"]
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM_BASE + "offering-not-found"
    assert await _rows(market, "SELECT count(*) AS n FROM idempotency_keys") == 1
    assert await _rows(market, "SELECT count(*) AS n FROM positions") == 1
    assert await _rows(market, "SELECT count(*) AS n FROM subscriptions") == 1


async def test_an_order_over_the_issuer_limit_leaves_nothing_behind(market: Market) -> None:
    # 5 units of 10,000 reach the limit of 50,000 for the issuer; a sibling fund of the
    # same issuer refuses a 6th, and its subscription row, position and units roll back.
    fund = await market.open_fund(max_units_per_investor=5)
    sibling = await market.open_fund(msme_id=fund.msme_id, max_units_per_investor=5)
    investor = await ready_investor(market.client)
    five = await market.subscribe(fund, investor, 5)
    sixth = await market.subscribe(sibling, investor, 1)
    progress = await offering(market.client, str(sibling.fund_id))
    assert five.status_code == 201, five.text
    assert sixth.status_code == 422
    assert sixth.json()["type"] == PROBLEM_BASE + "over-limit"
    assert sixth.json()["committed"] == 50_000
    assert progress is not None
    assert progress["units_sold"] == 0
    assert (
        await _rows(
            market, "SELECT count(*) AS n FROM subscriptions WHERE fund_id = $1", sibling.fund_id
        )
        == 0
    )
    assert (
        await _rows(
            market, "SELECT count(*) AS n FROM positions WHERE fund_id = $1", sibling.fund_id
        )
        == 0
    )
