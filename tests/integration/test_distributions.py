"""Distributions end to end on the real broker: approved sales -> subscription declares ->
the business pays -> the ledger books every batch and instructs the payouts.

A formed fund of a few hundred investors (its register is written straight into
subscription's tables: how a fund forms is ``test_money_path``'s), three periods (below
the threshold, across recoup, after it), the ledger and subscription each restarted in
the middle. Asserted to the yen against the pure calculation.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx

from helpers import (
    OTHER_BANK,
    STAFF,
    SettingsFactory,
    call,
    fetch,
    personal_details,
    publish_events,
)
from kumiai.auth import Role
from kumiai.contracts.disclosure import SalesReported
from kumiai.contracts.onboarding import FundFees, RevenueShare, ThresholdBasis
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running, sample_fund_opened
from ledger_flows import deposit_body
from subscription.distributions import rules
from subscription.distributions.rules import PeriodSales

BANK_ID = "hokkaido-bank"
BANK = bearer(Role.BANK, BANK_ID)
INVESTORS = 240
# Period 1 ends before the first fiscal year does: below the threshold, nothing to pay.
# Period 2 ends the first fiscal year (its fees fall due) and crosses recoup.
# Period 3 is after recoup.
PERIODS = (
    (date(2026, 12, 1), date(2026, 12, 31), 700_000),
    (date(2027, 1, 1), date(2027, 3, 31), 200_000_000),
    (date(2027, 4, 1), date(2027, 9, 30), 50_000_000),
)


class Restartable:
    """A service the test stops and starts again."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name, self.settings = name, settings
        self.client: httpx.AsyncClient
        self._stack = contextlib.AsyncExitStack()

    async def start(self) -> None:
        app = service(self.name).create_app(self.settings)
        self.client = await self._stack.enter_async_context(running(app))

    async def restart(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        await self.start()

    async def stop(self) -> None:
        await self._stack.aclose()


@contextlib.asynccontextmanager
async def started(*services: Restartable) -> AsyncIterator[None]:
    try:
        for s in services:
            await s.start()
        yield
    finally:
        for s in reversed(services):
            await s.stop()


async def _form(sub: Restartable, fund: Any, investors: list[str]) -> dict[str, int]:
    """The fund formed: its offering closed with this register (units per investor)."""
    pick = random.Random(11)
    register = {investor: pick.randint(1, 5) for investor in investors}
    conn = await asyncpg.connect(sub.settings.database_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "UPDATE offerings SET status = 'closed_succeeded', closed_at = $2, "
            "units_sold = $3, units_confirmed = $3, investors = $4 WHERE fund_id = $1",
            fund.fund_id,
            datetime(2026, 11, 20, 3, tzinfo=UTC),
            sum(register.values()),
            len(register),
        )
        await conn.copy_records_to_table(
            "holdings",
            columns=["fund_id", "investor_id", "units", "amount_paid"],
            records=[
                (fund.fund_id, uuid.UUID(i), units, units * 10_500) for i, units in register.items()
            ],
        )
    finally:
        await conn.close()
    return register


async def _distributions(ledger: Restartable, fund_id: str) -> list[dict[str, Any]]:
    body = await call(ledger.client, "GET", f"/funds/{fund_id}/distributions", headers=STAFF)
    found: list[dict[str, Any]] = body["distributions"]
    return found


async def test_three_periods_are_declared_paid_in_and_paid_out_to_the_yen(
    settings_for: SettingsFactory,
) -> None:
    sub = Restartable("subscription", settings_for("subscription"))
    ledger = Restartable("ledger", settings_for("ledger"))
    opened = sample_fund_opened(
        units_offered=2_000,
        formation_threshold_units=100,
        max_units_per_investor=5,
        revenue_share=RevenueShare(
            rate_before_recoup_ppm=50_000,
            rate_after_recoup_ppm=10_000,
            sales_threshold=1_000_000,
            threshold_basis=ThresholdBasis.PER_PERIOD,
        ),
        fees=FundFees(
            arrangement_fee=0,
            operation_fee_rate_ppm=20_000,
            audit_fee_first_year=150_000,
            audit_fee_later_years=100_000,
            success_fee_rate_ppm=30_000,
        ),
    )
    fund_id = str(opened.fund_id)
    bootstrap = sub.settings.kafka_bootstrap_servers
    namespace = sub.settings.topic_namespace
    sales_topic = events_topic("disclosure", namespace)

    def reported(number: int) -> SalesReported:
        start, end, sales = PERIODS[number - 1]
        return SalesReported(
            report_id=uuid.uuid4(),
            fund_id=opened.fund_id,
            msme_id=opened.msme_id,
            period_number=number,
            period_start=start,
            period_end=end,
            sales=sales,
            confirmation_id=uuid.uuid4(),
            approved_at=datetime.now(UTC),
        )

    async with started(sub, ledger):
        await publish_events(
            bootstrap, events_topic("onboarding", namespace), "onboarding", fund_id, [opened]
        )

        async def known() -> bool:
            offered = await sub.client.get(f"/offerings/{fund_id}")
            rows = await fetch(
                ledger.settings.database_url,
                "SELECT 1 FROM funds WHERE fund_id = $1",
                opened.fund_id,
            )
            return offered.status_code == 200 and bool(rows)

        await eventually(known, what="both services know the fund")
        investors = []
        for n in range(INVESTORS):
            investor = str(uuid.uuid4())
            body = {"personal": personal_details(f"Investor {n}")}
            me = bearer(Role.INVESTOR, investor)
            await call(sub.client, "POST", "/investors", 201, json=body, headers=me)
            investors.append(investor)
        register = await _form(sub, opened, investors)

        # Period 1: below the threshold, nothing owed; declared and paid with no money.
        await publish_events(bootstrap, sales_topic, "disclosure", fund_id, [reported(1)])

        async def paid(count: int) -> list[dict[str, Any]] | None:
            found = await _distributions(ledger, fund_id)
            done = [d for d in found if d["status"] == "paid"]
            return found if len(done) >= count else None

        first = (await eventually(lambda: paid(1), what="period 1 paid"))[0]
        assert (first["business_owes"], first["payout_count"], first["bank_id"]) == (0, 0, None)

        # Subscription restarts before period 2 arrives; the sales wait on the broker.
        await sub.stop()
        await publish_events(
            bootstrap, sales_topic, "disclosure", fund_id, [reported(2), reported(3)], first=2
        )
        await sub.start()

        async def declared() -> list[dict[str, Any]] | None:
            found = await _distributions(ledger, fund_id)
            return found if len(found) == 3 else None

        owed = await eventually(declared, timeout_s=60, what="periods 2 and 3 declared")
        second, third = owed[1], owed[2]
        assert second["fees_total"] > 0
        assert third["fees_total"] == 0
        # A wrong amount waits in suspense; the right one pays period 2.
        wrong = deposit_body("tx-wrong", second["business_owes"] - 1, second["payment_reference"])
        await call(ledger.client, "POST", "/deposits", 201, json=wrong, headers=BANK)
        pay2 = deposit_body("tx-2", second["business_owes"], second["payment_reference"])
        await call(ledger.client, "POST", "/deposits", 201, json=pay2, headers=BANK)
        # The ledger restarts while it books period 2's batches.
        await ledger.restart()
        await call(ledger.client, "POST", "/deposits", json=pay2, headers=BANK)  # a retry
        pay3 = deposit_body("tx-3", third["business_owes"], third["payment_reference"])
        await call(ledger.client, "POST", "/deposits", 201, json=pay3, headers=BANK)
        done = await eventually(lambda: paid(3), timeout_s=90, what="three periods paid")

        # The bank answers every payout of period 2: one transfer failed, the rest went.
        batch2 = await fetch(
            ledger.settings.database_url,
            "SELECT id, beneficiary_id, amount FROM payouts WHERE reference = $1 ORDER BY id",
            f"Distribution {fund_id}/2",
        )
        failed = batch2[0]
        note = {"note": "bank's answer"}
        for p in batch2[1:]:
            done_one = await call(
                ledger.client, "POST", f"/payouts/{p['id']}/confirm", json=note, headers=BANK
            )
            assert done_one["status"] == "confirmed"
            assert done_one["resolution_entry_id"] is None, "posted with the whole batch"
        last = await call(
            ledger.client, "POST", f"/payouts/{failed['id']}/fail", json=note, headers=BANK
        )
        again = await ledger.client.post(
            f"/payouts/{failed['id']}/confirm", json=note, headers=BANK
        )
        other_bank = await ledger.client.post(
            f"/payouts/{failed['id']}/confirm",
            json=note,
            headers=OTHER_BANK,
        )
        failed_wallet = await call(
            ledger.client,
            "GET",
            f"/accounts/investor/{failed['beneficiary_id']}/wallet/balance",
            headers=STAFF,
        )
        settled = await fetch(
            ledger.settings.database_url,
            "SELECT count(*) FROM payouts WHERE reference = $1 AND resolution_entry_id = $2",
            f"Distribution {fund_id}/2",
            uuid.UUID(last["resolution_entry_id"]),
        )
        # Period 3's result file, in one request: every payout went.
        batch3 = await fetch(
            ledger.settings.database_url,
            "SELECT id FROM payouts WHERE reference = $1 ORDER BY id",
            f"Distribution {fund_id}/3",
        )
        answers = {
            "answers": [
                {"payout_id": str(p["id"]), "outcome": "confirmed", "note": "sent"} for p in batch3
            ]
        }
        all_at_once = await call(
            ledger.client, "POST", "/payouts/answers", json=answers, headers=BANK
        )
        retried = await call(ledger.client, "POST", "/payouts/answers", json=answers, headers=BANK)
        mixed = await ledger.client.post(
            "/payouts/answers",
            json={
                "answers": [
                    {"payout_id": str(batch2[0]["id"]), "outcome": "failed", "note": "gone"},
                    {"payout_id": str(batch3[0]["id"]), "outcome": "confirmed", "note": "sent"},
                ]
            },
            headers=BANK,
        )
        not_its_own = await ledger.client.post("/payouts/answers", json=answers, headers=OTHER_BANK)
        wallets = await fetch(
            ledger.settings.database_url,
            "SELECT a.owner_id, e.reference_id, p.amount FROM postings p "
            "JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id "
            "WHERE e.purpose = 'distribution' AND a.owner_type = 'investor'",
        )
        payouts = await fetch(
            ledger.settings.database_url,
            "SELECT beneficiary_id, amount, status, bank_id FROM payouts WHERE fund_id = $1",
            opened.fund_id,
        )
        balances = await call(ledger.client, "GET", "/trial-balance", headers=STAFF)
        withheld = await call(ledger.client, "GET", "/accounts/tax/withholding", headers=STAFF)
        receivable = await call(
            ledger.client, "GET", f"/accounts/msme/{opened.msme_id}/receivable", headers=STAFF
        )
        account = await call(
            ledger.client, "GET", f"/accounts/fund/{fund_id}/distribution", headers=STAFF
        )
        suspense = await call(ledger.client, "GET", "/suspense", headers=STAFF)
        fees = (await call(ledger.client, "GET", f"/funds/{fund_id}/distributions", headers=STAFF))[
            "fees"
        ]
        outbox = await fetch(
            ledger.settings.database_url,
            "SELECT type, count(*) FROM outbox_events WHERE type LIKE 'Distribution%' "
            "GROUP BY type",
        )

    # The same calculation, run here from the same terms, register and sales.
    schedule = rules.distribute(
        rules.terms_from(opened.model_dump(mode="json")),
        register,
        [PeriodSales(sales) for _, _, sales in PERIODS],
    )
    expected_net: dict[tuple[str, int], int] = {}
    for period in schedule.periods:
        for line in period.lines:
            if line.net:
                expected_net[(line.holder, period.number)] = line.net
    booked = {(r["owner_id"], int(r["reference_id"].split("/")[1])): r["amount"] for r in wallets}
    assert booked == expected_net
    assert [d["total_gross"] for d in done] == [p.total_gross for p in schedule.periods]
    assert [d["success_fee"] for d in done] == [p.success_fee for p in schedule.periods]
    assert schedule.periods[0].distributable_amount == 0
    assert schedule.periods[1].below_recoup > 0
    assert schedule.periods[1].above_recoup > 0
    assert schedule.periods[2].below_recoup == 0
    total_tax = sum(p.total_tax for p in schedule.periods)
    assert total_tax > 0
    assert withheld["balance"]["posted"] == total_tax
    assert receivable["balance"]["posted"] == 0, "the fees were settled from the payment"
    assert account["balance"]["posted"] == 0, "everything paid in was paid out"
    # One payout per investor and period with a net, through the bank the business used.
    per_investor: dict[str, int] = defaultdict(int)
    for p in payouts:
        assert p["bank_id"] == BANK_ID
        per_investor[p["beneficiary_id"]] += p["amount"]
    assert sorted({p["status"] for p in payouts}) == ["confirmed", "failed"]
    assert (all_at_once["answered"], all_at_once["unanswered"]) == (len(batch3), 0)
    assert all_at_once["settled_entry_id"]
    assert (retried["answered"], retried["unchanged"]) == (0, len(batch3))
    assert retried["settled_entry_id"] == all_at_once["settled_entry_id"]
    assert (mixed.status_code, mixed.json()["type"].rsplit("/", 1)[-1]) == (422, "not-one-batch")
    assert not_its_own.status_code == 404
    # The last answer posted period 2's batch; the failed net is back in its wallet, and
    # a second answer or another bank's is refused.
    assert last["status"] == "failed"
    assert settled[0][0] == len(batch2)
    assert (again.status_code, again.json()["type"].rsplit("/", 1)[-1]) == (
        409,
        "payout-settled",
    )
    assert other_bank.status_code == 404
    period3_net = expected_net.get((failed["beneficiary_id"], 3), 0)
    assert failed_wallet["posted"] == failed["amount"] + period3_net
    assert failed_wallet["available"] == failed["amount"]
    assert len(payouts) == len(expected_net)
    for investor in register:
        assert per_investor[investor] == sum(
            net for (holder, _), net in expected_net.items() if holder == investor
        )
    assert balances["balanced"] is True
    assert [s["amount"] for s in suspense["items"]] == [second["business_owes"] - 1]
    counts = {r["type"]: r["count"] for r in outbox}
    assert counts["DistributionPaid"] == 3
    assert counts["DistributionPayoutsInstructed"] == 2 * rules.batches(INVESTORS, 1_000)
    # Formed 20 November 2026; fiscal years end in March. FY2027 (2026-11-20 .. 2027-03-31,
    # 11 + 31 + 31 + 28 + 31 = 132 days of 365) falls due with period 2, which ends it:
    # operation fee floor(raised x 2 % x 132 / 365); the first year's audit fee 150,000.
    raised = sum(register.values()) * 10_000
    operation = raised * 20_000 * 132 // (1_000_000 * 365)
    assert [(f["kind"], f["fiscal_year"], f["period_number"], f["amount"]) for f in fees] == [
        ("audit", 2027, 2, 150_000),
        ("operation", 2027, 2, operation),
    ]
    assert done[1]["fees_total"] == operation + 150_000
    assert done[1]["business_owes"] == (
        operation + 150_000 + schedule.periods[1].total_gross + schedule.periods[1].success_fee
    )
