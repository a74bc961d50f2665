"""Partner banks report deposits; expected payments come from the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer

from helpers import BANK, OTHER_BANK, STAFF, SettingsFactory, fetch, publish_events
from kumiai.auth import Role
from kumiai.contracts.onboarding import FundOpenedV1
from kumiai.contracts.subscription import (
    CancellationReason,
    FundClosed,
    FundOutcome,
    SubscriptionCancelled,
    SubscriptionPlaced,
)
from kumiai.errors import PROBLEM_BASE
from kumiai.events import Envelope
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running, sample_fund_opened


def _placed(fund_id: uuid.UUID, units: int, reference: str) -> SubscriptionPlaced:
    now = datetime.now(UTC)
    return SubscriptionPlaced(
        subscription_id=uuid.uuid4(),
        fund_id=fund_id,
        investor_id=uuid.uuid4(),
        units=units,
        unit_price=10_000,
        handling_fee_per_unit=500,
        amount_due=units * 10_500,
        currency="JPY",
        payment_reference=reference,
        payment_deadline=now + timedelta(days=7),
        placed_at=now,
    )


def _deposit(txn: str, amount: int, reference: str) -> dict[str, Any]:
    return {
        "bank_transaction_id": txn,
        "amount": amount,
        "currency": "JPY",
        "value_date": datetime.now(UTC).date().isoformat(),
        "payment_reference": reference,
    }


async def test_deposits_match_expected_payments_or_wait_in_suspense(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger")
    ns = settings.topic_namespace
    opened = sample_fund_opened()
    fund = opened.fund_id
    good, wrong = _placed(fund, 3, "KM-GOOD-1"), _placed(fund, 1, "KM-WRONG-2")
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        await publish_events(
            settings.kafka_bootstrap_servers,
            events_topic("onboarding", ns),
            "onboarding",
            str(fund),
            [opened],
        )
        await publish_events(
            settings.kafka_bootstrap_servers,
            events_topic("subscription", ns),
            "subscription",
            str(fund),
            [good, wrong],
        )
        await eventually(
            lambda: _count(settings.database_url, "SELECT count(*) AS n FROM expected_payments", 2),
            what="both payments expected",
        )
        # The fund comes on another topic: a deposit before it waits in suspense.
        await eventually(
            lambda: _count(settings.database_url, "SELECT count(*) AS n FROM funds", 1),
            what="the fund known",
        )
        matched = await client.post(
            "/deposits", json=_deposit("T-1", 31_500, " km-good-1 "), headers=BANK
        )
        repeat = await client.post(
            "/deposits", json=_deposit("T-1", 31_500, " km-good-1 "), headers=BANK
        )
        altered = await client.post(
            "/deposits", json=_deposit("T-1", 99, "KM-GOOD-1"), headers=BANK
        )
        short = await client.post(
            "/deposits", json=_deposit("T-2", 10_000, "KM-WRONG-2"), headers=BANK
        )
        stranger = await client.post(
            "/deposits", json=_deposit("T-3", 5_000, "NOBODY"), headers=BANK
        )
        peek = await client.get(f"/deposits/{short.json()['id']}", headers=OTHER_BANK)
        suspense = (await client.get("/suspense", headers=STAFF)).json()["items"]
        escrow = (await client.get(f"/accounts/fund/{fund}/escrow/balance", headers=STAFF)).json()
        held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        refused = await client.post(
            f"/deposits/{short.json()['id']}/match",
            json={"subscription_id": str(wrong.subscription_id), "note": "payer short by 500"},
            headers=STAFF,
        )
        trial = (await client.get("/trial-balance", headers=STAFF)).json()
    assert matched.status_code == 201, matched.text
    assert matched.json()["status"] == "matched"
    assert matched.json()["subscription_id"] == str(good.subscription_id)
    assert repeat.status_code == 200
    assert repeat.json()["id"] == matched.json()["id"]
    assert altered.status_code == 422
    assert short.json()["status"] == "suspense"
    assert short.json()["reason"] == "amount 10000 JPY differs from 10500 JPY due"
    assert stranger.json()["reason"] == "unknown payment reference"
    assert peek.status_code == 404, "a bank sees only its own deposits"
    assert [d["bank_transaction_id"] for d in suspense] == ["T-2", "T-3"]
    assert escrow["posted"] == 31_500
    assert held["posted"] == 15_000
    assert refused.status_code == 409
    assert trial["balanced"] is True
    events = await fetch(
        settings.database_url,
        "SELECT type, envelope->'data'->>'amount' AS amount FROM outbox_events",
    )
    assert [(e["type"], e["amount"]) for e in events] == [("PaymentReceived", "31500")]


async def test_staff_match_a_suspense_deposit_and_payment_received_is_published(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger")
    ns = settings.topic_namespace
    opened = sample_fund_opened()
    fund = opened.fund_id
    placed = _placed(fund, 2, "KM-LATE-9")
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        await publish_events(
            settings.kafka_bootstrap_servers,
            events_topic("onboarding", ns),
            "onboarding",
            str(fund),
            [opened],
        )
        # The payer mistyped the reference: suspense, and nothing matches it later.
        early = await client.post(
            "/deposits", json=_deposit("T-9", 21_000, "KM-LATE-8"), headers=BANK
        )
        assert early.json()["status"] == "suspense"
        await publish_events(
            settings.kafka_bootstrap_servers,
            events_topic("subscription", ns),
            "subscription",
            str(fund),
            [placed],
        )
        await eventually(
            lambda: _count(settings.database_url, "SELECT count(*) AS n FROM expected_payments", 1),
            what="payment expected",
        )
        await eventually(
            lambda: _count(settings.database_url, "SELECT count(*) AS n FROM funds", 1),
            what="the fund known",
        )
        still = (await client.get(f"/deposits/{early.json()['id']}", headers=STAFF)).json()
        assert still["status"] == "suspense", "another reference is not matched by itself"
        matched = await client.post(
            f"/deposits/{early.json()['id']}/match",
            json={
                "subscription_id": str(placed.subscription_id),
                "note": "payer confirmed the reference by phone",
            },
            headers=STAFF,
        )
        again = await client.post(
            f"/deposits/{early.json()['id']}/match",
            json={"subscription_id": str(placed.subscription_id), "note": "twice"},
            headers=STAFF,
        )
        escrow = (await client.get(f"/accounts/fund/{fund}/escrow/balance", headers=STAFF)).json()
        held = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        received = await _read_one(settings.kafka_bootstrap_servers, events_topic("ledger", ns))
    assert matched.status_code == 200, matched.text
    assert matched.json()["status"] == "matched"
    assert matched.json()["subscription_id"] == str(placed.subscription_id)
    assert again.status_code == 409
    assert (escrow["posted"], held["posted"]) == (21_000, 0)
    assert received.type == "PaymentReceived"
    assert received.subject == str(fund)
    assert received.data["subscription_id"] == str(placed.subscription_id)
    assert received.data["amount"] == 21_000


async def _count(url: str, query: str, n: int) -> bool:
    return bool((await fetch(url, query))[0]["n"] >= n)


async def _read_one(bootstrap: str, topic: str) -> Envelope:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[Envelope] = []
    try:

        async def more() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                got.extend(Envelope.from_bytes(r.value or b"") for r in records)
            return bool(got)

        await eventually(more, what=f"an event on {topic}")
    finally:
        await consumer.stop()
    return got[0]


async def test_a_fund_closes_released_less_fees_and_a_failed_one_refunds_everyone(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger")
    ns, bootstrap, db = (
        settings.topic_namespace,
        settings.kafka_bootstrap_servers,
        settings.database_url,
    )
    formed = sample_fund_opened()
    formed = formed.model_copy(
        update={"fees": formed.fees.model_copy(update={"arrangement_fee": 8_000})}
    )
    # A v1 event (published before fees were part of the terms) is still handled.
    v2 = sample_fund_opened()
    failed = FundOpenedV1(**v2.model_dump(include=set(FundOpenedV1.model_fields)))
    subs = {
        "a": _placed(formed.fund_id, 2, "KM-A"),
        "b": _placed(formed.fund_id, 3, "KM-B"),
        "c": _placed(formed.fund_id, 1, "KM-C"),
        "x": _placed(failed.fund_id, 4, "KM-X"),
        "y": _placed(failed.fund_id, 1, "KM-Y"),
    }
    now = datetime.now(UTC)
    cancelled = SubscriptionCancelled(
        subscription_id=subs["c"].subscription_id,
        fund_id=formed.fund_id,
        investor_id=subs["c"].investor_id,
        units=1,
        reason=CancellationReason.COOLING_OFF,
        cancelled_at=now,
    )
    closed_ok = FundClosed(
        fund_id=formed.fund_id,
        msme_id=formed.msme_id,
        outcome=FundOutcome.SUCCEEDED,
        units_confirmed=5,
        amount_raised=50_000,
        handling_fees_collected=2_500,
        currency="JPY",
        investor_count=2,
        closed_at=now,
    )
    closed_failed = FundClosed(
        fund_id=failed.fund_id,
        msme_id=failed.msme_id,
        outcome=FundOutcome.FAILED,
        units_confirmed=5,
        amount_raised=50_000,
        handling_fees_collected=2_500,
        currency="JPY",
        investor_count=2,
        closed_at=now,
    )
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        for fund in (formed, failed):
            await publish_events(
                bootstrap, events_topic("onboarding", ns), "onboarding", str(fund.fund_id), [fund]
            )
        await publish_events(
            bootstrap,
            events_topic("subscription", ns),
            "subscription",
            str(formed.fund_id),
            [subs["a"], subs["b"], subs["c"]],
        )
        await publish_events(
            bootstrap,
            events_topic("subscription", ns),
            "subscription",
            str(failed.fund_id),
            [subs["x"], subs["y"]],
        )
        await eventually(
            lambda: _count(db, "SELECT count(*) AS n FROM expected_payments", 5), what="payments"
        )
        await eventually(lambda: _count(db, "SELECT count(*) AS n FROM funds", 2), what="funds")
        for key, placed in subs.items():
            paid = await client.post(
                "/deposits",
                json=_deposit(f"T-{key}", placed.amount_due, placed.payment_reference),
                headers=BANK,
            )
            assert paid.json()["status"] == "matched", paid.text
        await publish_events(
            bootstrap,
            events_topic("subscription", ns),
            "subscription",
            str(formed.fund_id),
            [cancelled, closed_ok],
            first=4,
        )
        await publish_events(
            bootstrap,
            events_topic("subscription", ns),
            "subscription",
            str(failed.fund_id),
            [closed_failed],
            first=3,
        )
        await eventually(
            lambda: _count(db, "SELECT count(*) AS n FROM funds WHERE status <> 'open'", 2),
            what="both funds closed",
        )
        report = (await client.get(f"/funds/{formed.fund_id}/segregation", headers=STAFF)).json()
        report_failed = (
            await client.get(f"/funds/{failed.fund_id}/segregation", headers=STAFF)
        ).json()

        async def posted(code: str) -> int:
            body = (await client.get(f"/accounts/{code}/balance", headers=STAFF)).json()
            assert "posted" in body, (code, body, report)
            return int(body["posted"])

        payable = await posted(f"msme/{formed.msme_id}/payable")
        fees = await posted("platform/fees")
        refunded_c = await posted(f"investor/{subs['c'].investor_id}/wallet")
        refunded_x = await posted(f"investor/{subs['x'].investor_id}/wallet")
        refunded_y = await posted(f"investor/{subs['y'].investor_id}/wallet")
        paying_back = (await client.get("/payouts", headers=BANK)).json()["items"]
        trial = (await client.get("/trial-balance", headers=STAFF)).json()
    assert report == {
        "fund_id": str(formed.fund_id),
        "status": "released",
        "status_reason": None,
        "currency": "JPY",
        "paid_in": 63_000,
        "refunded": 10_500,
        "released_to_business": 42_000,
        "fees": 10_500,
        "subsidy": 0,
        "reversals_net": 0,
        "balance": 0,
        "agrees_with_postings": True,
    }
    assert (payable, fees) == (42_000, 10_500), "handling fees and the arrangement fee"
    assert (refunded_c, refunded_x, refunded_y) == (10_500, 42_000, 10_500)
    assert sorted(
        (p["beneficiary_id"], p["amount"], p["status"], p["fund_id"]) for p in paying_back
    ) == sorted(
        (str(subs[k].investor_id), subs[k].amount_due, "instructed", str(subs[k].fund_id))
        for k in ("c", "x", "y")
    ), "every refund is paid back through the bank that received it"
    assert report_failed["status"] == "closed_failed"
    assert (report_failed["refunded"], report_failed["balance"]) == (52_500, 0)
    assert trial["balanced"] is True
    events = await fetch(
        db, "SELECT type, count(*) AS n FROM outbox_events GROUP BY type ORDER BY type"
    )
    assert [(e["type"], e["n"]) for e in events] == [
        ("FundsReleased", 1),
        ("PaymentReceived", 5),
        ("PayoutInstructed", 3),
        ("RefundIssued", 3),
    ]


async def test_payouts_are_pending_until_the_bank_confirms_or_fails_them(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger", run_workers=False)
    investor = uuid.uuid4()
    wallet = f"investor/{investor}/wallet"
    me = bearer(Role.INVESTOR, str(investor))
    async with running(service("ledger").create_app(settings)) as client:

        async def book(purpose: str, debit: str, credit: str, amount: int) -> None:
            response = await client.post(
                "/entries",
                json={
                    "purpose": purpose,
                    "description": f"{purpose} for the payout test",
                    "reason": "prize money credited by hand",
                    "postings": [
                        {"account": debit, "direction": "debit", "amount": amount},
                        {"account": credit, "direction": "credit", "amount": amount},
                    ],
                },
                headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 201, response.text

        async def balance(code: str) -> dict[str, Any]:
            body: dict[str, Any] = (
                await client.get(f"/accounts/{code}/balance", headers=STAFF)
            ).json()
            return body

        await book("transfer", "bank/hokkaido-bank/clearing", wallet, 30_000)
        order = {
            "account": wallet,
            "amount": 20_000,
            "bank_id": "hokkaido-bank",
            "reference": "withdrawal",
        }
        first = await client.post("/payouts", json=order, headers={**me, "Idempotency-Key": "w-1"})
        replay = await client.post("/payouts", json=order, headers={**me, "Idempotency-Key": "w-1"})
        theft = await client.post(
            "/payouts",
            json={**order, "account": f"investor/{uuid.uuid4()}/wallet"},
            headers={**me, "Idempotency-Key": "w-2"},
        )
        too_much = await client.post(
            "/payouts", json={**order, "amount": 10_001}, headers={**me, "Idempotency-Key": "w-3"}
        )
        held = await balance(wallet)
        mine = (await client.get("/payouts", headers=BANK)).json()["items"]
        theirs = (await client.get("/payouts", headers=OTHER_BANK)).json()["items"]
        payout_id = first.json()["id"]
        note = {"note": "transfer executed"}
        wrong_bank = await client.post(
            f"/payouts/{payout_id}/confirm", json=note, headers=OTHER_BANK
        )
        by_staff = await client.post(f"/payouts/{payout_id}/confirm", json=note, headers=STAFF)
        by_hand = await client.post(
            f"/entries/{first.json()['pending_entry_id']}/post",
            json={"description": "confirm it here", "reason": "the bank is slow"},
            headers={**STAFF, "Idempotency-Key": "by-hand"},
        )
        confirmed = await client.post(f"/payouts/{payout_id}/confirm", json=note, headers=BANK)
        twice = await client.post(f"/payouts/{payout_id}/fail", json=note, headers=BANK)
        after = await balance(wallet)
        second = await client.post(
            "/payouts", json={**order, "amount": 4_000}, headers={**me, "Idempotency-Key": "w-4"}
        )
        failed = await client.post(
            f"/payouts/{second.json()['id']}/fail", json={"note": "account closed"}, headers=BANK
        )
        restored = await balance(wallet)
        bank = await balance("bank/hokkaido-bank/clearing")
        trial = (await client.get("/trial-balance", headers=STAFF)).json()
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "instructed"
    assert replay.status_code == 200
    assert replay.json()["id"] == payout_id
    assert theft.status_code == 403
    assert too_much.status_code == 409
    assert (held["posted"], held["available"], held["pending_debits"]) == (30_000, 10_000, 20_000)
    assert [p["id"] for p in mine] == [payout_id]
    assert theirs == []
    assert wrong_bank.status_code == 404
    assert wrong_bank.json()["detail"] == "no such payout", "the same answer as for no payout"
    assert by_staff.status_code == 403, "only the bank says whether the money left"
    assert by_hand.status_code == 409
    assert by_hand.json()["type"] == PROBLEM_BASE + "not-manual"
    assert (first.json()["beneficiary"], first.json()["beneficiary_id"]) == (
        "investor",
        str(investor),
    )
    assert confirmed.json()["status"] == "confirmed"
    assert twice.status_code == 409
    assert (after["posted"], after["available"], after["pending_debits"]) == (10_000, 10_000, 0)
    assert failed.json()["status"] == "failed"
    assert (restored["posted"], restored["available"]) == (10_000, 10_000)
    assert bank["posted"] == 10_000, "30,000 received, 20,000 sent"
    assert trial["balanced"] is True


async def test_a_suspense_deposit_is_returned_to_the_payer(settings_for: SettingsFactory) -> None:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        stray = await client.post("/deposits", json=_deposit("T-R", 7_000, "???"), headers=BANK)
        returned = await client.post(
            f"/deposits/{stray.json()['id']}/return",
            json={"note": "no such subscription; payer asked for it back"},
            headers=STAFF,
        )
        again = await client.post(
            f"/deposits/{stray.json()['id']}/return", json={"note": "twice"}, headers=STAFF
        )
        confirm = await client.post(
            f"/payouts/{returned.json()['id']}/confirm", json={"note": "sent back"}, headers=BANK
        )
        deposit = (await client.get(f"/deposits/{stray.json()['id']}", headers=STAFF)).json()
        suspense = (await client.get("/accounts/suspense/balance", headers=STAFF)).json()
        listed = (await client.get("/suspense", headers=STAFF)).json()
    assert returned.status_code == 201, returned.text
    assert returned.json()["deposit_id"] == stray.json()["id"]
    assert (returned.json()["beneficiary"], returned.json()["beneficiary_id"]) == (
        "payer",
        stray.json()["id"],
    )
    assert again.status_code == 409
    assert confirm.json()["status"] == "confirmed"
    assert deposit["status"] == "returned"
    assert (suspense["posted"], suspense["pending_debits"]) == (0, 0)
    assert listed["items"] == []
    instructed = await fetch(
        settings.database_url,
        "SELECT subject, envelope->'data'->>'beneficiary' AS beneficiary, "
        "envelope->'data'->>'bank_id' AS bank FROM outbox_events WHERE type = 'PayoutInstructed'",
    )
    assert [(e["subject"], e["beneficiary"], e["bank"]) for e in instructed] == [
        (returned.json()["id"], "payer", "hokkaido-bank")
    ]


async def test_a_bank_lists_only_its_own_deposits_page_by_page(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        ours = [
            (await client.post("/deposits", json=_deposit(f"O-{n}", 100 + n, "?"), headers=BANK))
            for n in range(5)
        ]
        await client.post("/deposits", json=_deposit("X-1", 999, "?"), headers=OTHER_BANK)
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/deposits", params=params, headers=BANK)).json()
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        prying = await client.get("/deposits", params={"bank_id": "other-bank"}, headers=BANK)
        staff_view = (
            await client.get("/deposits", params={"bank_id": "other-bank"}, headers=STAFF)
        ).json()
        everything = (await client.get("/deposits", headers=STAFF)).json()
        suspense = (await client.get("/suspense", params={"limit": "500"}, headers=STAFF)).json()
        garbage = await client.get("/deposits", params={"cursor": "not-a-cursor"}, headers=BANK)
        investor = await client.get("/deposits", headers=bearer(Role.INVESTOR, "i-1"))
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    listed = [d["id"] for p in pages for d in p["items"]]
    assert listed == [r.json()["id"] for r in ours], "oldest first, each once"
    assert {d["bank_id"] for p in pages for d in p["items"]} == {"hokkaido-bank"}
    assert prying.status_code == 404, "another bank's deposits are not found, not forbidden"
    assert [d["bank_transaction_id"] for d in staff_view["items"]] == ["X-1"]
    assert len(everything["items"]) == 6
    assert everything["next_cursor"] is None
    assert len(suspense["items"]) == 6
    assert garbage.status_code == 422
    assert garbage.json()["type"] == PROBLEM_BASE + "bad-cursor"
    assert investor.status_code == 403
