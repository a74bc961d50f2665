"""Disclosure over the real broker: the offering document, fund news and who reads it,
sales reports (SalesReported once), overdue reports (DisclosureOverdue once), annual reports,
distribution notices (once both DividendDeclared and DistributionPaid are heard)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pypdf

from helpers import PDF, STAFF, SettingsFactory, call, fetch, publish, publish_events
from kumiai.auth import Role
from kumiai.contracts.ledger import DistributionPaid
from kumiai.contracts.onboarding import FundOpened
from kumiai.contracts.subscription import (
    DividendDeclared,
    DividendDeclaredV1,
    FundClosed,
    FundOutcome,
    SubscriptionConfirmed,
)
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running, sample_fund_opened

IDENTITY = {"fund_id", "msme_id", "application_id", "municipality_code", "terms_digest"}
FORMED_AT = datetime(2024, 6, 15, 3, 0, tzinfo=UTC)
"""The test fund formed on 15 June 2024 (Japan): periods end each 31 March."""


def _digest(event: FundOpened) -> str:
    terms = {k: v for k, v in event.model_dump(mode="json").items() if k not in IDENTITY}
    canonical = json.dumps(terms, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _formed_fund(settings: ServiceSettings, *holders: str) -> FundOpened:
    """A fund opened, formed on ``FORMED_AT`` and held by ``holders``, told by events."""
    opened = sample_fund_opened(name="酒蔵の再建 Sake brewery")
    opened = opened.model_copy(update={"terms_digest": _digest(opened)})
    bootstrap, ns = settings.kafka_bootstrap_servers, settings.topic_namespace
    fund = str(opened.fund_id)
    await publish_events(bootstrap, events_topic("onboarding", ns), "onboarding", fund, [opened])
    closed = FundClosed(
        fund_id=opened.fund_id,
        msme_id=opened.msme_id,
        outcome=FundOutcome.SUCCEEDED,
        units_confirmed=400,
        amount_raised=4_000_000,
        handling_fees_collected=200_000,
        investor_count=max(1, len(holders)),
        closed_at=FORMED_AT,
    )
    confirmations = [
        SubscriptionConfirmed(
            subscription_id=uuid.uuid4(),
            fund_id=opened.fund_id,
            investor_id=uuid.UUID(investor),
            units=10,
            amount_paid=105_000,
            confirmed_at=FORMED_AT,
        )
        for investor in holders
    ]
    topic = events_topic("subscription", ns)
    await publish_events(bootstrap, topic, "subscription", fund, [*confirmations, closed])
    return opened


async def _document_listed(client: httpx.AsyncClient, fund_id: str, kind: str) -> Any:
    response = await client.get(f"/public/funds/{fund_id}/documents")
    if response.status_code != 200:
        return None
    found = [d for d in response.json()["items"] if d["kind"] == kind]
    return found[0] if found else None


async def test_a_published_fund_gets_its_offering_document_whose_digest_is_the_terms(
    settings_for: SettingsFactory,
) -> None:
    onboarding = service("onboarding").create_app(settings_for("onboarding", min_offering_days=0))
    disclosure = service("disclosure").create_app(settings_for("disclosure"))
    async with running(onboarding) as ob, running(disclosure) as dis:
        fund = await publish(ob, name="酒蔵の再建 Sake brewery")
        listed = await eventually(
            lambda: _document_listed(dis, fund["id"], "offering_document"),
            what="the offering document",
        )
        document = await call(dis, "GET", f"/public/documents/{listed['id']}")
        pdf = await dis.get(f"/public/documents/{listed['id']}/pdf")
    assert document["status"] == "published"
    assert document["shown"]["visibility"] == "public"
    assert document["shown"]["sha256"] == fund["terms_digest"]
    assert document["shown"]["data"]["unit_price"] == 10_000
    assert "application_id" not in document["shown"]["data"]
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "酒蔵の再建 Sake brewery" in text
    assert "10,000" in text


async def test_fund_news_is_drafted_reviewed_published_and_read_only_by_its_investors(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    holder, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    disclosure = service("disclosure").create_app(settings)
    async with running(disclosure) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))
        mine, theirs = bearer(Role.INVESTOR, holder), bearer(Role.INVESTOR, stranger)

        async def holders_known() -> bool:
            page = await call(dis, "GET", "/me/documents", headers=mine)
            return bool(page["items"])

        await eventually(holders_known, what="the holder's offering document")
        draft = await call(
            dis,
            "POST",
            f"/funds/{fund}/documents",
            201,
            json={
                "kind": "fund_news",
                "title": "新酒の仕込み / First brew",
                "body": "仕込みが始まりました。",
                "visibility": "investors",
            },
            headers=business,
        )
        doc = draft["id"]
        edited = await call(
            dis,
            "PUT",
            f"/documents/{doc}",
            json={"body": "仕込みが始まりました!"},
            headers=business,
        )
        attached = await dis.post(
            f"/documents/{doc}/attachments",
            params={"filename": "kura.pdf"},
            content=PDF,
            headers={**business, "Content-Type": "application/pdf"},
        )
        fake = await dis.post(
            f"/documents/{doc}/attachments",
            params={"filename": "kura.png"},
            content=PDF,
            headers={**business, "Content-Type": "image/png"},
        )
        hidden_draft = await dis.get(f"/documents/{doc}", headers=mine)
        not_theirs = await dis.post(f"/documents/{doc}/publish", headers=business)
        await call(dis, "POST", f"/documents/{doc}/submit", headers=business)
        returned = await call(
            dis,
            "POST",
            f"/documents/{doc}/return",
            json={"reason": "写真を追加してください"},
            headers=STAFF,
        )
        no_reason = await dis.post(f"/documents/{doc}/return", json={}, headers=STAFF)
        await call(dis, "POST", f"/documents/{doc}/submit", headers=business)
        published = await call(dis, "POST", f"/documents/{doc}/publish", headers=STAFF)
        page = await call(dis, "GET", "/me/documents", headers=mine)
        read = await call(dis, "GET", f"/documents/{doc}", headers=mine)
        page_after = await call(dis, "GET", "/me/documents", headers=mine)
        stranger_sees = await dis.get(f"/documents/{doc}", headers=theirs)
        stranger_page = await call(dis, "GET", "/me/documents", headers=theirs)
        public = await dis.get(f"/public/documents/{doc}")
        versions = await call(dis, "GET", f"/documents/{doc}/versions", headers=business)
        retracted = await call(
            dis,
            "POST",
            f"/documents/{doc}/retract",
            json={"reason": "誤りがありました"},
            headers=STAFF,
        )
        after_retraction = await call(dis, "GET", f"/documents/{doc}", headers=mine)
        pdf_after = await dis.get(f"/documents/{doc}/pdf", headers=mine)
    assert edited["current_version"] == 2
    assert attached.status_code == 201, attached.text
    assert attached.json()["shown"]["attachments"][0]["filename"] == "kura.pdf"
    assert fake.status_code == 415
    assert hidden_draft.status_code == 404
    assert not_theirs.status_code == 403
    assert returned["status"] == "draft"
    assert returned["return_reason"] == "写真を追加してください"
    assert no_reason.status_code == 422
    assert published["status"] == "published"
    assert published["published_version"] == 3
    news = [d for d in page["items"] if d["id"] == doc]
    assert news
    assert news[0]["unread"] is True
    assert read["shown"]["body"] == "仕込みが始まりました!"
    assert [d["unread"] for d in page_after["items"] if d["id"] == doc] == [False]
    assert stranger_sees.status_code == 404
    assert stranger_sees.json()["detail"] == f"no document {doc}"
    assert stranger_page["items"] == []
    assert public.status_code == 404
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[2]["sha256"] == hashlib.sha256("仕込みが始まりました。".encode()).hexdigest()
    assert retracted["status"] == "retracted"
    assert after_retraction["shown"] is None
    assert after_retraction["retraction_reason"] == "誤りがありました"
    assert pdf_after.status_code == 410
    reads = await fetch(
        settings.database_url,
        "SELECT reader, what FROM document_reads WHERE document_id = $1",
        uuid.UUID(doc),
    )
    assert (holder, "document") in [(r["reader"], r["what"]) for r in reads]
    trail = await fetch(
        settings.database_url,
        "SELECT action FROM audit_log WHERE entity_id = $1 ORDER BY id",
        doc,
    )
    assert [r["action"] for r in trail] == [
        "document.drafted",
        "document.edited",
        "document.attached",
        "document.submit",
        "document.return",
        "document.submit",
        "document.publish",
        "document.retract",
    ]


async def test_overdue_reports_are_announced_once(settings_for: SettingsFactory) -> None:
    settings = settings_for("disclosure", run_workers=True)
    disclosure = service("disclosure").create_app(settings)
    async with running(disclosure) as dis:
        opened = await _formed_fund(settings)

        async def announced() -> list[Any] | None:
            rows = await fetch(
                settings.database_url,
                "SELECT envelope->'data' AS data FROM outbox_events "
                "WHERE type = 'DisclosureOverdue' AND subject = $1",
                str(opened.fund_id),
            )
            return rows if len(rows) >= 4 else None

        rows = await eventually(announced, what="the overdue reports")
        listed = await call(dis, "GET", "/deadlines", params={"status": "overdue"}, headers=STAFF)
    items = sorted((json.loads(r["data"])["item"], json.loads(r["data"])["number"]) for r in rows)
    # Period 1 (to 31 March 2025) and 2 (to 31 March 2026) are past due; period 3 is not
    # over; the annual reports of FY2025 and FY2026 are past due too.
    assert items == [
        ("annual_report", 2025),
        ("annual_report", 2026),
        ("sales_report", 1),
        ("sales_report", 2),
    ]
    mine = [d for d in listed["items"] if d["fund_id"] == str(opened.fund_id)]
    assert {(d["item"], d["number"]) for d in mine} == set(items)
    assert all(d["status"] == "overdue" for d in mine)


async def test_an_annual_report_is_published_to_investors_and_its_pdf_reads_back(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    holder = str(uuid.uuid4())
    disclosure = service("disclosure").create_app(settings)
    async with running(disclosure) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))

        async def formed() -> Any:
            response = await dis.get(f"/funds/{fund}/annual-reports/2025", headers=business)
            return (
                response
                if response.status_code != 404 or "unknown-annual" in response.text
                else None
            )

        await eventually(formed, what="the fund's calendar")
        sections = {
            "overview": "新しい蔵で初めての仕込みを行いました。",
            "use_of_funds": "調達した資金は蔵の修繕と設備に充てました。",
        }
        unconfirmed = await call(
            dis, "PUT", f"/funds/{fund}/annual-reports/2025", json=sections, headers=business
        )
        refused = await dis.post(f"/funds/{fund}/annual-reports/2025/publish", headers=STAFF)
        confirmation = {
            "kind": "tax_accountant",
            "name": "山田 花子",
            "registration_number": "123456",
            "confirmed_on": "2025-05-20",
        }
        await call(
            dis,
            "PUT",
            f"/funds/{fund}/annual-reports/2025",
            json={**sections, "confirmation": confirmation},
            headers=business,
        )
        not_over = await dis.put(
            f"/funds/{fund}/annual-reports/2027", json=sections, headers=business
        )
        published = await call(
            dis, "POST", f"/funds/{fund}/annual-reports/2025/publish", headers=STAFF
        )
        again = await dis.post(f"/funds/{fund}/annual-reports/2025/publish", headers=STAFF)
        rewrite = await dis.put(
            f"/funds/{fund}/annual-reports/2025", json=sections, headers=business
        )
        document_id = published["document_id"]
        page = await call(dis, "GET", "/me/documents", headers=bearer(Role.INVESTOR, holder))
        pdf = await dis.get(f"/documents/{document_id}/pdf", headers=bearer(Role.INVESTOR, holder))
        public = await dis.get(f"/public/documents/{document_id}/pdf")
        # Subscription declares period 2 (to 31 March 2026): FY2026's report says so.
        await publish_events(
            settings.kafka_bootstrap_servers,
            events_topic("subscription", settings.topic_namespace),
            "subscription",
            f"{fund}-declared",
            [_declared(opened, period=2, per_unit=6_000, units=10)],
        )

        async def declared() -> Any:
            report = await call(
                dis, "PUT", f"/funds/{fund}/annual-reports/2026", json=sections, headers=business
            )
            return report if report["facts"]["distributions"] else None

        fy2026 = await eventually(declared, what="the declared distribution in FY2026")
        fy2026_pdf = await dis.get(f"/funds/{fund}/annual-reports/2026/pdf", headers=business)
    assert fy2026["facts"]["distributions"] == [
        {"total": 60_000, "per_unit": 6_000, "paid_on": None}
    ]
    fy2026_text = "".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(fy2026_pdf.content)).pages
    )
    assert "60,000" in fy2026_text
    assert "未払い" in fy2026_text
    assert unconfirmed["status"] == "draft"
    assert unconfirmed["facts"]["distributions"] == []
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/annual-report-state")
    assert not_over.status_code == 200  # FY2027 (to March 2027) exists; it is only drafted
    assert published["status"] == "published"
    assert published["total_sales"] == 0
    assert again.status_code == 409
    assert rewrite.status_code == 409
    assert document_id in [d["id"] for d in page["items"]]
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in (
        "年次報告書",
        "新しい蔵で初めての仕込みを行いました。",
        "調達した資金は蔵の修繕と設備に充てました。",
        "なし",
        "税理士",
        "123456",
    ):
        assert expected in text, expected
    assert public.status_code == 404


PERIODS = {1: (date(2024, 6, 15), date(2025, 3, 31)), 2: (date(2025, 4, 1), date(2026, 3, 31))}
"""The test fund's first two settlement periods (it formed on 15 June 2024)."""


