"""A refund reaches the investor's bank account: the ledger instructs its payout through
the partner bank that received the deposit, pending until that bank confirms."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import BANK, OTHER_BANK, STAFF, SettingsFactory, fetch
from kumiai.auth import Role
from kumiai.contracts.onboarding import FundOpened
from kumiai.contracts.subscription import FundOutcome, SubscriptionPlaced
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, running
from ledger_flows import Flows, deposit_body


@dataclass
class Ledger:
    client: httpx.AsyncClient
    url: str
    flows: Flows

    async def paid(
        self, fund: FundOpened, units: int, bank: dict[str, str] = BANK
    ) -> SubscriptionPlaced:
        placed = await self.flows.subscribe(fund, units)
        response = await self.client.post(
            "/deposits",
            json=deposit_body(str(uuid.uuid4()), placed.amount_due, placed.payment_reference),
            headers=bank,
        )
        assert response.json()["status"] == "matched", response.text
        return placed

    async def balance(self, code: str) -> dict[str, Any]:
        body: dict[str, Any] = (
            await self.client.get(f"/accounts/{code}/balance", headers=STAFF)
        ).json()
        return body

    async def payouts(self, bank: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.client.get("/payouts", headers=bank)).json()[
            "items"
        ]
        return items

    async def instructed(self) -> list[tuple[str, dict[str, Any]]]:
        rows = await fetch(
            self.url,
            "SELECT subject, envelope FROM outbox_events WHERE type = 'PayoutInstructed' "
            "ORDER BY seq",
        )
        return [(r["subject"], json.loads(r["envelope"])["data"]) for r in rows]


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    settings = settings_for("ledger", run_workers=False)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        yield Ledger(client, settings.database_url, Flows(app))


async def test_a_cancelled_payment_is_paid_back_through_the_bank_that_received_it(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.paid(fund, 2, bank=OTHER_BANK)
    wallet = f"investor/{placed.investor_id}/wallet"
    await ledger.flows.cancel(placed)
    held = await ledger.balance(wallet)
    [payout] = await ledger.payouts(OTHER_BANK)
    assert await ledger.payouts(BANK) == [], "not the bank that did not receive the money"
    assert (held["posted"], held["pending_debits"], held["available"]) == (21_000, 21_000, 0)
    assert {k: payout[k] for k in ("account", "amount", "status", "beneficiary", "bank_id")} == {
        "account": wallet,
        "amount": 21_000,
        "status": "instructed",
        "beneficiary": "investor",
        "bank_id": "other-bank",
    }
    assert (payout["beneficiary_id"], payout["fund_id"]) == (
        str(placed.investor_id),
        str(fund.fund_id),
    )
    [(subject, event)] = await ledger.instructed()
    assert subject == str(fund.fund_id)
    assert event == {
        "payout_id": payout["id"],
        "fund_id": str(fund.fund_id),
        "beneficiary": "investor",
        "beneficiary_id": str(placed.investor_id),
        "bank_id": "other-bank",
        "amount": 21_000,
        "currency": "JPY",
        "instructed_at": event["instructed_at"],
    }
    mine = await ledger.client.post(
        f"/payouts/{payout['id']}/confirm", json={"note": "sent"}, headers=BANK
    )
    confirmed = await ledger.client.post(
        f"/payouts/{payout['id']}/confirm", json={"note": "sent"}, headers=OTHER_BANK
    )
    assert mine.status_code == 404
    assert confirmed.json()["status"] == "confirmed"
    after = await ledger.balance(wallet)
    bank = await ledger.balance("bank/other-bank/clearing")
    assert (after["posted"], after["pending_debits"]) == (0, 0)
    assert bank["posted"] == 0, "21,000 received, 21,000 sent back"


async def test_a_failed_refund_payout_leaves_the_money_in_the_wallet_for_staff_to_resend(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.paid(fund, 1)
    wallet = f"investor/{placed.investor_id}/wallet"
    await ledger.flows.cancel(placed)
    [payout] = await ledger.payouts(BANK)
    failed = await ledger.client.post(
        f"/payouts/{payout['id']}/fail", json={"note": "account closed"}, headers=BANK
    )
    assert failed.json()["status"] == "failed"
    held = await ledger.balance(wallet)
    assert (held["posted"], held["available"]) == (10_500, 10_500)
    again = await ledger.client.post(
        "/payouts",
        json={
            "account": wallet,
            "amount": 10_500,
            "bank_id": "hokkaido-bank",
            "reference": "refund, to the investor's new account",
        },
        headers={**STAFF, "Idempotency-Key": f"resend-{payout['id']}"},
    )
    assert again.status_code == 201, again.text
    assert (again.json()["beneficiary"], again.json()["beneficiary_id"]) == (
        "investor",
        str(placed.investor_id),
    )
    events = await ledger.instructed()
    assert [(subject, e["payout_id"], e["bank_id"]) for subject, e in events] == [
        (str(fund.fund_id), payout["id"], "hokkaido-bank"),
        (again.json()["id"], again.json()["id"], "hokkaido-bank"),
    ]
    assert (await ledger.balance(wallet))["available"] == 0


async def test_a_failed_fund_pays_every_investor_back(ledger: Ledger) -> None:
    fund = await ledger.flows.open_fund()
    placed = [
        await ledger.paid(fund, 1),
        await ledger.paid(fund, 3, bank=OTHER_BANK),
        await ledger.paid(fund, 2),
    ]
    await ledger.flows.close(fund, FundOutcome.FAILED, placed)
    payouts = await ledger.payouts(BANK) + await ledger.payouts(OTHER_BANK)
    assert sorted((p["beneficiary_id"], p["amount"], p["bank_id"]) for p in payouts) == sorted(
        [
            (str(placed[0].investor_id), 10_500, "hokkaido-bank"),
            (str(placed[1].investor_id), 31_500, "other-bank"),
            (str(placed[2].investor_id), 21_000, "hokkaido-bank"),
        ]
    )
    assert (await ledger.balance(f"fund/{fund.fund_id}/escrow"))["posted"] == 0
    assert len(await ledger.instructed()) == 3


async def test_a_refund_through_a_suspended_bank_stays_in_the_wallet(ledger: Ledger) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.paid(fund, 1, bank=OTHER_BANK)
    conn = await asyncpg.connect(ledger.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "UPDATE partners SET status = 'suspended' WHERE partner_id = 'other-bank'"
        )
    finally:
        await conn.close()
    await ledger.flows.cancel(placed)
    held = await ledger.balance(f"investor/{placed.investor_id}/wallet")
    assert (held["posted"], held["available"]) == (10_500, 10_500), "refunded, not yet paid out"
    assert await ledger.instructed() == []


async def test_payouts_go_only_through_active_partner_banks_from_wallets_or_payables(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.paid(fund, 1)
    wallet = f"investor/{placed.investor_id}/wallet"
    stray = await ledger.client.post(
        "/deposits", json=deposit_body("STRAY", 3_000, "no reference"), headers=BANK
    )
    assert stray.json()["status"] == "suspense"
    conn = await asyncpg.connect(ledger.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "UPDATE partners SET status = 'suspended' WHERE partner_id = 'other-bank'"
        )
    finally:
        await conn.close()

    async def instruct(account: str, bank: str, who: dict[str, str] = STAFF) -> httpx.Response:
        return await ledger.client.post(
            "/payouts",
            json={"account": account, "amount": 1_000, "bank_id": bank, "reference": "test"},
            headers={**who, "Idempotency-Key": str(uuid.uuid4())},
        )

    unknown = await instruct(wallet, "no-such-bank")
    suspended = await instruct(wallet, "other-bank")
    sources = {
        source: await instruct(source, "hokkaido-bank")
        for source in (
            "suspense",
            f"fund/{fund.fund_id}/escrow",
            "platform/fees",
            "bank/hokkaido-bank/clearing",
        )
    }
    topped_up = await ledger.client.post(
        "/entries",
        json={
            "purpose": "transfer",
            "description": "goodwill payment",
            "reason": "compensation agreed with the investor",
            "postings": [
                {"account": "bank/hokkaido-bank/clearing", "direction": "debit", "amount": 1_000},
                {"account": wallet, "direction": "credit", "amount": 1_000},
            ],
        },
        headers={**STAFF, "Idempotency-Key": "goodwill"},
    )
    assert topped_up.status_code == 201, topped_up.text
    owner = await instruct(wallet, "hokkaido-bank", bearer(Role.INVESTOR, str(placed.investor_id)))
    assert unknown.status_code == suspended.status_code == 422
    assert unknown.json()["type"] == suspended.json()["type"] == PROBLEM_BASE + "unknown-bank"
    assert {s: r.status_code for s, r in sources.items()} == dict.fromkeys(sources, 422)
    assert {r.json()["type"] for r in sources.values()} == {PROBLEM_BASE + "payout-source"}
    assert owner.status_code == 201
    assert (await ledger.balance("suspense"))["pending_debits"] == 0
    assert (await ledger.balance(f"fund/{fund.fund_id}/escrow"))["posted"] == 10_500
