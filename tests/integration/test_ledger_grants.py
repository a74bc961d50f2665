"""A municipality's grant in the ledger: its share of the arrangement fee is owed by it,
whatever order the grant, the fund's close and the municipality's transfer arrive in;
and the database refuses a release that leaves a held grant out or changes it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from helpers import BANK, STAFF, SettingsFactory, fetch
from kumiai.contracts.onboarding import FundFees, FundOpened
from kumiai.contracts.subscription import FundOutcome, SubscriptionPlaced
from kumiai.contracts.subsidy import RevocationReason, SubsidyGranted, SubsidyRevoked
from kumiai.references import new_reference
from ledger_flows import Ledger, deposit_body, raw_entry

K_CITY = "012025"
FEE = 900_000
GRANT = 800_000
RECEIVABLE = f"municipality/{K_CITY}/receivable"
FEES = FundFees(
    arrangement_fee=FEE,
    operation_fee_rate_ppm=20_000,
    audit_fee_first_year=150_000,
    audit_fee_later_years=100_000,
    success_fee_rate_ppm=20_000,
)


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    async with Ledger.started(settings_for("ledger", run_workers=False)) as running_ledger:
        yield running_ledger


@pytest.fixture
async def db(ledger: Ledger) -> AsyncIterator[asyncpg.Connection]:
    async with ledger.connection() as conn:
        yield conn


def granted(fund: FundOpened, *, lapses: bool = True, amount: int = GRANT) -> SubsidyGranted:
    return SubsidyGranted(
        award_id=uuid.uuid4(),
        programme_id=uuid.uuid4(),
        municipality_code=K_CITY,
        fiscal_year=2015,
        fund_id=fund.fund_id,
        msme_id=fund.msme_id,
        application_id=fund.application_id,
        arrangement_fee=FEE,
        amount=amount,
        payment_reference=new_reference(),
        lapses_if_fund_fails=lapses,
        granted_at=datetime.now(UTC),
    )


def revoked(grant: SubsidyGranted, reason: RevocationReason) -> SubsidyRevoked:
    return SubsidyRevoked(
        award_id=grant.award_id,
        programme_id=grant.programme_id,
        municipality_code=grant.municipality_code,
        fund_id=grant.fund_id,
        msme_id=grant.msme_id,
        amount=grant.amount,
        reason=reason,
        revoked_at=datetime.now(UTC),
    )


async def grant(ledger: Ledger, event: SubsidyGranted) -> None:
    await ledger.flows.deliver("subsidy", str(event.fund_id), event)


async def revoke(ledger: Ledger, event: SubsidyRevoked) -> None:
    await ledger.flows.deliver("subsidy", str(event.fund_id), event)


async def transfer(ledger: Ledger, event: SubsidyGranted, amount: int = GRANT) -> dict[str, Any]:
    """The municipality's bank transfer, reported by the partner bank that received it."""
    response = await ledger.client.post(
        "/deposits",
        json=deposit_body(f"K-{uuid.uuid4()}", amount, event.payment_reference),
        headers=BANK,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def formed_fund(ledger: Ledger) -> tuple[FundOpened, list[SubscriptionPlaced]]:
    fund = await ledger.flows.open_fund(fees=FEES)
    paid = [(await ledger.paid_subscription(fund, 50))[0] for _ in range(2)]
    return fund, paid


async def events(ledger: Ledger, kind: str) -> list[dict[str, Any]]:
    rows = await fetch(
        ledger.url, "SELECT envelope FROM outbox_events WHERE type = $1 ORDER BY seq", kind
    )
    return [json.loads(r["envelope"])["data"] for r in rows]


async def test_the_release_books_the_municipalitys_share_and_its_early_transfer_pays_it(
    ledger: Ledger,
) -> None:
    fund, paid = await formed_fund(ledger)
    event = granted(fund)
    await grant(ledger, event)
    await grant(ledger, event)  # a redelivery changes nothing
    early = await transfer(ledger, event)
    assert (early["status"], early["reason"]) == (
        "suspense",
        f"grant {event.award_id} is not owed until its fund is released",
    )
    short = await transfer(ledger, event, GRANT - 1)
    assert short["status"] == "suspense"
    await ledger.flows.close(fund, FundOutcome.SUCCEEDED, paid)

    gross = sum(p.amount_due for p in paid)
    handling = sum(p.units for p in paid) * fund.handling_fee_per_unit
    assert await ledger.posted(f"msme/{fund.msme_id}/payable") == gross - handling - (FEE - GRANT)
    assert await ledger.posted("platform/fees") == handling + FEE
    assert await ledger.posted(RECEIVABLE) == 0  # booked at release, paid from suspense
    assert await ledger.posted("suspense") == GRANT - 1  # the short one waits for staff
    report = (await ledger.client.get(f"/funds/{fund.fund_id}/segregation", headers=STAFF)).json()
    assert (report["fees"], report["subsidy"]) == (handling + FEE - GRANT, GRANT)
    assert report["released_to_business"] == gross - handling - (FEE - GRANT)
    released = await events(ledger, "FundsReleased")
    assert (released[0]["fees_amount"], released[0]["net_amount"]) == (
        handling + FEE - GRANT,
        gross - handling - (FEE - GRANT),
    )
    [paid_event] = await events(ledger, "SubsidyPaid")
    assert (paid_event["award_id"], paid_event["amount"], paid_event["deposit_id"]) == (
        str(event.award_id),
        GRANT,
        early["id"],
    )
    again = await transfer(ledger, event)
    assert (again["status"], again["reason"]) == (
        "suspense",
        f"grant {event.award_id} is paid, not awaited",
    )
    trial = (await ledger.client.get("/trial-balance", headers=STAFF)).json()
    assert trial["balanced"] is True


async def test_a_grant_heard_after_the_release_returns_the_share_to_the_business(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund(fees=FEES)
    paid = [(await ledger.paid_subscription(fund, 50))[0] for _ in range(2)]
    await ledger.flows.close(fund, FundOutcome.SUCCEEDED, paid)
    payable = f"msme/{fund.msme_id}/payable"
    before = await ledger.posted(payable)
    event = granted(fund)
    await grant(ledger, event)
    assert await ledger.posted(payable) == before + GRANT
    assert await ledger.posted(RECEIVABLE) == GRANT
    settled = await transfer(ledger, event)
    assert (settled["status"], settled["reason"]) == ("matched", None)
    assert await ledger.posted(RECEIVABLE) == 0
    assert len(await events(ledger, "SubsidyPaid")) == 1


async def test_a_failed_funds_grant_lapses_or_stays_owed_as_the_fee(ledger: Ledger) -> None:
    lapsing, kept = [await ledger.flows.open_fund(fees=FEES) for _ in range(2)]
    lapsing_grant, kept_grant = granted(lapsing), granted(kept, lapses=False)
    await grant(ledger, lapsing_grant)
    for fund in (lapsing, kept):
        placed, _ = await ledger.paid_subscription(fund, 10)
        await ledger.flows.close(fund, FundOutcome.FAILED, [placed])
    await grant(ledger, kept_grant)  # heard after the failure: booked at once
    assert await ledger.posted("platform/fees") == GRANT
    assert await ledger.posted(RECEIVABLE) == GRANT
    rows = await fetch(ledger.url, "SELECT award_id, status FROM grants")
    assert {(r["award_id"], r["status"]) for r in rows} == {
        (kept_grant.award_id, "booked"),
        (lapsing_grant.award_id, "lapsed"),
    }
    lapsed = await transfer(ledger, lapsing_grant)
    assert lapsed["reason"] == f"grant {lapsing_grant.award_id} is lapsed, not awaited"
    await transfer(ledger, kept_grant)
    assert await ledger.posted(RECEIVABLE) == 0


async def test_a_revoked_grant_is_owed_by_the_business_until_paid_and_kept_once_paid(
    ledger: Ledger,
) -> None:
    unpaid_fund, unpaid_paid = await formed_fund(ledger)
    paid_fund, paid_paid = await formed_fund(ledger)
    unpaid, settled = granted(unpaid_fund), granted(paid_fund)
    for event, fund, subscriptions in (
        (unpaid, unpaid_fund, unpaid_paid),
        (settled, paid_fund, paid_paid),
    ):
        await grant(ledger, event)
        await ledger.flows.close(fund, FundOutcome.SUCCEEDED, subscriptions)
    await transfer(ledger, settled)
    assert await ledger.posted(RECEIVABLE) == GRANT
    await revoke(ledger, revoked(unpaid, RevocationReason.REVOKED))
    await revoke(ledger, revoked(settled, RevocationReason.REVOKED))
    assert await ledger.posted(RECEIVABLE) == 0
    assert await ledger.posted(f"msme/{unpaid_fund.msme_id}/receivable") == GRANT
    assert await ledger.posted(f"msme/{paid_fund.msme_id}/receivable") == 0
    late = await transfer(ledger, unpaid)
    assert late["reason"] == f"grant {unpaid.award_id} is revoked, not awaited"
    rows = await fetch(ledger.url, "SELECT status, revoked_at IS NOT NULL AS r FROM grants")
    assert sorted((r["status"], r["r"]) for r in rows) == [("paid", True), ("revoked", True)]

    # A grant withdrawn before its fund closes is forgotten: the business pays the whole fee.
    fund, subscriptions = await formed_fund(ledger)
    forgotten = granted(fund)
    await grant(ledger, forgotten)
    await revoke(ledger, revoked(forgotten, RevocationReason.REVOKED))
    await ledger.flows.close(fund, FundOutcome.SUCCEEDED, subscriptions)
    gross = sum(p.amount_due for p in subscriptions)
    handling = sum(p.units for p in subscriptions) * fund.handling_fee_per_unit
    assert await ledger.posted(f"msme/{fund.msme_id}/payable") == gross - handling - FEE


async def test_the_database_refuses_a_release_that_leaves_out_or_changes_a_held_grant(
    ledger: Ledger, db: asyncpg.Connection
) -> None:
    fund, paid = await formed_fund(ledger)
    await grant(ledger, granted(fund))
    await db.execute("UPDATE funds SET status = 'formed' WHERE fund_id = $1", fund.fund_id)
    gross = sum(p.amount_due for p in paid)
    handling = sum(p.units for p in paid) * fund.handling_fee_per_unit
    escrow, payable = f"fund/{fund.fund_id}/escrow", f"msme/{fund.msme_id}/payable"
    fees = ("platform/fees", "credit", handling + FEE)
    ref = ("fund", str(fund.fund_id))
    for legs in (
        [(escrow, "debit", gross), (payable, "credit", gross - handling - FEE), fees],
        [
            (escrow, "debit", gross),
            (RECEIVABLE, "debit", GRANT + 1),
            (payable, "credit", gross - handling - FEE + GRANT + 1),
            fees,
        ],
        [
            (escrow, "debit", gross),
            ("municipality/011002/receivable", "debit", GRANT),
            (payable, "credit", gross - handling - FEE + GRANT),
            fees,
        ],
    ):
        with pytest.raises(asyncpg.CheckViolationError, match="books the grant held for it"):
            await raw_entry(db, legs, purpose="release", reference=ref)
    await raw_entry(
        db,
        [
            (escrow, "debit", gross),
            (RECEIVABLE, "debit", GRANT),
            (payable, "credit", gross - handling - FEE + GRANT),
            fees,
        ],
        purpose="release",
        reference=ref,
    )
    assert await ledger.posted(RECEIVABLE) == GRANT