def _declared(
    opened: FundOpened,
    *,
    period: int,
    per_unit: int,
    units: int,
    retained: int = 0,
    tax: int = 0,
    version: type[DividendDeclaredV1] = DividendDeclared,
) -> DividendDeclaredV1:
    """Subscription's declaration of a period (v2 unless ``version`` says v1), with no fees."""
    total = per_unit * units
    starts_on, ends_on = PERIODS[period]
    declared: dict[str, Any] = {
        "fund_id": opened.fund_id,
        "msme_id": opened.msme_id,
        "period_number": period,
        "period_start": starts_on,
        "period_end": ends_on,
        "sales": 3_000_000,
        "adjustment": 0,
        "cumulative_sales": 3_800_000,
        "distributable_sales": 2_000_000,
        "below_recoup": 2_000_000,
        "above_recoup": 0,
        "distributable_amount": total + retained,
        "units": units,
        "per_unit": per_unit,
        "retained": retained,
        "success_fee": 0,
        "investor_count": 1,
        "total_gross": total,
        "total_tax": tax,
        "total_net": total - tax,
        "business_owes": total,
        "payment_reference": "KM2N6Q8R4T7W" if total else None,
        "payment_due": ends_on.replace(month=6, day=30) if total else None,
        "batches": 1,
        "matures": False,
        "declared_at": datetime.now(UTC),
    }
    if version is DividendDeclared:
        declared |= {"fees": [], "fees_total": 0}
    return version.model_validate(declared)


