"""First orders placed in groups (``subscriptions.placing``) with the real database: the
orders that queue while the offering's row is held are placed together, and each gets
what it would have got alone: units while they last, in arrival order, its refusal, and
its Idempotency-Key's one answer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import asyncpg
import httpx
import pytest
from subscription_flows import Market

from helpers import SettingsFactory, fetch, offering, ready_investor
from kumiai.contracts.onboarding import FundOpened
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import eventually, running
from subscription.subscriptions.placing import OrderWriter


@pytest.fixture
async def market(settings_for: SettingsFactory) -> AsyncIterator[Market]:
    settings = settings_for(
        "subscription",
        cooling_off_test_period=timedelta(minutes=10),
        issuer_yearly_limit=50_000,
    )
    app = service("subscription").create_app(settings)
    async with running(app) as client:
        yield Market(client, settings, app)


@asynccontextmanager
async def offering_row_held(market: Market, fund: FundOpened) -> AsyncIterator[None]:
    """Hold the offering's row as an order does, so that the orders sent meanwhile queue."""
    url = market.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM offerings WHERE fund_id = $1 FOR NO KEY UPDATE", fund.fund_id
            )
            yield
    finally:
        await holder.close()


async def all_queued(
    market: Market, orders: list[Callable[[], Coroutine[Any, Any, httpx.Response]]]
) -> list[asyncio.Task[httpx.Response]]:
    """Send ``orders`` while the row is held and wait until the process holds them all;
    their tasks, in order, answered once the row is let go."""
    tasks = [asyncio.create_task(order()) for order in orders]
    await eventually(
        lambda: _in_process(market, len(orders)), what="every order in the process", timeout_s=20
    )
    return tasks


def writer_of(market: Market) -> OrderWriter:
    assert market.app is not None
    writer: OrderWriter = market.app.state.order_writer
    return writer


async def _in_process(market: Market, n: int) -> bool:
    return market.orders_in_process()[0] == n


async def _count(market: Market, query: str, *args: object) -> int:
    return int((await fetch(market.settings.database_url, query, *args))[0]["n"])


