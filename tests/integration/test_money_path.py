"""The offering's money path end to end: onboarding, subscription and ledger over the real
broker, with the subscription service and the broker restarted in the middle."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from helpers import STAFF, SettingsFactory, call, fetch, publish, ready_investor
from kumiai.auth import Role
from kumiai.references import normalise_reference
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import service
from kumiai_tools.devstack import TansuBroker
from kumiai_tools.testing import bearer, eventually, running

BANK = bearer(Role.BANK, "hokkaido-bank")
OFFERING_SECONDS = 55
ARRANGEMENT_FEE = 50_000


def _me(investor: str) -> dict[str, str]:
    return bearer(Role.INVESTOR, investor)


class Subscription:
    """The subscription service, which the test restarts."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.client: httpx.AsyncClient
        self._stack = contextlib.AsyncExitStack()

    async def start(self) -> None:
        app = service("subscription").create_app(self.settings)
        self.client = await self._stack.enter_async_context(running(app))

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()


@contextlib.asynccontextmanager
async def started(settings: ServiceSettings) -> AsyncIterator[Subscription]:
    subscription = Subscription(settings)
    await subscription.start()
    try:
        yield subscription
    finally:
        await subscription.stop()


async def _count(url: str, query: str, *args: object) -> int:
    return int((await fetch(url, query, *args))[0][0])


async def _at_least(url: str, query: str, wanted: int, *args: object) -> bool:
    return await _count(url, query, *args) >= wanted