def _paid(
    opened: FundOpened, *, period: int, gross: int, tax: int, paid_on: date
) -> DistributionPaid:
    """The ledger's word that the period's distribution was paid out to its one investor."""
    return DistributionPaid(
        fund_id=opened.fund_id,
        msme_id=opened.msme_id,
        period_number=period,
        bank_id="hokkaido-bank",
        deposit_id=uuid.uuid4(),
        investor_count=1,
        payout_count=1,
        total_gross=gross,
        total_tax=tax,
        total_net=gross - tax,
        success_fee=0,
        fees_settled=0,
        paid_on=paid_on,
        paid_at=datetime(paid_on.year, paid_on.month, paid_on.day, 1, 0, tzinfo=UTC),
    )


async def _notices(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    page = await call(client, "GET", "/me/documents", headers=headers)
    return [d for d in page["items"] if d["kind"] == "distribution_notice"]


async def test_a_paid_distribution_heard_before_its_declaration_is_noticed_once_to_holders(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    holder, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    bootstrap, ns = settings.kafka_bootstrap_servers, settings.topic_namespace
    ledger, subscription = events_topic("ledger", ns), events_topic("subscription", ns)
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))
        mine, theirs = bearer(Role.INVESTOR, holder), bearer(Role.INVESTOR, stranger)

        async def holders_known() -> bool:
            page = await call(dis, "GET", "/me/documents", headers=mine)
            return bool(page["items"])

        await eventually(holders_known, what="the holder's offering document")
        # Period 2: D = 4,800,150 over 400 units: floor(4,800,150 / 400) = 12,000 per unit,
        # gross 400 x 12,000 = 4,800,000 (150 retained). The investor paid in 10,000 a unit,
        # so 400 x 2,000 = 800,000 is profit, withheld at 20.42 %: 800,000 x 0.2042 =
        # 163,360; net 4,800,000 - 163,360 = 4,636,640.
        paid = _paid(opened, period=2, gross=4_800_000, tax=163_360, paid_on=date(2026, 6, 12))
        declared = _declared(
            opened, period=2, per_unit=12_000, units=400, retained=150, tax=163_360
        )
        await publish_events(bootstrap, ledger, "ledger", fund, [paid])

        async def payment_kept() -> Any:
            rows = await fetch(
                settings.database_url,
                "SELECT paid_on FROM paid_distributions WHERE fund_id = $1",
                opened.fund_id,
            )
            return rows or None

        await eventually(payment_kept, what="the payment, kept before the declaration")
        before_declaration = await _notices(dis, mine)
        await publish_events(
            bootstrap, subscription, "subscription", f"{fund}-declared", [declared]
        )
        [listed] = await eventually(lambda: _notices(dis, mine), what="the distribution notice")
        notice = await call(dis, "GET", f"/documents/{listed['id']}", headers=mine)
        pdf = await dis.get(f"/documents/{listed['id']}/pdf", headers=mine)
        stranger_sees = await dis.get(f"/documents/{listed['id']}", headers=theirs)
        stranger_notices = await _notices(dis, theirs)
        public = await dis.get(f"/public/documents/{listed['id']}")
        sections = {"overview": "二期目の仕込み。", "use_of_funds": "設備に充てました。"}
        fy2026 = await call(
            dis, "PUT", f"/funds/{fund}/annual-reports/2026", json=sections, headers=business
        )
        # A producer replaying both events (new envelopes the inbox has not seen) changes
        # nothing: the declaration and payment are kept, the notice is not made again.
        again = (f"{fund}-paid-again", f"{fund}-declared-again")
        await publish_events(bootstrap, ledger, "ledger", again[0], [paid])
        await publish_events(bootstrap, subscription, "subscription", again[1], [declared])

        async def replayed() -> bool:
            rows = await fetch(
                settings.database_url,
                "SELECT subject FROM inbox_subjects WHERE subject = ANY($1) AND last_seq = 1",
                list(again),
            )
            return len(rows) == 2

        await eventually(replayed, what="both events handled again")
        after_replay = await _notices(dis, mine)
    assert before_declaration == []
    data = notice["shown"]["data"]
    assert data == {
        "fund_name": "酒蔵の再建 Sake brewery",
        "period_number": 2,
        "period_start": "2025-04-01",
        "period_end": "2026-03-31",
        "distributable_amount": 4_800_150,
        "per_unit": 12_000,
        "total_gross": 4_800_000,
        "total_tax": 163_360,
        "total_net": 4_636_640,
        "investor_count": 1,
        "paid_on": "2026-06-12",
    }
    assert notice["status"] == "published"
    assert notice["shown"]["visibility"] == "investors"
    assert notice["shown"]["title"] == "分配のお知らせ 第2期 / Distribution notice, period 2"
    assert notice["shown"]["author"] == "disclosure"
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "分配のお知らせ" in text
    assert "4,636,640" in text
    assert stranger_sees.status_code == 404
    assert stranger_notices == []
    assert public.status_code == 404
    assert fy2026["facts"]["distributions"] == [
        {"total": 4_800_000, "per_unit": 12_000, "paid_on": "2026-06-12"}
    ]
    assert [n["id"] for n in after_replay] == [listed["id"]]
    # Handled again, not refused by the database and dead-lettered.
    assert await fetch(settings.database_url, "SELECT error FROM dead_letters") == []
    rows = await fetch(
        settings.database_url,
        "SELECT count(*) FROM documents WHERE fund_id = $1 AND kind = 'distribution_notice'",
        opened.fund_id,
    )
    assert rows[0][0] == 1