async def test_queued_first_orders_are_placed_together_and_never_oversell(market: Market) -> None:
    # Two groups of one order each take 4 units at most while the rest queue: the group
    # of the rest places two orders at least, and the fund sells out.
    fund = await market.open_fund(units_offered=9, max_units_per_investor=3)
    wants = [1, 2, 1, 2, 1, 2, 1, 2]
    investors = [await ready_investor(market.client) for _ in wants]
    async with offering_row_held(market, fund):
        tasks = await all_queued(
            market,
            [partial(market.subscribe, fund, i, u) for i, u in zip(investors, wants, strict=True)],
        )
    answers = await asyncio.gather(*tasks)
    placed = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    sold = sum(a.json()["units"] for a in placed)
    progress = await offering(market.client, str(fund.fund_id))
    events = await fetch(
        market.settings.database_url,
        "SELECT subject_seq, envelope FROM outbox_events WHERE subject = $1 "
        "AND type = 'SubscriptionPlaced' ORDER BY subject_seq",
        str(fund.fund_id),
    )
    assert progress is not None
    assert (progress["units_sold"], progress["investors"]) == (sold, len(placed))
    assert sold <= 9
    assert refused
    # Every refusal is a sold-out one, for more units than were left.
    assert all(a.status_code == 409 for a in refused), [a.text for a in refused]
    assert all(a.json()["type"] == PROBLEM_BASE + "sold-out" for a in refused)
    left = 9 - sold
    assert all(u > left for a, u in zip(answers, wants, strict=True) if a.status_code == 409), [
        (a.status_code, u, a.text) for a, u in zip(answers, wants, strict=True)
    ]
    # Fewer transactions than orders; one event each, numbered without gaps.
    assert await _count(
        market,
        "SELECT count(DISTINCT xmin::text) AS n FROM subscriptions WHERE fund_id = $1",
        fund.fund_id,
    ) < len(placed)
    envelopes = [json.loads(e["envelope"]) for e in events]
    assert sorted(e["data"]["subscription_id"] for e in envelopes) == sorted(
        a.json()["id"] for a in placed
    )
    seqs = [e["subject_seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(placed)))
    assert [e["sequence"] for e in envelopes] == seqs
    assert await _count(market, "SELECT count(*) AS n FROM idempotency_keys") == len(placed)
    assert (
        await _count(
            market,
            "SELECT coalesce(sum(units), 0) AS n FROM positions WHERE fund_id = $1",
            fund.fund_id,
        )
        == sold
    )


async def test_a_retry_sent_while_its_first_attempt_waits_replays_it(market: Market) -> None:
    fund = await market.open_fund(units_offered=10, max_units_per_investor=3)
    investor = await ready_investor(market.client)
    key = str(uuid.uuid4())
    async with offering_row_held(market, fund):
        tasks = await all_queued(
            market, [lambda: market.subscribe(fund, investor, 2, key) for _ in range(2)]
        )
    first, retry = sorted(
        await asyncio.gather(*tasks),
        key=lambda a: a.headers.get("Idempotent-Replayed", ""),
    )
    progress = await offering(market.client, str(fund.fund_id))
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert progress is not None
    assert progress["units_sold"] == 2
    assert await _count(market, "SELECT count(*) AS n FROM subscriptions") == 1


async def test_orders_to_one_issuer_placed_at_once_stay_within_its_yearly_limit(
    market: Market,
) -> None:
    # The limit is 50,000 a year per issuer: 5 units of 10,000. One investor orders 3
    # units in each of two funds of one issuer at once, another 2 in the first fund
    # after 3 in a sibling fund of the same issuer.
    fund = await market.open_fund(max_units_per_investor=5)
    sibling = await market.open_fund(msme_id=fund.msme_id, max_units_per_investor=5)
    both, other = [await ready_investor(market.client) for _ in range(2)]
    earlier = await market.subscribe(sibling, other, 3)
    async with offering_row_held(market, fund), offering_row_held(market, sibling):
        tasks = await all_queued(
            market,
            [
                lambda: market.subscribe(fund, both, 3),
                lambda: market.subscribe(sibling, both, 3),
                lambda: market.subscribe(fund, other, 2),
            ],
        )
    to_fund, to_sibling, others = await asyncio.gather(*tasks)
    assert earlier.status_code == 201
    assert others.status_code == 201, others.text
    assert sorted([to_fund.status_code, to_sibling.status_code]) == [201, 422]
    over = to_fund if to_fund.status_code == 422 else to_sibling
    assert over.json()["type"] == PROBLEM_BASE + "over-limit"
    assert over.json()["committed"] == 30_000
    assert (
        await _count(
            market,
            "SELECT coalesce(sum(units::bigint * unit_price), 0) AS n FROM subscriptions "
            "WHERE investor_id = $1",
            uuid.UUID(both),
        )
        == 30_000
    )


async def test_groups_that_find_too_few_units_at_once_share_them_out_without_a_deadlock(
    market: Market,
) -> None:
    # Each order read 5 units left; while they wait, the row's holder sells 4. Two groups
    # then find too few units at once, one locking the row to share out while the other
    # waits to take its units, each group's new rows holding the row's KEY SHARE.
    fund = await market.open_fund(units_offered=5, max_units_per_investor=3)
    investors = [await ready_investor(market.client) for _ in range(3)]
    # Two groups in flight at once, as two processes' writers (one group each) would have.
    assert market.app is not None
    market.app.state.order_writer = OrderWriter(market.app.state.runtime.unit_of_work, writers=2)
    url = market.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            await holder.execute(
                "UPDATE offerings SET units_sold = 4 WHERE fund_id = $1", fund.fund_id
            )
            # One group of one order each, then a third order queued behind them.
            tasks = []
            for investor, units in zip(investors, [2, 2, 1], strict=True):
                tasks.append(asyncio.create_task(market.subscribe(fund, investor, units)))
                await eventually(partial(_in_process, market, len(tasks)), what="the order")
            assert writer_of(market).writing == [1, 1]
    finally:
        await holder.close()
    answers = await asyncio.gather(*tasks)
    progress = await offering(market.client, str(fund.fund_id))
    assert [a.status_code for a in answers] == [409, 409, 201], [a.text for a in answers]
    assert all(a.json()["type"] == PROBLEM_BASE + "sold-out" for a in answers[:2])
    assert progress is not None
    assert progress["units_sold"] == 5
    # No group failed (a deadlock would have been broken by failing one of them).
    assert writer_of(market).groups_failed == 0
