"""Subscribing over HTTP with the real database and broker: limits, no overselling,
cancellation, expiry, payment, closing, refunds and "My page"."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from subscription_flows import Market

from helpers import (
    BANK,
    OTHER_BANK,
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
from kumiai.contracts.disclosure import SalesReported
from kumiai.contracts.onboarding import FundOpened, RevenueShare
from kumiai.errors import PROBLEM_BASE
from kumiai.periods import JAPAN, end_of_nth_day, one_year_before
from kumiai.references import is_valid_reference
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running


@pytest.fixture
async def market(settings_for: SettingsFactory) -> AsyncIterator[Market]:
    settings = settings_for(
        "subscription",
        payment_period=timedelta(days=7),
        cooling_off_days=8,
        issuer_yearly_limit=500_000,
    )
    app = service("subscription").create_app(settings)
    async with running(app) as client:
        yield Market(client, settings, app)


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
    # The end of the 8th day in Japan, the day of the contract counting as the first.
    assert datetime.fromisoformat(body["cooling_off_until"]) == end_of_nth_day(placed, 8)
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
        json={"personal": personal_details(), "verifying_bank_id": "hokkaido-bank"},
        headers=_me(newcomer),
    )
    unverified = await market.subscribe(fund, newcomer, 1)
    await call(
        market.client,
        "POST",
        f"/investors/{newcomer}/verification",
        json={"status": "verified", "note": "checked by the bank"},
        headers=BANK,
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
    settings = settings_for("subscription", cooling_off_test_period=timedelta(seconds=5))
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
        cooling_off_test_period=timedelta(seconds=1),
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
        b_holdings = await call(client, "GET", f"/investors/{b}/holdings", headers=_me(b))
        refunded = await call(client, "GET", f"/subscriptions/{subs[3]['id']}", headers=_me(b))
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
    assert [(h["fund_id"], h["units"]) for h in b_holdings] == [(str(formed.fund_id), 1)]
    assert (refunded["status"], refunded["refund_reason"]) == ("refunded", "fund_failed")
    assert refunded["refunded_at"] is not None
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
    investor = await ready_investor(market.client, verifying_bank="hokkaido-bank")
    own = await call(market.client, "GET", f"/investors/{investor}", headers=_me(investor))
    staff = await call(market.client, "GET", f"/investors/{investor}", headers=STAFF)
    bank = await call(market.client, "GET", f"/investors/{investor}", headers=BANK)
    other_bank = await market.client.get(f"/investors/{investor}", headers=OTHER_BANK)
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
    assert bank["verifying_bank_id"] == "hokkaido-bank"
    assert other_bank.status_code == 404
    assert investor not in other_bank.json()["detail"]
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


async def test_a_failed_fund_refunds_paid_subscriptions_and_frees_holdings_and_limit(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for(
        "subscription",
        payment_period=timedelta(seconds=30),
        cooling_off_test_period=timedelta(seconds=1),
        issuer_yearly_limit=500_000,
    )
    async with running(service("subscription").create_app(settings)) as client:
        market = Market(client, settings)
        investor = await ready_investor(client)
        start = datetime.now(UTC) - timedelta(minutes=1)
        failing = await market.open_fund(
            unit_price=100_000,
            offering_start=start,
            offering_end=datetime.now(UTC) + timedelta(seconds=8),
            formation_threshold_units=30,
        )
        sibling = await market.open_fund(msme_id=failing.msme_id, unit_price=100_000)
        paid = (await market.subscribe(failing, investor, 5)).json()
        await market.pay(failing, paid, seq=1)
        full = await market.subscribe(sibling, investor, 1)

        async def refunded() -> dict[str, Any] | None:
            sub = await call(client, "GET", f"/subscriptions/{paid['id']}", headers=_me(investor))
            return sub if sub["status"] == "refunded" else None

        after = await eventually(refunded, timeout_s=90, what="the failed fund's refund")
        progress = await offering(client, str(failing.fund_id))
        holdings = await call(
            client, "GET", f"/investors/{investor}/holdings", headers=_me(investor)
        )
        listed = await call(
            client,
            "GET",
            f"/investors/{investor}/subscriptions",
            params={"status": "refunded"},
            headers=_me(investor),
        )
        cancel = await client.post(f"/subscriptions/{paid['id']}/cancel", headers=_me(investor))
        freed = await market.subscribe(sibling, investor, 5)
        events = await market.events(failing)
    assert full.status_code == 422, "the failed fund's 500,000 filled the limit while it was open"
    assert progress is not None
    assert progress["status"] == "closed_failed"
    assert (after["refund_reason"], after["amount_paid"]) == ("fund_failed", 5 * 100_500)
    assert after["refunded_at"] is not None
    assert after["cancelled_at"] is None
    assert holdings == []
    assert [s["id"] for s in listed["items"]] == [paid["id"]]
    assert cancel.status_code == 409
    assert freed.status_code == 201, freed.text
    # The ledger refunds on FundClosed: no cancellation may ask it for the money a second time.
    assert [t for t, _ in events] == ["SubscriptionPlaced", "SubscriptionConfirmed", "FundClosed"]
    assert (events[-1][1]["outcome"], events[-1][1]["units_confirmed"]) == ("failed", 5)


async def _insert_subscription(
    market: Market,
    fund: FundOpened,
    investor: str,
    *,
    units: int,
    placed_at: datetime,
    status: str = "confirmed",
) -> uuid.UUID:
    """A subscription written straight into the database, as if placed at ``placed_at``."""
    sub_id = uuid.uuid4()
    amount = units * (fund.unit_price + fund.handling_fee_per_unit)
    await fetch(
        market.settings.database_url,
        "INSERT INTO subscriptions (id, fund_id, investor_id, msme_id, units, unit_price, "
        "handling_fee_per_unit, amount_due, currency, payment_reference, payment_deadline, "
        "cooling_off_until, terms_digest, status, amount_paid, cancel_reason, refund_reason, "
        "placed_at, confirmed_at, cancelled_at, refunded_at) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, 'JPY', $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19)",
        sub_id,
        fund.fund_id,
        uuid.UUID(investor),
        fund.msme_id,
        units,
        fund.unit_price,
        fund.handling_fee_per_unit,
        amount,
        f"TEST{sub_id.hex[:12]}",
        placed_at + timedelta(days=7),
        end_of_nth_day(placed_at, 8),
        fund.terms_digest,
        status,
        None if status == "placed" else amount,
        "cooling_off" if status == "cancelled" else None,
        "fund_failed" if status == "refunded" else None,
        placed_at,
        placed_at if status == "cancelled" else None,
        placed_at if status == "refunded" else None,
    )
    return sub_id


async def test_the_issuer_limit_counts_the_twelve_months_before_not_the_calendar_year(
    market: Market,
) -> None:
    fund = await market.open_fund(unit_price=100_000)
    investor = await ready_investor(market.client)
    now = datetime.now(UTC)
    a_year_ago = one_year_before(now)
    # 400,000 committed eleven months ago and more, in an earlier calendar year as often as
    # not; cancelled and refunded money inside the window does not count.
    old = await _insert_subscription(
        market, fund, investor, units=4, placed_at=a_year_ago + timedelta(days=2)
    )
    for status in ("cancelled", "refunded"):
        await _insert_subscription(
            market, fund, investor, units=5, placed_at=now - timedelta(days=3), status=status
        )
    two = await market.subscribe(fund, investor, 2)
    one = await market.subscribe(fund, investor, 1)
    # The old subscription now falls out of the window: 400,000 are free again.
    await fetch(
        market.settings.database_url,
        "UPDATE subscriptions SET placed_at = $2 WHERE id = $1",
        old,
        a_year_ago - timedelta(days=2),
    )
    four = await market.subscribe(fund, investor, 4)
    fifth = await market.subscribe(fund, investor, 1)
    [lock] = await fetch(
        market.settings.database_url,
        "SELECT investor_id, msme_id FROM issuer_commitments WHERE investor_id = $1",
        uuid.UUID(investor),
    )
    assert two.status_code == 422
    assert two.json()["type"] == PROBLEM_BASE + "over-limit"
    assert two.json()["committed"] == 400_000
    assert "12 months before this subscription" in two.json()["detail"]
    assert one.status_code == 201, one.text
    assert four.status_code == 201, four.text
    assert fifth.status_code == 422
    assert fifth.json()["committed"] == 500_000
    assert lock["msme_id"] == fund.msme_id


async def test_the_past_year_is_counted_across_the_new_year(market: Market) -> None:
    fund = await market.open_fund(unit_price=100_000)
    investor = await ready_investor(market.client)
    now = datetime.now(UTC)
    # 500,000 on 31 December of last year (Japan time), when that is within the past year.
    eve = datetime(now.year - 1, 12, 31, 12, 0, tzinfo=JAPAN)
    if not now - timedelta(days=364) < eve:
        eve = now - timedelta(days=1)
    await _insert_subscription(market, fund, investor, units=5, placed_at=eve)
    new_year = await market.subscribe(fund, investor, 1)
    assert new_year.status_code == 422, new_year.text
    assert new_year.json()["committed"] == 500_000


async def test_concurrent_orders_never_pass_the_issuer_limit(market: Market) -> None:
    first = await market.open_fund(unit_price=100_000)
    funds = [first] + [
        await market.open_fund(msme_id=first.msme_id, unit_price=100_000) for _ in range(7)
    ]
    investor = await ready_investor(market.client)
    answers = await asyncio.gather(*(market.subscribe(f, investor, 1) for f in funds))
    [row] = await fetch(
        market.settings.database_url,
        "SELECT coalesce(sum(units * unit_price), 0) AS committed FROM subscriptions "
        "WHERE investor_id = $1 AND status IN ('placed', 'confirmed')",
        uuid.UUID(investor),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [422] * 3, [a.text for a in answers]
    assert row["committed"] == 500_000
    assert all(
        a.json()["type"] == PROBLEM_BASE + "over-limit" for a in answers if a.status_code == 422
    )


async def test_withdrawing_an_offering_while_orders_arrive_leaves_nothing_live(
    market: Market,
) -> None:
    fund = await market.open_fund(units_offered=200)
    investors = [await ready_investor(market.client) for _ in range(5)]
    early = await market.subscribe(fund, investors[0], 2)
    url = market.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    holder = await asyncpg.connect(url)

    async def waiting(orders: int, others: int = 0) -> bool:
        # First orders are placed in groups (subscriptions.placing): ``orders`` are all in
        # the process, and each group that holds some waits on the row, as do ``others``.
        in_process, groups = market.orders_in_process()
        rows = await fetch(
            market.settings.database_url,
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ILIKE '%offerings%'",
        )
        return in_process == orders and bool(rows[0]["n"] >= groups + others)

    try:
        # Hold the offering's row as an order does, so that orders placed before the
        # withdrawal, the withdrawal itself and later orders all queue on it together.
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM offerings WHERE fund_id = $1 FOR NO KEY UPDATE", fund.fund_id
            )
            before = [asyncio.create_task(market.subscribe(fund, i, 1)) for i in investors[1:3]]
            await eventually(lambda: waiting(2), what="two orders waiting", timeout_s=20)
            withdraw = asyncio.create_task(
                market.client.post(
                    f"/offerings/{fund.fund_id}/cancel",
                    json={"reason": "the business withdrew the project"},
                    headers=STAFF,
                )
            )
            await eventually(lambda: waiting(2, 1), what="the withdrawal waiting", timeout_s=20)
            after = [asyncio.create_task(market.subscribe(fund, i, 1)) for i in investors[3:]]
            await eventually(lambda: waiting(4, 1), what="two more orders waiting", timeout_s=20)
        answers = await asyncio.gather(*before, *after)
        withdrawn = await withdraw
    finally:
        await holder.close()
    rows = await fetch(
        market.settings.database_url,
        "SELECT status, cancel_reason, count(*) AS n FROM subscriptions WHERE fund_id = $1 "
        "GROUP BY status, cancel_reason",
        fund.fund_id,
    )
    [held] = await fetch(
        market.settings.database_url,
        "SELECT coalesce(sum(units), 0) AS units FROM positions WHERE fund_id = $1",
        fund.fund_id,
    )
    progress = await offering(market.client, str(fund.fund_id))
    placed = sum(a.status_code == 201 for a in answers)
    assert early.status_code == 201
    assert withdrawn.status_code == 200, withdrawn.text
    # Whichever got the row first: an order placed while the withdrawal waited is cancelled
    # with the others, and one that came after it is refused; none is left live.
    assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
    assert all(
        a.json()["type"] == PROBLEM_BASE + "offering-not-open"
        for a in answers
        if a.status_code == 409
    )
    assert [(r["status"], r["cancel_reason"], r["n"]) for r in rows] == [
        ("cancelled", "offering_cancelled", 1 + placed)
    ]
    assert held["units"] == 0
    assert progress is not None
    assert (progress["status"], progress["units_sold"], progress["investors"]) == (
        "cancelled",
        0,
        0,
    )


async def test_anyone_simulates_distributions_and_doubtful_inputs_are_problems(
    settings_for: SettingsFactory,
) -> None:
    app = service("subscription").create_app(settings_for("subscription", run_workers=False))
    terms = {
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "rate_before_recoup_ppm": 30_000,
        "rate_after_recoup_ppm": 10_000,
        "sales_threshold": 1_000_000,
        "success_fee_rate_ppm": 20_000,
    }
    sales = [{"sales": 800_000}, {"sales": 3_000_000}, {"sales": 5_000_000}]
    async with running(app) as client:
        answer = await client.post(
            "/simulations/distributions",
            json={
                "terms": terms,
                "holders": [{"holder": "b", "units": 7}, {"holder": "a", "units": 3}],
                "periods": sales,
            },
        )
        one_holder = await client.post(
            "/simulations/distributions", json={"terms": terms, "units": 10, "periods": sales}
        )
        both = await client.post(
            "/simulations/distributions",
            json={
                "terms": terms,
                "units": 10,
                "holders": [{"holder": "a", "units": 1}],
                "periods": sales,
            },
        )
        no_rate = await client.post(
            "/simulations/distributions",
            json={"terms": {**terms, "rate_before_recoup_ppm": 0}, "units": 10, "periods": sales},
        )
        huge = await client.post(
            "/simulations/distributions",
            json={"terms": terms, "units": 10, "periods": [{"sales": 10**30}]},
        )
        below_zero = await client.post(
            "/simulations/distributions",
            json={"terms": terms, "units": 10, "periods": [{"sales": 1, "adjustment": -2}]},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["recoup_sales"] == 3_333_334
    third = body["periods"][2]
    assert (third["distributable_amount"], third["per_unit"], third["retained"]) == (
        66_666,
        6_666,
        6,
    )
    assert [(h["holder"], h["gross"], h["tax"], h["net"]) for h in third["holders"]] == [
        ("a", 19_998, 1_326, 18_672),
        ("b", 46_662, 3_096, 43_566),
    ]
    assert third["success_fee"] == 53_333
    assert one_holder.json()["periods"][2]["holders"][0]["gross"] == 66_660
    for refused in (both, no_rate, huge, below_zero):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert below_zero.json()["type"].endswith("/invalid-distribution")


async def test_approved_sales_are_declared_once_per_period_in_order(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for(
        "subscription",
        payment_period=timedelta(seconds=30),
        cooling_off_test_period=timedelta(seconds=1),
    )
    app = service("subscription").create_app(settings)
    async with running(app) as client:
        market = Market(client, settings)
        a, b = await ready_investor(client), await ready_investor(client)
        start = datetime.now(UTC) - timedelta(minutes=1)
        fund = await market.open_fund(
            offering_start=start,
            offering_end=datetime.now(UTC) + timedelta(seconds=8),
            formation_threshold_units=3,
            revenue_share=RevenueShare(
                rate_before_recoup_ppm=30_000,
                rate_after_recoup_ppm=10_000,
                sales_threshold=1_000_000,
            ),
        )
        subs = [
            (await market.subscribe(fund, a, 3)).json(),
            (await market.subscribe(fund, b, 7)).json(),
        ]
        for seq, sub in enumerate(subs, start=1):
            await market.pay(fund, sub, seq)

        async def formed() -> bool:
            found = await offering(client, str(fund.fund_id)) or {}
            return found.get("status") == "closed_succeeded"

        await eventually(formed, timeout_s=90, what="the fund formed")

        def reported(number: int, sales: int) -> SalesReported:
            return SalesReported(
                report_id=uuid.uuid4(),
                fund_id=fund.fund_id,
                msme_id=fund.msme_id,
                period_number=number,
                period_start=date(2027 + number, 4, 1),
                period_end=date(2028 + number, 3, 31),
                sales=sales,
                confirmation_id=uuid.uuid4(),
                approved_at=datetime.now(UTC),
            )

        topic = events_topic("disclosure", settings.topic_namespace)
        subject = str(fund.fund_id)
        bootstrap = settings.kafka_bootstrap_servers
        # Sales of a fund never offered here are dropped, not dead-lettered.
        stray = reported(1, 1_000).model_copy(update={"fund_id": uuid.uuid4()})
        await publish_events(bootstrap, topic, "disclosure", str(stray.fund_id), [stray])
        # Staff approved period 2 first: it waits for period 1.
        await publish_events(bootstrap, topic, "disclosure", subject, [reported(2, 3_000_000)])
        await eventually(
            lambda: _rows(settings, "SELECT 1 FROM reported_sales WHERE period_number = 2"),
            what="period 2 kept",
        )
        early = await _rows(settings, "SELECT 1 FROM distributions")
        await publish_events(
            bootstrap,
            topic,
            "disclosure",
            subject,
            [reported(1, 800_000), reported(3, 5_000_000)],
            first=2,
        )

        async def declared() -> list[dict[str, Any]] | None:
            found = [d for t, d in await market.events(fund) if t == "DividendDeclared"]
            return found if len(found) == 3 else None

        declarations = await eventually(declared, what="three periods declared")
        # Delivered again: nothing changes.
        await publish_events(
            bootstrap, topic, "disclosure", subject, [reported(1, 800_000)], first=2
        )
        page = await call(client, "GET", f"/investors/{a}/distributions", headers=_me(a))
        statement = page["items"]
        others = await client.get(f"/investors/{a}/distributions", headers=_me(b))
        events = await market.events(fund)
    assert early == []
    assert await _rows(settings, "SELECT 1 FROM dead_letters") == []
    assert [d["period_number"] for d in declarations] == [1, 2, 3]
    first, second, third = declarations
    # Nothing to distribute in period 1, but the fees of the fiscal years it closes are due.
    assert first["distributable_amount"] == 0
    assert first["fees"]
    assert first["business_owes"] == first["fees_total"] == sum(f["amount"] for f in first["fees"])
    assert first["payment_reference"]
    charged = [(f["kind"], f["fiscal_year"]) for d in declarations for f in d["fees"]]
    assert len(charged) == len(set(charged)), "a fee is charged once"
    assert (second["distributable_amount"], second["per_unit"]) == (60_000, 6_000)
    assert (third["distributable_amount"], third["per_unit"], third["retained"]) == (
        66_666,
        6_666,
        6,
    )
    assert third["total_tax"] == 1_326 + 3_096
    assert third["business_owes"] == third["fees_total"] + 66_660 + third["success_fee"]
    assert third["payment_reference"]
    allocations = [d for t, d in events if t == "DistributionAllocated"]
    assert [(x["period_number"], x["batch"], x["batches"]) for x in allocations] == [
        (1, 1, 1),
        (2, 1, 1),
        (3, 1, 1),
    ]
    lines = {line["investor_id"]: line for line in allocations[2]["lines"]}
    assert (lines[a]["gross"], lines[a]["tax"], lines[a]["net"]) == (19_998, 1_326, 18_672)
    assert (lines[b]["gross"], lines[b]["tax"], lines[b]["net"]) == (46_662, 3_096, 43_566)
    assert [t for t, _ in events].count("DividendDeclared") == 3
    assert [(s["period_number"], s["gross"], s["cumulative_gross"]) for s in statement] == [
        (3, 19_998, 37_998),
        (2, 18_000, 18_000),
        (1, 0, 0),
    ]
    assert statement[0]["remaining_to_recoup"] == 0
    assert statement[1]["remaining_to_recoup"] == 3 * 10_500 - 18_000
    assert others.status_code == 404


async def _rows(settings: ServiceSettings, query: str) -> list[asyncpg.Record]:
    return await fetch(settings.database_url, query)