async def test_a_first_version_declaration_heard_before_its_payment_is_noticed_too(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    holder = str(uuid.uuid4())
    bootstrap, ns = settings.kafka_bootstrap_servers, settings.topic_namespace
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        mine = bearer(Role.INVESTOR, holder)
        # Period 1: 400 units x 5,000 = 2,000,000 gross, all of it repaying what was paid in
        # (10,000 a unit), so no tax: net 2,000,000.
        declared = _declared(
            opened, period=1, per_unit=5_000, units=400, version=DividendDeclaredV1
        )
        assert type(declared) is DividendDeclaredV1
        await publish_events(
            bootstrap,
            events_topic("subscription", ns),
            "subscription",
            f"{fund}-declared",
            [declared],
        )

        async def declaration_kept() -> Any:
            rows = await fetch(
                settings.database_url,
                "SELECT period_start, paid_on FROM declared_distributions WHERE fund_id = $1",
                opened.fund_id,
            )
            return rows or None

        [kept] = await eventually(declaration_kept, what="the v1 declaration")
        before_payment = await _notices(dis, mine)
        paid = _paid(opened, period=1, gross=2_000_000, tax=0, paid_on=date(2025, 6, 20))
        await publish_events(bootstrap, events_topic("ledger", ns), "ledger", fund, [paid])
        [listed] = await eventually(lambda: _notices(dis, mine), what="the distribution notice")
        notice = await call(dis, "GET", f"/documents/{listed['id']}", headers=mine)
    assert kept["period_start"] == date(2024, 6, 15)
    assert kept["paid_on"] is None
    assert before_payment == []
    data = notice["shown"]["data"]
    assert (data["period_number"], data["per_unit"], data["total_net"]) == (1, 5_000, 2_000_000)
    assert data["paid_on"] == "2025-06-20"
    [row] = await fetch(
        settings.database_url,
        "SELECT paid_on FROM declared_distributions WHERE fund_id = $1",
        opened.fund_id,
    )
    assert row["paid_on"] == date(2025, 6, 20)


def _sales(period: int, sales: object, **extra: Any) -> dict[str, Any]:
    return {
        "period_number": period,
        "sales": sales,
        "confirmer_kind": "accountant",
        "confirmer_name": "佐藤 一郎",
        "registration_number": "12345",
        "confirmed_on": "2026-05-01",
        **extra,
    }


async def test_approved_sales_are_reported_exactly_once_across_retries_and_restarts(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    holder = str(uuid.uuid4())
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))

        async def scheduled() -> Any:
            response = await dis.get(f"/funds/{fund}/disclosure-schedule", headers=business)
            formed = response.status_code == 200 and response.json()["periods"]
            return response.json() if formed else None

        schedule = await eventually(scheduled, what="the fund's reporting calendar")
        too_early = await dis.post(
            f"/funds/{fund}/sales-reports", json=_sales(3, 1_000), headers=business
        )
        bad_breakdown = await dis.post(
            f"/funds/{fund}/sales-reports",
            json=_sales(1, 1_000, breakdown=[{"label": "酒", "amount": 999}]),
            headers=business,
        )
        report = await call(
            dis,
            "POST",
            f"/funds/{fund}/sales-reports",
            201,
            json=_sales(1, 12_345_678, breakdown=[{"label": "酒", "amount": 12_345_678}]),
            headers=business,
        )
        second = await dis.post(f"/funds/{fund}/sales-reports", json=_sales(1, 1), headers=business)
        unconfirmed = await dis.post(f"/sales-reports/{report['id']}/approve", headers=STAFF)
        uploaded = await dis.post(
            f"/sales-reports/{report['id']}/files",
            params={"purpose": "confirmation", "filename": "確認書.pdf"},
            content=PDF,
            headers={**business, "Content-Type": "application/pdf"},
        )
        by_business = await dis.post(f"/sales-reports/{report['id']}/approve", headers=business)
        approved = await call(dis, "POST", f"/sales-reports/{report['id']}/approve", headers=STAFF)
        retried = await call(dis, "POST", f"/sales-reports/{report['id']}/approve", headers=STAFF)
    # A restarted service answers the retry the same way and emits nothing more.
    async with running(service("disclosure").create_app(settings)) as dis:
        after_restart = await call(
            dis, "POST", f"/sales-reports/{report['id']}/approve", headers=STAFF
        )
        late_file = await dis.post(
            f"/sales-reports/{report['id']}/files",
            params={"purpose": "supporting", "filename": "late.pdf"},
            content=PDF,
            headers={**business, "Content-Type": "application/pdf"},
        )
        page = await call(dis, "GET", "/me/documents", headers=bearer(Role.INVESTOR, holder))
        deadlines = await call(dis, "GET", f"/funds/{fund}/disclosure-schedule", headers=STAFF)
    assert [p["number"] for p in schedule["periods"]][:3] == [1, 2, 3]
    assert too_early.status_code == 409
    assert too_early.json()["type"].endswith("/period-not-ended")
    assert bad_breakdown.status_code == 422
    assert second.status_code == 409
    assert unconfirmed.status_code == 409
    assert uploaded.status_code == 201, uploaded.text
    assert by_business.status_code == 403
    assert approved["status"] == "approved"
    assert retried == approved == after_restart
    assert late_file.status_code == 409
    events = await fetch(
        settings.database_url,
        "SELECT envelope->'data' AS data FROM outbox_events WHERE type = 'SalesReported'",
    )
    assert len(events) == 1
    data = json.loads(events[0]["data"])
    assert data["fund_id"] == fund
    assert data["period_number"] == 1
    assert data["period_start"] == "2024-06-15"
    assert data["period_end"] == "2025-03-31"
    assert data["sales"] == 12_345_678
    assert data["adjustment"] == 0
    assert data["confirmation_id"] == approved["confirmation"]["confirmation_id"]
    assert any(d["kind"] == "sales_report" for d in page["items"])
    period_1 = next(p for p in deadlines["periods"] if p["number"] == 1)
    assert (period_1["deadline_status"], period_1["report_status"]) == ("met", "approved")


