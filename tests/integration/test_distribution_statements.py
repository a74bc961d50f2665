"""Investors' distribution statements and the yearly payment records, over HTTP with the real
database and broker: a formed fund with two investors, periods declared from approved
sales and paid out as the ledger announces it (``DistributionPaid``)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
import pytest
from subscription_flows import Market, named_investor

from helpers import BANK, STAFF, SettingsFactory, call, offering, publish_events
from kumiai.auth import Role
from kumiai.contracts.disclosure import SalesReported
from kumiai.contracts.ledger import DistributionPaid
from kumiai.contracts.onboarding import FundOpened, RevenueShare
from kumiai.errors import PROBLEM_BASE
from kumiai.periods import japan_date
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running

# Approved sales per period: 3 % of what is above JPY 1,000,000 until recoup, 1 % after.
SALES = {1: 800_000, 2: 3_000_000, 3: 5_000_000, 4: 2_000_000}
# Paid out (days in Japan): period 1 (nothing to pay) in 2023, periods 2 and 3 in 2025,
# period 4 not yet.
PAID_ON = {1: date(2023, 5, 31), 2: date(2025, 1, 6), 3: date(2025, 5, 30)}


def me(investor: str) -> dict[str, str]:
    return bearer(Role.INVESTOR, investor)


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def reported(fund: FundOpened, number: int) -> SalesReported:
    # Period n runs from 1 April of 2021 + n to 31 March of the year after.
    return SalesReported(
        report_id=uuid.uuid4(),
        fund_id=fund.fund_id,
        msme_id=fund.msme_id,
        period_number=number,
        period_start=date(2021 + number, 4, 1),
        period_end=date(2022 + number, 3, 31),
        sales=SALES[number],
        confirmation_id=uuid.uuid4(),
        approved_at=datetime.now(UTC),
    )


def paid(declared: dict[str, Any], allocated: list[dict[str, Any]]) -> DistributionPaid:
    """The ledger's announcement of a declared period paid out, its facts from the
    declaration (``DividendDeclared``) and its lines (``DistributionAllocated``)."""
    moves_money = declared["business_owes"] > 0
    return DistributionPaid(
        fund_id=uuid.UUID(declared["fund_id"]),
        msme_id=uuid.UUID(declared["msme_id"]),
        period_number=declared["period_number"],
        bank_id="hokkaido-bank" if moves_money else None,
        deposit_id=uuid.uuid4() if moves_money else None,
        investor_count=declared["investor_count"],
        payout_count=sum(1 for line in allocated if line["net"] > 0),
        total_gross=declared["total_gross"],
        total_tax=declared["total_tax"],
        total_net=declared["total_net"],
        success_fee=declared["success_fee"],
        fees_settled=declared["fees_total"],
        paid_on=PAID_ON[declared["period_number"]],
        paid_at=datetime.now(UTC),
    )


@dataclass
class PaidFund:
    market: Market
    fund: FundOpened
    a: str
    """Holds 3 units."""
    b: str
    """Holds 7 units."""


@pytest.fixture
async def paid_fund(settings_for: SettingsFactory) -> AsyncIterator[PaidFund]:
    """A formed fund with two investors, four periods declared, the first three paid."""
    settings = settings_for(
        "subscription",
        payment_period=timedelta(seconds=30),
        cooling_off_test_period=timedelta(seconds=1),
    )
    async with running(service("subscription").create_app(settings)) as client:
        market = Market(client, settings)
        a = await named_investor(client, "鈴木 一郎", "北海道札幌市北区北8条西5丁目, 101号")
        b = await named_investor(client, "=Sato Hanako", "4-5-6 Kita-ku, Sapporo")
        start = datetime.now(UTC) - timedelta(minutes=1)
        fund = await market.open_fund(
            name="十勝ワイナリー応援ファンド",
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
        bootstrap = settings.kafka_bootstrap_servers
        subject = str(fund.fund_id)
        await publish_events(
            bootstrap,
            events_topic("disclosure", settings.topic_namespace),
            "disclosure",
            subject,
            [reported(fund, n) for n in SALES],
        )

        async def declared() -> list[tuple[str, dict[str, Any]]] | None:
            events = await market.events(fund)
            count = [t for t, _ in events].count("DividendDeclared")
            return events if count == len(SALES) else None

        events = await eventually(declared, what="four periods declared")
        declarations = {d["period_number"]: d for t, d in events if t == "DividendDeclared"}
        lines = {d["period_number"]: d["lines"] for t, d in events if t == "DistributionAllocated"}
        # The ledger's events about the fund follow its two PaymentReceived (sequences 1, 2).
        await publish_events(
            bootstrap,
            events_topic("ledger", settings.topic_namespace),
            "ledger",
            subject,
            [paid(declarations[n], lines[n]) for n in PAID_ON],
            first=3,
        )

        async def third_paid() -> bool:
            page = await call(client, "GET", f"/investors/{a}/distributions", headers=me(a))
            return any(
                line["period_number"] == 3 and line["payment_status"] == "paid"
                for line in page["items"]
            )

        await eventually(third_paid, what="period 3 paid")
        yield PaidFund(market, fund, a, b)


async def test_the_statement_says_what_was_declared_and_when_it_was_paid(
    paid_fund: PaidFund,
) -> None:
    client, fund, a, b = paid_fund.market.client, paid_fund.fund, paid_fund.a, paid_fund.b
    line_path = f"/investors/{a}/distributions/{fund.fund_id}"
    first = await call(client, "GET", f"/investors/{a}/distributions?limit=3", headers=me(a))
    rest = await call(
        client,
        "GET",
        f"/investors/{a}/distributions?limit=3&cursor={first['next_cursor']}",
        headers=me(a),
    )
    third = await call(client, "GET", f"{line_path}/3", headers=me(a))
    by_staff = await call(client, "GET", f"{line_path}/3", headers=STAFF)
    pdf = await client.get(f"{line_path}/3/statement.pdf", headers=me(a))
    unpaid_pdf = await client.get(f"{line_path}/4/statement.pdf", headers=me(a))
    absent = await client.get(f"{line_path}/9", headers=me(a))
    strangers = [
        await client.get(path, headers=headers)
        for path in (f"{line_path}/3", f"{line_path}/3/statement.pdf")
        for headers in (me(b), me(str(uuid.uuid4())))
    ]
    bank = await client.get(f"{line_path}/3", headers=BANK)
    statement = first["items"] + rest["items"]
    assert [line["period_number"] for line in statement] == [4, 3, 2, 1]
    assert rest["next_cursor"] is None
    assert [(line["payment_status"], line["paid_on"]) for line in statement] == [
        ("declared", None),
        ("paid", "2025-05-30"),
        ("paid", "2025-01-06"),
        ("paid", "2023-05-31"),
    ]
    # Period 3: D = 66,666 over 10 units, 6,666 a unit; A's 3 units: 19,998 gross. Its
    # cumulative gross 18,000 + 19,998 = 37,998 passes what it paid in (3 x 10,500 =
    # 31,500): 6,498 profit, 6,498 x 20.42 % = 1,326.89, 1,326 withheld; net 18,672.
    assert (third["units"], third["per_unit"], third["gross"]) == (3, 6_666, 19_998)
    assert (third["tax"], third["net"]) == (1_326, 18_672)
    assert (third["cumulative_gross"], third["cumulative_tax"]) == (37_998, 1_326)
    assert third["remaining_to_recoup"] == 0
    assert third["fund_name"] == "十勝ワイナリー応援ファンド"
    assert (third["period_start"], third["period_end"]) == ("2024-04-01", "2025-03-31")
    assert third == statement[1]
    assert by_staff == third
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"distribution-statement-{fund.fund_id}-3.pdf" in pdf.headers["content-disposition"]
    text = pdf_text(pdf.content)
    for expected in [
        "分配金計算書",
        "十勝ワイナリー応援ファンド",
        "第3期 / Period 3",
        "2024年4月1日 (2024-04-01)",
        "保有口数",
        "6,666 円 (JPY 6,666)",
        "19,998 円 (JPY 19,998)",
        "源泉徴収税額",
        "1,326 円 (JPY 1,326)",
        "18,672 円 (JPY 18,672)",
        "37,998 円 (JPY 37,998)",
        "支払日",
        "2025年5月30日 (2025-05-30)",
    ]:
        assert expected in text, expected
    assert "未払 / Not yet paid" in pdf_text(unpaid_pdf.content)
    assert absent.status_code == 404
    assert absent.json()["type"] == PROBLEM_BASE + "distribution-line-not-found"
    for refused in strangers:
        assert refused.status_code == 404
        assert refused.json()["type"] == PROBLEM_BASE + "investor-not-found"
        assert a not in refused.json()["detail"]
    assert bank.status_code == 403


async def test_staff_get_the_years_payment_records_as_csv(paid_fund: PaidFund) -> None:
    client, fund, a, b = paid_fund.market.client, paid_fund.fund, paid_fund.a, paid_fund.b
    answer = await client.get("/payment-records/2025.csv", headers=STAFF)
    nothing = await client.get("/payment-records/2023.csv", headers=STAFF)
    investor = await client.get("/payment-records/2025.csv", headers=me(a))
    too_early = await client.get("/payment-records/1999.csv", headers=STAFF)
    staff_read = await client.get(f"/investors/{a}", headers=STAFF)
    own_read = await client.get(f"/investors/{a}", headers=me(a))
    trail = await client.get("/audit", headers=STAFF)
    assert (staff_read.status_code, own_read.status_code) == (200, 200)
    # Every time staff were given personal details is in the trail; the investor's own
    # read is not, nor are the refused exports.
    assert trail.status_code == 200, trail.text
    assert [(r["action"], r["entity_type"], r["entity_id"]) for r in trail.json()["items"]] == [
        ("payment_records_exported", "payment_records", "2025"),
        ("payment_records_exported", "payment_records", "2023"),
        ("personal_details_read", "investor", a),
    ]
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "payment-records-2025.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    body = answer.content.decode("utf-8-sig")
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", "")
    header, *rows = csv.reader(io.StringIO(body))
    assert header[:3] == ["investor_id", "full_name", "address"]
    records = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(records) == {a, b}
    assert [row[0] for row in rows] == sorted([a, b])
    # A in 2025: periods 2 (18,000, nothing withheld while recouping) and 3 (19,998,
    # 1,326 withheld): 37,998 gross, 1,326 withheld, 18,000 + 18,672 = 36,672 net.
    assert records[a] == {
        "investor_id": a,
        "full_name": "鈴木 一郎",
        "address": "北海道札幌市北区北8条西5丁目, 101号",
        "fund_id": str(fund.fund_id),
        "fund_name": "十勝ワイナリー応援ファンド",
        "msme_id": str(fund.msme_id),
        "payments": "2",
        "total_gross": "37998",
        "total_withheld": "1326",
        "total_net": "36672",
    }
    # B (7 units): 42,000 + 46,662 = 88,662 gross; 3,096 withheld in period 3 (88,662 -
    # 73,500 paid in = 15,162 profit x 20.42 % = 3,096.08); 88,662 - 3,096 = 85,566 net.
    # A name that Excel would run as a formula is kept as text.
    assert records[b]["full_name"] == "'=Sato Hanako"
    assert (records[b]["payments"], records[b]["total_gross"]) == ("2", "88662")
    assert (records[b]["total_withheld"], records[b]["total_net"]) == ("3096", "85566")
    # 2023 paid period 1 only, which had nothing to pay: no payment, the header alone.
    assert nothing.status_code == 200
    assert list(csv.reader(io.StringIO(nothing.content.decode("utf-8-sig")))) == [header]
    assert investor.status_code == 403
    assert too_early.status_code == 422
    assert too_early.headers["content-type"] == "application/problem+json"


async def test_the_investor_gets_its_payment_record_once_the_year_is_over(
    paid_fund: PaidFund,
) -> None:
    client, fund, a, b = paid_fund.market.client, paid_fund.fund, paid_fund.a, paid_fund.b
    record = await call(client, "GET", f"/investors/{a}/payment-records/2025", headers=me(a))
    by_staff = await call(client, "GET", f"/investors/{a}/payment-records/2025", headers=STAFF)
    nothing = await call(client, "GET", f"/investors/{a}/payment-records/2023", headers=me(a))
    pdf = await client.get(f"/investors/{a}/payment-records/2025.pdf", headers=me(a))
    empty_pdf = await client.get(f"/investors/{a}/payment-records/2024.pdf", headers=me(a))
    this_year = japan_date(datetime.now(UTC)).year
    not_over = [
        await client.get(f"/investors/{a}/payment-records/{this_year}{suffix}", headers=me(a))
        for suffix in ("", ".pdf")
    ]
    out_of_range = await client.get(f"/investors/{a}/payment-records/2201", headers=me(a))
    strangers = [
        await client.get(f"/investors/{a}/payment-records/2025{suffix}", headers=headers)
        for suffix in ("", ".pdf")
        for headers in (me(b), me(str(uuid.uuid4())))
    ]
    # 37,998 gross, 1,326 withheld, 36,672 net in two payments (as in the CSV).
    fund_totals = {
        "fund_id": str(fund.fund_id),
        "fund_name": "十勝ワイナリー応援ファンド",
        "msme_id": str(fund.msme_id),
        "payments": 2,
        "gross": 37_998,
        "tax": 1_326,
        "net": 36_672,
    }
    assert record == {
        "investor_id": a,
        "year": 2025,
        "available_from": "2026-01-01",
        "funds": [fund_totals],
        "totals": {"payments": 2, "gross": 37_998, "tax": 1_326, "net": 36_672},
    }
    assert by_staff == record
    # Period 1, paid in 2023, had nothing to pay: no payment, empty totals.
    assert nothing["funds"] == []
    assert nothing["totals"] == {"payments": 0, "gross": 0, "tax": 0, "net": 0}
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for expected in [
        "分配金支払記録",
        "2025年 (1月1日〜12月31日) / Calendar year 2025",
        "十勝ワイナリー応援ファンド",
        "年間合計 / Year totals",
        "37,998 円 (JPY 37,998)",
        "1,326 円 (JPY 1,326)",
        "36,672 円 (JPY 36,672)",
    ]:
        assert expected in text, expected
    assert "No distribution was paid to you in 2024." in pdf_text(empty_pdf.content)
    for early in not_over:
        assert early.status_code == 409
        assert early.json()["type"] == PROBLEM_BASE + "year-not-over"
        assert early.json()["available_from"] == f"{this_year + 1}-01-01"
    assert out_of_range.status_code == 422
    for refused in strangers:
        assert refused.status_code == 404
        assert a not in refused.json()["detail"]