async def test_fifty_investors_one_fund_formed_one_failed_to_the_yen(
    settings_for: SettingsFactory, own_broker: TansuBroker
) -> None:
    bootstrap = own_broker.bootstrap_servers
    ob = settings_for("onboarding", kafka_bootstrap_servers=bootstrap, min_offering_days=0)
    led = settings_for("ledger", kafka_bootstrap_servers=bootstrap)
    sub_settings = settings_for(
        "subscription",
        kafka_bootstrap_servers=bootstrap,
        cooling_off_test_period=timedelta(seconds=30),
        payment_period=timedelta(minutes=10),
    )
    onboarding = service("onboarding").create_app(ob)
    ledger_app = service("ledger").create_app(led)
    async with (
        running(onboarding) as onboard,
        running(ledger_app) as ledger,
        started(sub_settings) as subs,
    ):
        investors = [await ready_investor(subs.client) for _ in range(50)]
        start = datetime.now(UTC) - timedelta(minutes=1)
        window: dict[str, Any] = {
            "offering_start": start.isoformat(),
            "offering_end": (datetime.now(UTC) + timedelta(seconds=OFFERING_SECONDS)).isoformat(),
            "units_offered": 200,
            "max_units_per_investor": 3,
        }
        fees = {
            "arrangement_fee": ARRANGEMENT_FEE,
            "operation_fee_rate_ppm": 20_000,
            "audit_fee_first_year": 150_000,
            "audit_fee_later_years": 100_000,
            "success_fee_rate_ppm": 30_000,
        }
        formed = await publish(onboard, formation_threshold_units=60, fees=fees, **window)
        failing = await publish(onboard, formation_threshold_units=150, fees=fees, **window)
        assert formed["status"] == failing["status"] == "open"

        async def offered() -> bool:
            for fund in (formed, failing):
                if (await subs.client.get(f"/offerings/{fund['id']}")).status_code != 200:
                    return False
            return True

        await eventually(offered, timeout_s=60, what="both offerings open")
        terms = {f["id"]: f["terms_digest"] for f in (formed, failing)}

        async def subscribe(fund: dict[str, Any], investor: str, units: int) -> dict[str, Any]:
            body: dict[str, Any] = await call(
                subs.client,
                "POST",
                f"/offerings/{fund['id']}/subscriptions",
                201,
                json={"units": units, "terms_digest": terms[fund["id"]]},
                headers={**_me(investor), "Idempotency-Key": f"{fund['id']}/{investor}"},
            )
            return body

        orders_a = [await subscribe(formed, i, 1 + n % 3) for n, i in enumerate(investors)]
        orders_b = [await subscribe(failing, i, 2) for i in investors[:10]]
        everything = orders_a + orders_b
        await eventually(
            lambda: _at_least(
                led.database_url, "SELECT count(*) FROM expected_payments", len(everything)
            ),
            timeout_s=120,
            what="the ledger awaiting every payment",
        )
        # Both funds reach the ledger on onboarding's topic, apart from the orders.
        await eventually(
            lambda: _at_least(led.database_url, "SELECT count(*) FROM funds", 2),
            timeout_s=120,
            what="the ledger knowing both funds",
        )

        # Deposits: investor 30 pays 500 yen short, which lands in suspense.
        short = orders_a[30]
        cancelled = orders_a[20:23]
        paid = 0

        async def deposit(orders: list[dict[str, Any]]) -> None:
            nonlocal paid
            for order in orders:
                amount = order["amount_due"] - (500 if order is short else 0)
                reference = order["payment_reference"]
                if paid % 5 == 0:  # typed by hand: lower case, in groups of four
                    reference = "-".join(reference[i : i + 4] for i in range(0, 13, 4)).lower()
                await call(
                    ledger,
                    "POST",
                    "/deposits",
                    201,
                    json={
                        "bank_transaction_id": f"T-{paid}",
                        "amount": amount,
                        "currency": "JPY",
                        "value_date": datetime.now(UTC).date().isoformat(),
                        "payment_reference": reference,
                    },
                    headers=BANK,
                )
                paid += 1

        async def confirmed(orders: list[dict[str, Any]]) -> bool:
            return await _at_least(
                sub_settings.database_url,
                "SELECT count(*) FROM subscriptions WHERE status = 'confirmed' "
                "AND id = ANY($1::uuid[])",
                len(orders),
                [uuid.UUID(o["id"]) for o in orders],
            )

        # Three investors pay, then change their mind within the cooling-off period.
        await deposit(cancelled)
        await eventually(lambda: confirmed(cancelled), timeout_s=120, what="their payments")
        for order in cancelled:
            await call(
                subs.client,
                "POST",
                f"/subscriptions/{order['id']}/cancel",
                headers=_me(order["investor_id"]),
            )
        rest = [o for o in everything if o not in cancelled]
        await deposit(rest)
        await eventually(
            lambda: confirmed([o for o in rest if o is not short]), timeout_s=120, what="payments"
        )

        # The broker forgets everything and the subscription service restarts.
        await subs.stop()
        await asyncio.to_thread(own_broker.restart)
        await subs.start()

        # Staff send the short payment back; the investor pays the right amount.
        suspense = (await call(ledger, "GET", "/suspense", headers=STAFF))["items"]
        held = [(normalise_reference(d["payment_reference"]), d["amount"]) for d in suspense]
        assert held == [(short["payment_reference"], short["amount_due"] - 500)]
        payout = await call(
            ledger,
            "POST",
            f"/deposits/{suspense[0]['id']}/return",
            201,
            json={"note": "500 yen short; returned, the investor pays again"},
            headers=STAFF,
        )
        await call(
            ledger, "POST", f"/payouts/{payout['id']}/confirm", json={"note": "sent"}, headers=BANK
        )
        again = await call(
            ledger,
            "POST",
            "/deposits",
            201,
            json={
                "bank_transaction_id": "T-again",
                "amount": short["amount_due"],
                "currency": "JPY",
                "value_date": datetime.now(UTC).date().isoformat(),
                "payment_reference": short["payment_reference"],
            },
            headers=BANK,
        )
        assert again["status"] == "matched"

        async def both_done() -> bool:
            rows = await fetch(
                led.database_url,
                "SELECT count(*) FROM funds WHERE status IN ('released', 'closed_failed')",
            )
            return int(rows[0][0]) == 2

        await eventually(
            both_done, timeout_s=OFFERING_SECONDS + 120, what="both funds closed in the ledger"
        )

        async def balance(code: str) -> int:
            body = await call(ledger, "GET", f"/accounts/{code}/balance", headers=STAFF)
            return int(body["posted"])

        payable = await balance(f"msme/{formed['msme_id']}/payable")
        escrows = [await balance(f"fund/{f['id']}/escrow") for f in (formed, failing)]
        refunds = {
            i: await balance(f"investor/{i}/wallet")
            for i in {o["investor_id"] for o in cancelled + orders_b}
        }
        trial = await call(ledger, "GET", "/trial-balance", headers=STAFF)
        report = await call(ledger, "GET", f"/funds/{formed['id']}/segregation", headers=STAFF)
        offering_a = await call(subs.client, "GET", f"/offerings/{formed['id']}")
        offering_b = await call(subs.client, "GET", f"/offerings/{failing['id']}")
        closed_in_onboarding = await call(onboard, "GET", f"/funds/{formed['id']}", headers=STAFF)

    kept = [o for o in orders_a if o not in cancelled]
    units = sum(o["units"] for o in kept)
    paid_total = sum(o["amount_due"] for o in orders_a)
    refunded_a = sum(o["amount_due"] for o in cancelled)
    handling_fees = units * 500
    assert payable == paid_total - refunded_a - handling_fees - ARRANGEMENT_FEE
    assert escrows == [0, 0]
    expected_refunds: dict[str, int] = {}
    for order in cancelled + orders_b:
        expected_refunds[order["investor_id"]] = (
            expected_refunds.get(order["investor_id"], 0) + order["amount_due"]
        )
    assert refunds == expected_refunds, "every cancelled and every failed-fund investor, to the yen"
    assert trial["balanced"] is True
    assert report["agrees_with_postings"] is True
    assert report["fees"] == handling_fees + ARRANGEMENT_FEE
    assert (offering_a["status"], offering_a["units_confirmed"]) == ("closed_succeeded", units)
    assert offering_a["investors"] == 47
    assert offering_b["status"] == "closed_failed"
    assert closed_in_onboarding["status"] == "closed_succeeded"
    assert closed_in_onboarding["amount_raised"] == units * 10_000
    holders = await _count(
        sub_settings.database_url,
        "SELECT count(*) FROM holdings WHERE fund_id = $1",
        uuid.UUID(formed["id"]),
    )
    assert holders == 47