async def test_a_closing_heard_before_the_opening_still_makes_the_calendar(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    opened = sample_fund_opened()
    opened = opened.model_copy(update={"terms_digest": _digest(opened)})
    closed = FundClosed(
        fund_id=opened.fund_id,
        msme_id=opened.msme_id,
        outcome=FundOutcome.SUCCEEDED,
        units_confirmed=400,
        amount_raised=4_000_000,
        handling_fees_collected=200_000,
        investor_count=1,
        closed_at=FORMED_AT,
    )
    bootstrap, ns, fund = (
        settings.kafka_bootstrap_servers,
        settings.topic_namespace,
        str(opened.fund_id),
    )
    async with running(service("disclosure").create_app(settings)) as dis:
        await publish_events(
            bootstrap, events_topic("subscription", ns), "subscription", fund, [closed]
        )

        async def closing_kept() -> bool:
            rows = await fetch(
                settings.database_url,
                "SELECT outcome FROM funds WHERE fund_id = $1",
                opened.fund_id,
            )
            return bool(rows) and rows[0]["outcome"] == "formed"

        await eventually(closing_kept, what="the closing, kept before the fund is known")
        unknown = await dis.get(f"/public/funds/{fund}/documents")
        await publish_events(
            bootstrap, events_topic("onboarding", ns), "onboarding", fund, [opened]
        )

        async def scheduled() -> Any:
            response = await dis.get(f"/funds/{fund}/disclosure-schedule", headers=STAFF)
            return (
                response.json()
                if response.status_code == 200 and response.json()["periods"]
                else None
            )

        schedule = await eventually(scheduled, what="the calendar once the terms arrive")
    assert unknown.status_code == 404
    assert schedule["periods"][0]["starts_on"] == "2024-06-15"
    assert schedule["periods"][0]["ends_on"] == "2025-03-31"


async def test_hostile_callers_get_clear_refusals_and_nothing_is_stored(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True, attachment_max_bytes=1_024)
    holder = str(uuid.uuid4())
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings, holder)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))
        other_business = bearer(Role.MSME, str(uuid.uuid4()))
        await eventually(lambda: _document_listed(dis, fund, "offering_document"), what="the fund")
        news = {"kind": "fund_news", "title": "t", "body": "b", "visibility": "public"}
        keyed = {**business, "Idempotency-Key": "news-1"}
        first = await dis.post(f"/funds/{fund}/documents", json=news, headers=keyed)
        retried = await dis.post(f"/funds/{fund}/documents", json=news, headers=keyed)
        reused = await dis.post(
            f"/funds/{fund}/documents", json={**news, "title": "other"}, headers=keyed
        )
        nul = await dis.post(
            f"/funds/{fund}/documents", json={**news, "title": "a\u0000b"}, headers=business
        )
        offering = await dis.post(
            f"/funds/{fund}/documents",
            json={**news, "kind": "offering_document"},
            headers=business,
        )
        staff_only = await dis.post(
            f"/funds/{fund}/documents", json={**news, "visibility": "staff"}, headers=business
        )
        stranger = await dis.post(f"/funds/{fund}/documents", json=news, headers=other_business)
        huge = await dis.post(
            f"/funds/{fund}/sales-reports", json=_sales(1, 10**30), headers=business
        )
        text_amount = await dis.post(
            f"/funds/{fund}/sales-reports", json=_sales(1, "1000"), headers=business
        )
        doc = first.json()["id"]
        too_big = await dis.post(
            f"/documents/{doc}/attachments",
            params={"filename": "big.pdf"},
            content=PDF + b"0" * 2_000,
            headers={**business, "Content-Type": "application/pdf"},
        )
        sneaky_name = await dis.post(
            f"/documents/{doc}/attachments",
            params={"filename": "../etc/passwd"},
            content=PDF,
            headers={**business, "Content-Type": "application/pdf"},
        )
        bank = await dis.get("/me/documents", headers=bearer(Role.BANK, "hokkaido-bank"))
        crafted = await dis.get(f"/documents/{doc}", headers=bearer(Role.INVESTOR, "not-a-uuid"))
    assert first.status_code == 201
    assert retried.status_code == 201
    assert retried.json() == first.json()
    assert reused.status_code == 422
    assert nul.status_code == 422
    assert offering.status_code == 403
    assert staff_only.status_code == 422
    assert stranger.status_code == 404
    assert huge.status_code == 422
    assert text_amount.status_code == 422
    assert too_big.status_code == 413
    assert sneaky_name.status_code == 422
    assert bank.status_code == 403
    assert crafted.status_code in (401, 404)
    rows = await fetch(
        settings.database_url, "SELECT count(*) FROM documents WHERE fund_id = $1", opened.fund_id
    )
    assert rows[0][0] == 2  # the offering document and the one news draft
    assert await fetch(settings.database_url, "SELECT 1 FROM sales_reports") == []
    assert await fetch(settings.database_url, "SELECT 1 FROM attachments") == []


