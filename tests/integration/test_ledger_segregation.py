"""A fund's money moves only through the business flows, in the code and in the database.

The review's attacks: debiting an escrow by calling the entry a "reversal",
crediting an escrow from a bank with no subscription behind it, crediting a
business's payable as a "release" before its fund formed, crediting anyone's
wallet as a "refund". Each is refused over HTTP, and again by the database
(``postings_apply`` trigger) when written past the code.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.contracts.subscription import FundOutcome
from kumiai.errors import PROBLEM_BASE
from ledger_flows import Ledger, raw_entry

CLEARING = "bank/hokkaido-bank/clearing"


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    async with Ledger.started(settings_for("ledger", run_workers=False)) as running_ledger:
        yield running_ledger


@pytest.fixture
async def db(ledger: Ledger) -> AsyncIterator[asyncpg.Connection]:
    async with ledger.connection() as conn:
        yield conn


def manual(purpose: str, *legs: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "description": f"{purpose} by hand",
        "reason": "a staff member tries it",
        "postings": [{"account": a, "direction": d, "amount": n} for a, d, n in legs],
        **extra,
    }


async def post(client: httpx.AsyncClient, body: dict[str, Any], path: str = "/entries") -> Any:
    return await client.post(
        path, json=body, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}
    )


async def test_a_reversal_label_moves_no_escrow_money(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    fund = await ledger.flows.open_fund()
    _, deposit = await ledger.paid_subscription(fund)
    escrow = f"fund/{fund.fund_id}/escrow"
    mine = f"investor/{uuid.uuid4()}/wallet"
    labelled = await post(
        ledger.client, manual("reversal", (escrow, "debit", 10_500), (mine, "credit", 10_500))
    )
    reversed_deposit = await post(
        ledger.client,
        {"description": "undo the deposit", "reason": "wrong fund"},
        path=f"/entries/{deposit['entry_id']}/reverse",
    )
    assert labelled.status_code == 422
    assert "body.purpose" in labelled.text
    assert reversed_deposit.status_code == 409
    assert reversed_deposit.json()["type"] == PROBLEM_BASE + "not-manual"
    with pytest.raises(asyncpg.CheckViolationError, match="segregation"):
        await raw_entry(
            db,
            [(escrow, "debit", 10_500), (CLEARING, "credit", 10_500)],
            purpose="reversal",
            origin="manual",
            entry_type="reversal",
            resolves=uuid.UUID(deposit["entry_id"]),
            reference=("entry", deposit["entry_id"]),
        )
    with pytest.raises(asyncpg.CheckViolationError, match="segregation"):
        await raw_entry(
            db, [(escrow, "debit", 10_500), (mine, "credit", 10_500)], purpose="reversal"
        )
    assert await ledger.posted(escrow) == 10_500
    assert await ledger.posted(mine) == 0


async def test_escrow_is_credited_only_for_a_subscription_it_awaits(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    fund = await ledger.flows.open_fund()
    other_fund = await ledger.flows.open_fund()
    awaited = await ledger.flows.subscribe(fund, 2)
    elsewhere = await ledger.flows.subscribe(other_fund, 2)
    already, _ = await ledger.paid_subscription(fund, 1)
    escrow = f"fund/{fund.fund_id}/escrow"
    wallet = f"investor/{uuid.uuid4()}/wallet"
    await post(
        ledger.client, manual("transfer", (CLEARING, "debit", 50_000), (wallet, "credit", 50_000))
    )
    by_hand = await post(
        ledger.client, manual("transfer", (CLEARING, "debit", 21_000), (escrow, "credit", 21_000))
    )
    assert by_hand.status_code == 422
    assert by_hand.json()["type"] == PROBLEM_BASE + "segregation"

    pay = [(CLEARING, "debit", 21_000), (escrow, "credit", 21_000)]
    for legs, reference, why in [
        (pay, None, "must name the subscription"),
        (pay, ("subscription", str(elsewhere.subscription_id)), "not one of fund"),
        (pay, ("subscription", str(uuid.uuid4())), "not one of fund"),
        (
            [(CLEARING, "debit", 20_000), (escrow, "credit", 20_000)],
            ("subscription", str(awaited.subscription_id)),
            "awaits no payment",
        ),
        (
            [(wallet, "debit", 21_000), (escrow, "credit", 21_000)],
            ("subscription", str(awaited.subscription_id)),
            "clearing account or suspense",
        ),
    ]:
        with pytest.raises(asyncpg.CheckViolationError, match=why):
            await raw_entry(db, legs, purpose="deposit", reference=reference)
    with pytest.raises(asyncpg.UniqueViolationError, match="payment_once"):
        await raw_entry(
            db, pay, purpose="deposit", reference=("subscription", str(already.subscription_id))
        )
    with pytest.raises(asyncpg.CheckViolationError, match="manual_purposes"):
        await raw_entry(
            db,
            pay,
            purpose="deposit",
            origin="manual",
            reference=("subscription", str(awaited.subscription_id)),
        )
    with pytest.raises(asyncpg.CheckViolationError, match="segregation"):
        await raw_entry(db, pay, purpose="transfer", origin="manual")
    # The flow's own entry passes, once.
    reference = ("subscription", str(awaited.subscription_id))
    await raw_entry(db, pay, purpose="deposit", reference=reference)
    with pytest.raises(asyncpg.UniqueViolationError, match="payment_once"):
        await raw_entry(db, pay, purpose="deposit", reference=reference)
    assert await ledger.posted(escrow) == already.amount_due + 21_000


async def test_a_payable_is_credited_from_escrow_only_by_the_release_of_its_formed_fund(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    fund = await ledger.flows.open_fund()
    first, _ = await ledger.paid_subscription(fund, 2)
    second, _ = await ledger.paid_subscription(fund, 1)
    escrow = f"fund/{fund.fund_id}/escrow"
    payable = f"msme/{fund.msme_id}/payable"
    stranger = f"msme/{uuid.uuid4()}/payable"
    gross = first.amount_due + second.amount_due
    fees = (first.units + second.units) * fund.handling_fee_per_unit
    labelled = await post(
        ledger.client, manual("release", (escrow, "debit", gross), (payable, "credit", gross))
    )
    assert labelled.status_code == 422
    await post(ledger.client, manual("transfer", (CLEARING, "debit", 1), (stranger, "credit", 1)))
    release = [
        (escrow, "debit", gross),
        (payable, "credit", gross - fees),
        ("platform/fees", "credit", fees),
    ]
    ref = ("fund", str(fund.fund_id))
    with pytest.raises(asyncpg.CheckViolationError, match="has not formed"):
        await raw_entry(db, release, purpose="release", reference=ref)
    # Past the closing, on the way to releasing: the flow writes "formed" first.
    await db.execute("UPDATE funds SET status = 'formed' WHERE fund_id = $1", fund.fund_id)
    for legs, reference, why in [
        (
            [
                (escrow, "debit", gross),
                (stranger, "credit", gross - fees),
                ("platform/fees", "credit", fees),
            ],
            ref,
            "its own business",
        ),
        (
            [(escrow, "debit", gross), (payable, "credit", gross)],
            ref,
            "keeps",
        ),
        (
            [
                (escrow, "debit", gross - 1),
                (payable, "credit", gross - fees - 1),
                ("platform/fees", "credit", fees),
            ],
            ref,
            "takes out",
        ),
        (release, ("fund", str(uuid.uuid4())), "pays its business and the fees only"),
        (
            [
                (escrow, "debit", gross),
                (payable, "credit", gross - fees - 1),
                ("platform/fees", "credit", fees),
                (CLEARING, "credit", 1),
            ],
            ref,
            "pays its business and the fees only",
        ),
    ]:
        with pytest.raises(asyncpg.CheckViolationError, match=why):
            await raw_entry(db, legs, purpose="release", reference=reference)
    await raw_entry(db, release, purpose="release", reference=ref)
    with pytest.raises(asyncpg.UniqueViolationError, match="release_once"):
        await raw_entry(db, release, purpose="release", reference=ref)
    assert await ledger.posted(payable) == gross - fees
    assert await ledger.posted(stranger) == 1


async def test_the_closing_flow_releases_once_to_the_funds_own_business(ledger: Ledger) -> None:
    fund = await ledger.flows.open_fund()
    placed, _ = await ledger.paid_subscription(fund, 3)
    await ledger.flows.close(fund, FundOutcome.SUCCEEDED, [placed])
    await ledger.flows.close(fund, FundOutcome.SUCCEEDED, [placed])
    payable = f"msme/{fund.msme_id}/payable"
    fees = 3 * fund.handling_fee_per_unit + fund.fees.arrangement_fee
    assert await ledger.posted(payable) == placed.amount_due - fees
    assert await ledger.posted(f"fund/{fund.fund_id}/escrow") == 0
    rows = await fetch(
        ledger.url,
        "SELECT count(*) AS n, min(origin) AS origin FROM journal_entries "
        "WHERE purpose = 'release'",
    )
    assert (rows[0]["n"], rows[0]["origin"]) == (1, "flow")


async def test_a_refund_goes_to_its_payer_for_exactly_what_was_paid(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    fund = await ledger.flows.open_fund()
    placed, _ = await ledger.paid_subscription(fund, 2)
    unpaid = await ledger.flows.subscribe(fund, 2)
    escrow = f"fund/{fund.fund_id}/escrow"
    payer = f"investor/{placed.investor_id}/wallet"
    thief = f"investor/{uuid.uuid4()}/wallet"
    await post(ledger.client, manual("transfer", (CLEARING, "debit", 1), (thief, "credit", 1)))
    await post(ledger.client, manual("transfer", (CLEARING, "debit", 1), (payer, "credit", 1)))
    labelled = await post(
        ledger.client, manual("refund", (escrow, "debit", 21_000), (thief, "credit", 21_000))
    )
    assert labelled.status_code == 422
    ref = ("subscription", str(placed.subscription_id))
    for legs, reference, why in [
        ([(escrow, "debit", 21_000), (thief, "credit", 21_000)], ref, "payer's wallet"),
        ([(escrow, "debit", 10_000), (payer, "credit", 10_000)], ref, "exactly"),
        (
            [(escrow, "debit", 21_000), (payer, "credit", 21_000)],
            None,
            "must name the subscription",
        ),
        (
            [
                (escrow, "debit", 21_000),
                (f"investor/{unpaid.investor_id}/wallet", "credit", 21_000),
            ],
            ("subscription", str(unpaid.subscription_id)),
            "exactly what was paid",
        ),
    ]:
        with pytest.raises(asyncpg.CheckViolationError, match=why):
            await raw_entry(db, legs, purpose="refund", reference=reference)
    assert await ledger.posted(escrow) == 21_000
    assert await ledger.posted(thief) == 1


async def test_manual_entries_need_a_reason_and_a_manual_purpose(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    wallet = f"investor/{uuid.uuid4()}/wallet"
    legs = ((CLEARING, "debit", 100), (wallet, "credit", 100))
    unexplained = manual("adjustment", *legs)
    del unexplained["reason"]
    missing = await post(ledger.client, unexplained)
    for purpose in ("deposit", "refund", "release", "payout", "fee", "subsidy", "reversal"):
        refused = await post(ledger.client, manual(purpose, *legs))
        assert refused.status_code == 422, purpose
        assert refused.json()["invalid_params"][0]["name"] == "body.purpose"
    kept = await post(ledger.client, manual("adjustment", *legs))
    assert missing.status_code == 422
    assert [p["name"] for p in missing.json()["invalid_params"]] == ["body.reason"]
    assert kept.status_code == 201
    stored = await fetch(
        ledger.url,
        "SELECT origin, reason, purpose FROM journal_entries WHERE id = $1",
        uuid.UUID(kept.json()["id"]),
    )
    assert [tuple(r) for r in stored] == [("manual", "a staff member tries it", "adjustment")]
    for origin, purpose, reason, constraint in [
        ("manual", "deposit", "by hand", "manual_purposes"),
        ("manual", "transfer", None, "manual_entries_give_a_reason"),
        ("flow", "deposit", "by hand", "manual_entries_give_a_reason"),
        ("robot", "transfer", None, "origin_known"),
    ]:
        with pytest.raises(asyncpg.CheckViolationError, match=constraint):
            await db.execute(
                "INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type,"
                " purpose, effective_date, description, created_by, origin, reason)"
                " VALUES ($1, $2, '', 'standard', $3, current_date, 'raw', 'test', $4, $5)",
                uuid.uuid4(),
                str(uuid.uuid4()),
                purpose,
                origin,
                reason,
            )


async def test_only_manual_pending_entries_are_resolved_through_entries(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    wallet_owner = uuid.uuid4()
    wallet = f"investor/{wallet_owner}/wallet"
    await post(
        ledger.client, manual("transfer", (CLEARING, "debit", 9_000), (wallet, "credit", 9_000))
    )
    payout = await ledger.client.post(
        "/payouts",
        json={"account": wallet, "amount": 4_000, "bank_id": "hokkaido-bank", "reference": "x"},
        headers={**STAFF, "Idempotency-Key": "p-1"},
    )
    pending = payout.json()["pending_entry_id"]
    note = {"description": "settle it here", "reason": "bank called"}
    posted = await post(ledger.client, note, path=f"/entries/{pending}/post")
    voided = await post(ledger.client, note, path=f"/entries/{pending}/void")
    assert posted.status_code == voided.status_code == 409
    assert posted.json()["type"] == voided.json()["type"] == PROBLEM_BASE + "not-manual"
    # Past the code: a manual resolution of the payout's pending entry, or one that
    # settles other amounts than were held.
    with pytest.raises(asyncpg.CheckViolationError, match="resolution"):
        await raw_entry(
            db,
            [(wallet, "debit", 4_000), (CLEARING, "credit", 4_000)],
            purpose="transfer",
            origin="manual",
            entry_type="void_pending",
            resolves=uuid.UUID(pending),
            status="release",
        )
    with pytest.raises(asyncpg.CheckViolationError, match="resolution"):
        await raw_entry(
            db,
            [(wallet, "debit", 1_000), (CLEARING, "credit", 1_000)],
            purpose="payout",
            entry_type="void_pending",
            resolves=uuid.UUID(pending),
            status="release",
        )
    held = (await ledger.client.get(f"/accounts/{wallet}/balance", headers=STAFF)).json()
    assert (held["posted"], held["pending_debits"]) == (9_000, 4_000)
    confirmed = await ledger.client.post(
        f"/payouts/{payout.json()['id']}/confirm", json={"note": "sent"}, headers=BANK
    )
    assert confirmed.json()["status"] == "confirmed"


async def test_a_reversal_mirrors_its_original_exactly(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    wallet = f"investor/{uuid.uuid4()}/wallet"
    other = f"investor/{uuid.uuid4()}/wallet"
    await post(ledger.client, manual("transfer", (CLEARING, "debit", 1), (other, "credit", 1)))
    original = (
        await post(
            ledger.client, manual("transfer", (CLEARING, "debit", 5_000), (wallet, "credit", 5_000))
        )
    ).json()
    original_id = uuid.UUID(original["id"])
    for legs in [
        [(wallet, "debit", 4_999), (CLEARING, "credit", 4_999)],
        [(other, "debit", 1), (CLEARING, "credit", 1)],
        [(CLEARING, "debit", 5_000), (wallet, "credit", 5_000)],
        [(wallet, "debit", 5_000), (CLEARING, "credit", 4_999), (other, "credit", 1)],
    ]:
        with pytest.raises(asyncpg.CheckViolationError, match="does not mirror"):
            await raw_entry(
                db,
                legs,
                purpose="reversal",
                origin="manual",
                entry_type="reversal",
                resolves=original_id,
                reference=("entry", original["id"]),
            )
    with pytest.raises(asyncpg.CheckViolationError, match="reversal_names_its_original"):
        await raw_entry(
            db,
            [(wallet, "debit", 5_000), (CLEARING, "credit", 5_000)],
            purpose="reversal",
            origin="manual",
            entry_type="reversal",
        )
    await raw_entry(
        db,
        [(wallet, "debit", 5_000), (CLEARING, "credit", 5_000)],
        purpose="reversal",
        origin="manual",
        entry_type="reversal",
        resolves=original_id,
        reference=("entry", original["id"]),
    )
    assert await ledger.posted(wallet) == 0


async def test_a_distribution_account_moves_only_for_its_declared_distribution(
    db: asyncpg.Connection,
) -> None:
    fund, msme, investor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    account = f"fund/{fund}/distribution"
    reference = ("distribution", f"{fund}/1")
    await db.execute(
        "INSERT INTO distributions (fund_id, period_number, msme_id, currency, business_owes,"
        " fees_total, success_fee, total_gross, total_tax, total_net, investor_count, batches,"
        " payment_reference, reference_normalised, status, declared_at)"
        " VALUES ($1, 1, $2, 'JPY', 1000, 0, 0, 1000, 0, 1000, 1, 1, 'R', 'R', 'declared', now())",
        fund,
        msme,
    )
    await db.execute(
        "INSERT INTO distribution_lines (fund_id, period_number, investor_id, batch, units,"
        " gross, tax, net) VALUES ($1, 1, $2, 1, 1, 1000, 0, 1000)",
        fund,
        investor,
    )

    async def refused(legs: Sequence[tuple[str, str, int]], match: str, **kw: Any) -> None:
        with pytest.raises(asyncpg.CheckViolationError, match=match):
            await raw_entry(db, legs, **kw)

    pay = [(CLEARING, "debit", 1000), (account, "credit", 1000)]
    await refused(
        [(CLEARING, "debit", 999), (account, "credit", 999)],
        "awaits no payment",
        purpose="deposit",
        reference=reference,
    )
    await refused(
        pay,
        "only its distributions",
        purpose="deposit",
        reference=("subscription", str(uuid.uuid4())),
    )
    await refused(
        pay,
        "only its distributions",
        purpose="deposit",
        reference=("distribution", f"{uuid.uuid4()}/1"),
    )
    await raw_entry(db, pay, purpose="deposit", reference=reference)
    with pytest.raises(asyncpg.UniqueViolationError):
        await raw_entry(db, pay, purpose="deposit", reference=reference)
    wallet = f"investor/{investor}/wallet"
    out = [(account, "debit", 1000), (wallet, "credit", 1000)]
    await refused(out, "not funded", purpose="distribution", reference=reference)
    await db.execute("UPDATE distributions SET status = 'funded' WHERE fund_id = $1", fund)
    stranger = f"investor/{uuid.uuid4()}/wallet"
    await refused(
        [(account, "debit", 1000), (stranger, "credit", 1000)],
        "pays only its investors",
        purpose="distribution",
        reference=reference,
    )
    await refused(
        [(account, "debit", 1000), (f"msme/{msme}/payable", "credit", 1000)],
        "pays only its investors",
        purpose="distribution",
        reference=reference,
    )
    await refused(out, "may not move the distribution money", purpose="refund", reference=reference)
    escrow = f"fund/{fund}/escrow"
    await refused(
        [(escrow, "debit", 1000), (wallet, "credit", 1000)],
        "only its distributions",
        purpose="distribution",
        reference=reference,
    )
    await raw_entry(db, out, purpose="distribution", reference=reference)
    # Nothing more leaves than was paid in: the account may not go below zero.
    with pytest.raises(asyncpg.PostgresError, match="balance"):
        await raw_entry(db, out, purpose="distribution", reference=reference)
