"""A partner bank's referrals over the real broker: the businesses it referred, their
pipeline step and their funds, whose outcome onboarding learns from ``FundClosed``, with
capital-like debt (ECLDB) eligibility, as JSON and as a CSV file Excel opens in Japanese."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from helpers import (
    BANK,
    OTHER_BANK,
    STAFF,
    SettingsFactory,
    apply,
    call,
    fetch,
    publish_events,
    publish_referred,
    register,
)
from kumiai.auth import Role
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.periods import japan_date
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running


def _closed(fund: dict[str, Any], outcome: FundOutcome, at: datetime) -> FundClosed:
    succeeded = outcome is FundOutcome.SUCCEEDED
    return FundClosed(
        fund_id=uuid.UUID(fund["id"]),
        msme_id=uuid.UUID(fund["msme_id"]),
        outcome=outcome,
        units_confirmed=400 if succeeded else 0,
        amount_raised=4_000_000 if succeeded else 0,
        handling_fees_collected=200_000 if succeeded else 0,
        investor_count=40 if succeeded else 0,
        closed_at=at,
    )


async def _closed_fund(client: httpx.AsyncClient, fund_id: str) -> dict[str, Any] | None:
    fund: dict[str, Any] = await call(client, "GET", f"/funds/{fund_id}", headers=STAFF)
    return fund if fund["status"] == "closed_succeeded" else None


def _closing_of(
    client: httpx.AsyncClient, fund_id: str
) -> Callable[[], Awaitable[dict[str, Any] | None]]:
    return lambda: _closed_fund(client, fund_id)


def _rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_a_bank_reads_its_referrals_with_each_funds_eligibility_as_json_and_csv(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", min_offering_days=0)
    app = service("onboarding").create_app(settings)
    closed_at = datetime.now(UTC) - timedelta(minutes=5)
    as_of = japan_date(closed_at)
    async with running(app) as client:
        brewery = await register(client, BANK)
        farm = await register(client, BANK)
        farm_application = await apply(client, farm["id"], BANK)
        await register(client, STAFF)  # not the bank's referral
        long = await publish_referred(
            client, brewery["id"], BANK, name="=酒蔵の再建 Sake brewery", term_months=72
        )
        short = await publish_referred(
            client, brewery["id"], BANK, name="Tasting room", term_months=48
        )
        topic = events_topic("subscription", settings.topic_namespace)
        bootstrap = settings.kafka_bootstrap_servers
        # The long fund's closing is announced twice (a second announcement, as after a
        # producer's replay, must change nothing); the short fund forms too.
        again = _closed(long, FundOutcome.FAILED, closed_at + timedelta(days=1))
        await publish_events(
            bootstrap,
            topic,
            "subscription",
            long["id"],
            [_closed(long, FundOutcome.SUCCEEDED, closed_at), again],
        )
        await publish_events(
            bootstrap,
            topic,
            "subscription",
            short["id"],
            [_closed(short, FundOutcome.SUCCEEDED, closed_at)],
        )
        for fund_id in (long["id"], short["id"]):
            await eventually(_closing_of(client, fund_id), what="the closing")
        await eventually(
            lambda: _handled(settings.database_url, 3), what="every announcement handled"
        )
        path = "/banks/hokkaido-bank/referrals"
        page = await call(client, "GET", path, params={"as_of": as_of.isoformat()}, headers=BANK)
        today = await call(client, "GET", path, headers=BANK)
        staff = await call(client, "GET", path, params={"as_of": as_of.isoformat()}, headers=STAFF)
        five_years_on = await call(
            client,
            "GET",
            path,
            params={"as_of": (as_of + timedelta(days=365 * 5)).isoformat()},
            headers=BANK,
        )
        paged = await call(client, "GET", path, params={"limit": 1}, headers=BANK)
        next_page = await call(
            client,
            "GET",
            path,
            params={"limit": 1, "cursor": paged["next_cursor"]},
            headers=BANK,
        )
        sheet = await client.get(f"{path}.csv", params={"as_of": as_of.isoformat()}, headers=BANK)
        staff_sheet = await client.get(f"{path}.csv", headers=STAFF)
        other_bank = await client.get(path, headers=OTHER_BANK)
        other_bank_csv = await client.get(f"{path}.csv", headers=OTHER_BANK)
        business = await client.get(path, headers=bearer(Role.MSME, brewery["id"]))
        unknown = await client.get("/banks/no-such-bank/referrals", headers=STAFF)
        municipality = await client.get("/banks/012025/referrals", headers=STAFF)
        other_banks_own = await call(
            client, "GET", "/banks/other-bank/referrals", headers=OTHER_BANK
        )
        stored = await fetch(
            settings.database_url,
            "SELECT status, amount_raised, closed_at FROM funds WHERE id = $1",
            uuid.UUID(long["id"]),
        )

    # JSON: the two businesses the bank referred, oldest first; not the staff's.
    assert [r["msme_id"] for r in page["items"]] == [brewery["id"], farm["id"]]
    assert page["next_cursor"] is None
    first, second = page["items"]
    assert first["company_name"] == brewery["company_name"]
    assert first["corporate_number"] == brewery["corporate_number"]
    assert first["municipality_code"] == "012025"
    assert first["latest_application"]["step"] == "ready"
    assert first["latest_application"]["id"] == short["application_id"]
    eligible, too_short = first["funds"]
    assert eligible["id"] == long["id"]
    assert eligible["status"] == "closed_succeeded"
    assert (eligible["amount_raised"], eligible["currency"]) == (4_000_000, "JPY")
    assert eligible["term_months"] == 72
    assert eligible["formed_on"] == as_of.isoformat()
    assert eligible["remaining_term_months"] == 72
    assert eligible["subordinated"] is True
    assert eligible["ecldb"]["eligible"] is True
    assert [r["code"] for r in eligible["ecldb"]["reasons"]] == [
        "formed",
        "long_term",
        "subordinated",
        "performance_linked",
        "no_collateral",
    ]
    assert too_short["ecldb"]["eligible"] is False
    assert too_short["ecldb"]["reasons"][0]["code"] == "term_too_short"
    assert too_short["ecldb"]["reasons"][0]["met"] is False
    assert too_short["remaining_term_months"] == 48
    assert second["funds"] == []
    assert second["latest_application"]["id"] == farm_application["id"]
    assert second["latest_application"]["step"] == "initial_meeting", "a referral's first step"
    # Today (in Japan) is the default reporting date; staff read the same list.
    assert today["items"][0]["funds"][0]["ecldb"]["eligible"] is True
    assert staff == page
    # Five years on, less than five years of the 72-month term remain.
    later = five_years_on["items"][0]["funds"][0]
    assert later["remaining_term_months"] == 12
    assert later["ecldb"]["reasons"][0]["code"] == "term_too_short"
    # A page at a time.
    assert [r["msme_id"] for r in paged["items"] + next_page["items"]] == [
        brewery["id"],
        farm["id"],
    ]
    # The second announcement changed nothing.
    assert [(r["status"], r["amount_raised"]) for r in stored] == [("closed_succeeded", 4_000_000)]
    assert stored[0]["closed_at"] == closed_at

    # CSV: a record per fund and one for the business without a fund.
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert sheet.headers["content-disposition"] == (
        f"attachment; filename*=UTF-8''referrals-hokkaido-bank-{as_of.isoformat()}.csv"
    )
    assert sheet.content.startswith("\ufeff".encode())
    assert b"\r\n" in sheet.content
    assert b"\n" not in sheet.content.replace(b"\r\n", b"")
    header, *records = _rows(sheet)
    column = {name: n for n, name in enumerate(header)}
    assert header[:3] == ["基準日", "事業者ID", "会社名"]
    assert [(r[column["事業者ID"]], r[column["ファンドID"]]) for r in records] == [
        (brewery["id"], long["id"]),
        (brewery["id"], short["id"]),
        (farm["id"], ""),
    ]
    long_row, short_row, farm_row = records
    assert long_row[column["ファンド名"]] == "'=酒蔵の再建 Sake brewery", "no formula runs"
    assert long_row[column["資本性借入金"]] == "該当"
    assert long_row[column["調達額"]] == "4000000"
    assert long_row[column["成立日"]] == as_of.isoformat()
    assert short_row[column["資本性借入金"]] == "非該当"
    assert short_row[column["理由コード"]].split()[0] == "term_too_short"
    assert farm_row[column["審査段階"]] == "初回面談"
    assert farm_row[column["資本性借入金"]] == ""
    assert staff_sheet.status_code == 200
    assert len(_rows(staff_sheet)) == 4

    # Another bank is told there is no such bank; a business may not ask at all.
    assert other_bank.status_code == 404
    assert other_bank.json()["detail"] == "no bank hokkaido-bank"
    assert other_bank_csv.status_code == 404
    assert business.status_code == 403
    assert unknown.status_code == 404
    assert municipality.status_code == 404, "a municipality is no bank"
    assert other_banks_own["items"] == []


async def _handled(url: str, wanted: int) -> bool:
    rows = await fetch(url, "SELECT count(*) FROM inbox_events")
    return int(rows[0][0]) >= wanted