async def test_public_news_is_listed_and_in_the_atom_feed_investor_news_is_not(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=True)
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))
        await eventually(lambda: _document_listed(dis, fund, "offering_document"), what="fund")
        published = []
        for title, visibility in (
            ("蔵開きのご案内 / Open day", "public"),
            ("内々の話", "investors"),
        ):
            draft = await call(
                dis,
                "POST",
                f"/funds/{fund}/documents",
                201,
                json={
                    "kind": "fund_news",
                    "title": title,
                    "body": "本文",
                    "visibility": visibility,
                },
                headers=business,
            )
            await call(dis, "POST", f"/documents/{draft['id']}/submit", headers=business)
            await call(dis, "POST", f"/documents/{draft['id']}/publish", headers=STAFF)
            published.append(draft["id"])
        first_page = await call(dis, "GET", f"/public/funds/{fund}/documents", params={"limit": 1})
        second_page = await call(
            dis,
            "GET",
            f"/public/funds/{fund}/documents",
            params={"limit": 1, "cursor": first_page["next_cursor"]},
        )
        feed = await dis.get(f"/public/funds/{fund}/news.atom")
    assert [d["id"] for d in first_page["items"]] == [published[0]]
    assert [d["kind"] for d in second_page["items"]] == ["offering_document"]
    assert second_page["next_cursor"] is None
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "蔵開きのご案内 / Open day" in body
    assert f"urn:uuid:{published[0]}" in body
    assert "内々の話" not in body


