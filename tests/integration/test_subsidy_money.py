"""K City's FY2015 support programme end to end, over the real broker: three businesses
apply and are awarded in score order; two funds form and are released with the city's
share of the arrangement fee owed by the city, one fails and its grant lapses; the city's
transfers arrive (one before the release); the books reconcile to the yen and the
leverage report reads 7.4x, as JSON, as CSV and as a chart."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from helpers import (
    BANK,
    STAFF,
    SettingsFactory,
    call,
    fetch,
    fund_terms,
    ready_application,
    ready_investor,
)
from kumiai.auth import Role, mint_token
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running

K_CITY = "012025"
CITY = bearer(Role.MUNICIPALITY, K_CITY)
ADVISER = {
    "Authorization": "Bearer "
    + mint_token(
        secret=DEVELOPMENT_JWT_SECRET, role=Role.STAFF, tenant="platform", subject="adviser-1"
    )
}
FEE = 900_000
GRANT = 800_000
SELLING_SECONDS = 150
"""The two funds that form sell out well before their offering ends."""
FAILING_SECONDS = 45
"""The fund that fails waits for the end of its offering: kept short."""
CRITERIA = [
    {"key": "local_features", "title": "地域独自の特色 Unique local features", "weight": 25},
    {"key": "resonance", "title": "共感性 Resonates with people", "weight": 15},
    {"key": "attachment", "title": "地域への愛着 Attachment to the city", "weight": 10},
    {"key": "feasibility", "title": "事業の実現可能性 Economic feasibility", "weight": 50},
]


def _msme(msme_id: str) -> dict[str, str]:
    return bearer(Role.MSME, msme_id)


def _sheet(mark: int) -> dict[str, Any]:
    return {
        "marks": [{"criterion": c["key"], "mark": mark, "comment": ""} for c in CRITERIA],
        "comment": "地元の原料を活かした計画",
    }


async def _count(url: str, query: str, *args: object) -> int:
    return int((await fetch(url, query, *args))[0][0])


async def _until_count(url: str, query: str, wanted: int, what: str, *args: object) -> None:
    async def reached() -> bool:
        return await _count(url, query, *args) == wanted

    await eventually(reached, timeout_s=120, what=what)


async def _fund(onboard: httpx.AsyncClient, application_id: str, **terms: Any) -> dict[str, Any]:
    """Staff design and publish the fund of an approved application."""
    fund = await call(
        onboard,
        "POST",
        "/funds",
        201,
        json={"application_id": application_id, "terms": fund_terms(**terms)},
        headers=STAFF,
    )
    published: dict[str, Any] = await call(
        onboard, "POST", f"/funds/{fund['id']}/publish", headers=STAFF
    )
    return published


async def _until_201(client: httpx.AsyncClient, path: str, body: Any, headers: Any) -> Any:
    """Retry a POST until the service has heard the events it needs (a fresh key each time:
    a refusal is not a result to replay)."""
    answer: dict[str, Any] = {}

    async def done() -> bool:
        response = await client.post(
            path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
        )
        answer["last"] = response
        return response.status_code == 201

    await eventually(done, timeout_s=60, what=f"POST {path}")
    return answer["last"].json()


async def test_k_city_fy2015_two_funds_form_one_fails_the_city_pays_and_it_reads_7_4(
    settings_for: SettingsFactory,
) -> None:
    ob = settings_for("onboarding", min_offering_days=0)
    sub = settings_for(
        "subscription",
        cooling_off_test_period=timedelta(seconds=2),
        payment_period=timedelta(minutes=10),
        issuer_yearly_limit=0,
    )
    led = settings_for("ledger")
    sy = settings_for("subsidy")
    async with (
        running(service("onboarding").create_app(ob)) as onboard,
        running(service("subscription").create_app(sub)) as subs,
        running(service("ledger").create_app(led)) as ledger,
        running(service("subsidy").create_app(sy)) as subsidy,
    ):
        now = datetime.now(UTC)
        programme = await call(
            subsidy,
            "POST",
            "/programmes",
            201,
            json={
                "municipality_code": K_CITY,
                "name": "K市クラウドファンディング活用支援事業 K City Support Fund",
                "fiscal_year": 2015,
                "budget": 5_000_000,
                "max_awards": 5,
                "coverage_ppm": 900_000,
                "cap_per_award": GRANT,
                "applications_open_at": (now - timedelta(minutes=1)).isoformat(),
                "applications_close_at": (now + timedelta(hours=1)).isoformat(),
                "criteria": CRITERIA,
                "pass_mark": 60,
                "reviewers_required": 2,
                "lapses_if_fund_fails": True,
            },
            headers={**CITY, "Idempotency-Key": "k-city-fy2015"},
        )
        pid = programme["id"]

        # Three businesses of the city apply, with their onboarding applications.
        businesses = [await ready_application(onboard) for _ in range(3)]
        applied = [
            await _until_201(
                subsidy,
                f"/programmes/{pid}/applications",
                {"application_id": application_id, "summary": "地元の酒蔵の新商品"},
                _msme(msme_id),
            )
            for msme_id, application_id in businesses
        ]
        # Two reviewers (the city, the university's adviser) score each one.
        for entry, mark in zip(applied, (90, 80, 70), strict=True):
            for reviewer in (CITY, ADVISER):
                await call(
                    subsidy,
                    "PUT",
                    f"/programme-applications/{entry['id']}/review",
                    json=_sheet(mark),
                    headers=reviewer,
                )
        await call(subsidy, "POST", f"/programmes/{pid}/close-applications", headers=CITY)

        investors = [await ready_investor(subs) for _ in range(5)]
        # The operator designs their funds: JPY 10,000 units, arrangement fee JPY 900,000.
        # The third needs 500 units to form and will sell 10: it fails.
        fees = dict(fund_terms()["fees"], arrangement_fee=FEE)
        funds = []
        for (_, application_id), threshold, seconds in zip(
            businesses,
            (100, 100, 500),
            (SELLING_SECONDS, SELLING_SECONDS, FAILING_SECONDS),
            strict=True,
        ):
            end = datetime.now(UTC) + timedelta(seconds=seconds)
            funds.append(
                await _fund(
                    onboard,
                    application_id,
                    formation_threshold_units=threshold,
                    fees=fees,
                    offering_start=(now - timedelta(minutes=1)).isoformat(),
                    offering_end=end.isoformat(),
                    handling_fee_per_unit=0,
                    units_offered=595,
                    max_units_per_investor=300,
                )
            )

        # Awarded in score order once the funds are open: 800,000 each (cap < 90 % of fee).
        awards = [
            await _until_201(subsidy, f"/programme-applications/{entry['id']}/award", {}, CITY)
            for entry in applied
        ]
        assert [(a["fund_id"], a["amount"], a["status"]) for a in awards] == [
            (f["id"], GRANT, "granted") for f in funds
        ]
        await _until_count(
            led.database_url,
            "SELECT count(*) FROM grants WHERE status = 'granted'",
            3,
            "the ledger holding the three grants",
        )
        ranked = await call(subsidy, "GET", f"/programmes/{pid}/report", headers=CITY)

        # Investors subscribe and pay: JPY 5,950,000 into each formed fund, 100,000 into
        # the one that fails. The city pays the second grant before its fund is released.
        plan = [
            (funds[2], investors[4], 10),  # first: its offering ends soon
            (funds[0], investors[0], 300),
            (funds[0], investors[1], 295),
            (funds[1], investors[2], 300),
            (funds[1], investors[3], 295),
        ]

        async def offered() -> bool:
            for fund in funds:
                if (await subs.get(f"/offerings/{fund['id']}")).status_code != 200:
                    return False
            return True

        await eventually(offered, timeout_s=60, what="the three offerings open")
        transactions = iter(range(1_000))

        async def deposit(amount: int, reference: str) -> dict[str, Any]:
            body: dict[str, Any] = await call(
                ledger,
                "POST",
                "/deposits",
                201,
                json={
                    "bank_transaction_id": f"K-{next(transactions)}",
                    "amount": amount,
                    "currency": "JPY",
                    "value_date": datetime.now(UTC).date().isoformat(),
                    "payment_reference": reference,
                },
                headers=BANK,
            )
            return body

        early = await deposit(GRANT, awards[1]["payment_reference"])
        assert early["status"] == "suspense"
        for fund, investor, units in plan:
            order = await call(
                subs,
                "POST",
                f"/offerings/{fund['id']}/subscriptions",
                201,
                json={"units": units, "terms_digest": fund["terms_digest"]},
                headers={**bearer(Role.INVESTOR, investor), "Idempotency-Key": investor},
            )
            await _until_count(
                led.database_url,
                "SELECT count(*) FROM expected_payments WHERE subscription_id = $1",
                1,
                "the ledger awaiting the payment",
                uuid.UUID(order["id"]),
            )
            paid = await deposit(order["amount_due"], order["payment_reference"])
            assert paid["status"] == "matched", paid

        await _until_count(
            led.database_url,
            "SELECT count(*) FROM funds WHERE status IN ('released', 'closed_failed')",
            3,
            "two funds released and one failed in the ledger",
        )
        await _until_count(
            led.database_url,
            "SELECT count(*) FROM grants WHERE status = 'booked'",
            1,
            "the first grant owed by the city",
        )
        late = await deposit(GRANT, awards[0]["payment_reference"])
        assert late["status"] == "matched", late
        again = await deposit(GRANT, awards[0]["payment_reference"])
        assert again["status"] == "suspense", "a second transfer is held, not taken twice"
        lapsed = await deposit(GRANT, awards[2]["payment_reference"])
        assert lapsed["status"] == "suspense", "the lapsed grant is owed by nobody"

        await _until_count(
            sy.database_url,
            "SELECT count(*) FROM awards WHERE status = 'paid'",
            2,
            "the subsidy service hearing both transfers",
        )
        await _until_count(
            sy.database_url,
            "SELECT count(*) FROM awards WHERE status = 'lapsed'",
            1,
            "the failed fund's grant lapsing",
        )

        async def balance(code: str) -> int:
            response = await ledger.get(f"/accounts/{code}/balance", headers=STAFF)
            return int(response.json()["posted"]) if response.status_code == 200 else 0

        payables = [await balance(f"msme/{f['msme_id']}/payable") for f in funds]
        escrows = [await balance(f"fund/{f['id']}/escrow") for f in funds]
        receivable = await balance(f"municipality/{K_CITY}/receivable")
        platform_fees = await balance("platform/fees")
        suspense = await balance("suspense")
        trial = await call(ledger, "GET", "/trial-balance", headers=STAFF)
        reports = [
            await call(ledger, "GET", f"/funds/{f['id']}/segregation", headers=STAFF)
            for f in funds[:2]
        ]
        city_reads = await ledger.get(
            f"/accounts/municipality/{K_CITY}/receivable/balance", headers=CITY
        )
        programme_after = await call(subsidy, "GET", f"/programmes/{pid}", headers=CITY)
        report = await call(subsidy, "GET", f"/programmes/{pid}/report", headers=CITY)
        leverage = await call(subsidy, "GET", "/leverage?fiscal_year=2015", headers=CITY)
        as_csv = await subsidy.get("/leverage.csv?fiscal_year=2015", headers=CITY)
        as_svg = await subsidy.get("/leverage.svg?fiscal_year=2015", headers=CITY)
        final_awards = [
            await call(subsidy, "GET", f"/awards/{a['id']}", headers=CITY) for a in awards
        ]

    # The order of the ranking is the order of the scores (90, 80, 70 points).
    assert [a["score"] for a in ranked["applicants"]] == ["90.00", "80.00", "70.00"]
    # Each formed fund: 5,950,000 raised, the business pays 100,000 of the 900,000 fee.
    assert payables == [5_850_000, 5_850_000, 0]
    assert escrows == [0, 0, 0]
    assert platform_fees == 2 * FEE
    assert [(r["fees"], r["subsidy"], r["released_to_business"]) for r in reports] == [
        (FEE - GRANT, GRANT, 5_850_000)
    ] * 2
    assert receivable == 0, "both grants booked at release and paid"
    assert suspense == 2 * GRANT, "the second transfer and the lapsed grant's wait for staff"
    assert trial["balanced"] is True
    assert city_reads.status_code == 200
    assert int(city_reads.json()["posted"]) == 0
    assert [a["status"] for a in final_awards] == ["paid", "paid", "lapsed"]
    assert final_awards[1]["deposit_id"] == early["id"]
    assert (programme_after["reserved"], programme_after["budget_left"]) == (
        2 * GRANT,
        5_000_000 - 2 * GRANT,
    )
    assert (programme_after["awards_count"], programme_after["awards_left"]) == (2, 3)
    assert report["applicants"][0]["score"] == "90.00"

    assert leverage["fiscal_year"] == 2015
    [line] = leverage["lines"]
    assert (line["funds"], line["raised"], line["subsidy_paid"], line["ratio"]) == (
        2,
        11_900_000,
        1_600_000,
        "7.4",
    )
    assert leverage["total"]["ratio"] == "7.4"

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())
    records = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert records[1][1] == "K市クラウドファンディング活用支援事業 K City Support Fund"
    assert {"11900000", "1600000", "7.4"} <= set(records[1])
    assert records[-1][0] == "合計"

    assert as_svg.status_code == 200
    assert as_svg.headers["content-type"].startswith("image/svg+xml")
    texts = "".join(ET.fromstring(as_svg.content).itertext())  # noqa: S314 - our own chart
    assert "2015年度" in texts
    assert "7.4" in texts
    assert b"<script" not in as_svg.content