async def test_a_document_takes_so_many_files_and_no_more(settings_for: SettingsFactory) -> None:
    settings = settings_for("disclosure", run_workers=True)
    async with running(service("disclosure").create_app(settings)) as dis:
        opened = await _formed_fund(settings)
        fund = str(opened.fund_id)
        business = bearer(Role.MSME, str(opened.msme_id))
        await eventually(lambda: _document_listed(dis, fund, "offering_document"), what="fund")
        draft = await call(
            dis,
            "POST",
            f"/funds/{fund}/documents",
            201,
            json={"kind": "fund_news", "title": "写真", "body": "", "visibility": "public"},
            headers=business,
        )
        upload = {**business, "Content-Type": "application/pdf"}
        answers = [
            await dis.post(
                f"/documents/{draft['id']}/attachments",
                params={"filename": f"photo-{n}.pdf"},
                content=PDF,
                headers=upload,
            )
            for n in range(21)
        ]
    assert [a.status_code for a in answers] == [201] * 20 + [409]
    assert answers[-1].json()["type"].endswith("/document-full")
    assert len(answers[-2].json()["shown"]["attachments"]) == 20
    kept = [p for p in settings.documents_dir.rglob("*") if p.is_file()]  # type: ignore[attr-defined]
    assert len(kept) == 20
