"""The subsidy service over the real database and broker: a municipality's programme,
applications known from onboarding's events, reviews and the score, awards in score order
within the budget under any concurrency (SubsidyGranted), revocation and payment
(SubsidyRevoked, SubsidyPaid), lapse with a failed fund, the fiscal-year boundary, and the
leverage report as JSON, CSV and SVG."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from math import floor
from typing import Any
from xml.etree import ElementTree as ET

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from helpers import STAFF, SettingsFactory, call, fetch, publish_events
from kumiai.auth import Role
from kumiai.contracts.ledger import SubsidyPaid
from kumiai.contracts.onboarding import (
    ApplicationSubmitted,
    FundCancelled,
    FundFees,
    FundOpenedV1,
    FundOpenedV2,
)
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.errors import PROBLEM_BASE
from kumiai.events import Envelope
from kumiai.periods import government_fiscal_year
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running, sample_fund_opened

JST = timezone(timedelta(hours=9))
K_CITY = "012068"  # Kushiro: the K City of the tests, registered as a partner below
HAKODATE = "012025"  # seeded partners (helpers.PARTNERS)
SAPPORO = "011002"
K = bearer(Role.MUNICIPALITY, K_CITY)
HAKODATE_CITY = bearer(Role.MUNICIPALITY, HAKODATE)
K_CRITERIA: list[dict[str, Any]] = [
    {"key": "unique_local_features", "title": "地域独自の特色", "weight": 25},
    {"key": "resonates_with_people", "title": "共感を呼ぶか", "weight": 15},
    {"key": "attachment_to_the_city", "title": "市への愛着", "weight": 10},
    {"key": "economic_feasibility", "title": "経済的な実現性", "weight": 50},
]
FEE = 900_000
CAP = 800_000


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + slug, body
    return body


@dataclass
class Applicant:
    """A business known from onboarding's events: its onboarding application (and fund)."""

    msme_id: uuid.UUID
    application_id: uuid.UUID
    fund_id: uuid.UUID | None = None

    @property
    def token(self) -> dict[str, str]:
        return bearer(Role.MSME, str(self.msme_id))


@dataclass
class Town:
    """The subsidy service running against the test's database and broker."""

    client: httpx.AsyncClient
    settings: ServiceSettings
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.database_url

    async def publish(self, source: str, subject: uuid.UUID, *payloads: Any) -> None:
        """Publish events as ``source`` would, numbering each subject's events in turn."""
        key = f"{source}/{subject}"
        first = self.counters.get(key, 0) + 1
        self.counters[key] = first + len(payloads) - 1
        topic = events_topic(source, self.settings.topic_namespace)
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            topic,
            source,
            str(subject),
            list(payloads),
            first,
        )

    async def programme(self, headers: dict[str, str] = K, **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "municipality_code": K_CITY,
            "name": "K市クラウドファンディング活用支援事業",
            "budget": 5_000_000,
            "max_awards": 5,
            "coverage_ppm": 900_000,
            "cap_per_award": CAP,
            "applications_open_at": (now - timedelta(hours=1)).isoformat(),
            "applications_close_at": (now + timedelta(hours=1)).isoformat(),
            "criteria": K_CRITERIA,
            "pass_mark": 60,
            "reviewers_required": 1,
            "lapses_if_fund_fails": True,
        }
        body.update(overrides)
        created: dict[str, Any] = await call(
            self.client, "POST", "/programmes", 201, json=body, headers=headers
        )
        return created

    async def applicants(self, count: int, code: str = K_CITY) -> list[Applicant]:
        """Businesses whose onboarding applications (naming ``code``) the service heard of."""
        made = [Applicant(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
        for one in made:
            await self.publish(
                "onboarding",
                one.application_id,
                ApplicationSubmitted(
                    application_id=one.application_id,
                    msme_id=one.msme_id,
                    municipality_code=code,
                    amount_sought=5_000_000,
                    submitted_at=datetime.now(UTC),
                ),
            )
        ids = [one.application_id for one in made]
        await eventually(
            lambda: self.count_rows("onboarding_applications", "application_id", ids),
            timeout_s=60,
            what="the onboarding applications heard",
        )
        return made

    async def open_funds(self, applicants: Sequence[Applicant], fee: int = FEE) -> None:
        """Each applicant's fund opened (``FundOpened`` v3, with its arrangement fee)."""
        for one in applicants:
            opened = sample_fund_opened(
                msme_id=one.msme_id,
                application_id=one.application_id,
                municipality_code=K_CITY,
                fees=FundFees(
                    arrangement_fee=fee,
                    operation_fee_rate_ppm=20_000,
                    audit_fee_first_year=150_000,
                    audit_fee_later_years=100_000,
                    success_fee_rate_ppm=20_000,
                ),
            )
            one.fund_id = opened.fund_id
            await self.publish("onboarding", opened.fund_id, opened)
        ids = [one.fund_id for one in applicants]
        await eventually(
            lambda: self.count_rows("funds", "fund_id", ids, "application_id IS NOT NULL"),
            timeout_s=60,
            what="the funds heard",
        )

    async def close_fund(self, one: Applicant, outcome: FundOutcome, raised: int = 0) -> None:
        assert one.fund_id is not None
        units = raised // 10_000
        await self.publish(
            "subscription",
            one.fund_id,
            FundClosed(
                fund_id=one.fund_id,
                msme_id=one.msme_id,
                outcome=outcome,
                units_confirmed=units,
                amount_raised=raised,
                handling_fees_collected=units * 500,
                investor_count=min(units, 100),
                closed_at=datetime.now(UTC),
            ),
        )
        status = "formed" if outcome is FundOutcome.SUCCEEDED else "failed"
        await eventually(
            lambda: self.count_rows("funds", "fund_id", [one.fund_id], f"status = '{status}'"),
            timeout_s=60,
            what=f"the fund {status}",
        )

    async def pay(self, award: dict[str, Any]) -> None:
        """The municipality's transfer settled the award (the ledger's ``SubsidyPaid``)."""
        fund = uuid.UUID(award["fund_id"])
        await self.publish(
            "ledger",
            fund,
            SubsidyPaid(
                award_id=uuid.UUID(award["id"]),
                fund_id=fund,
                municipality_code=award["municipality_code"],
                amount=award["amount"],
                deposit_id=uuid.uuid4(),
                bank_id="hokkaido-bank",
                value_date=date(2016, 3, 15),
                entry_id=uuid.uuid4(),
                paid_at=datetime(2016, 3, 15, 10, tzinfo=JST),
            ),
        )

    async def apply(self, programme: dict[str, Any], one: Applicant) -> dict[str, Any]:
        applied: dict[str, Any] = await call(
            self.client,
            "POST",
            f"/programmes/{programme['id']}/applications",
            201,
            json={"application_id": str(one.application_id), "summary": "地元の昆布を使った新商品"},
            headers=one.token,
        )
        return applied

    async def review(
        self, application: dict[str, Any], marks: Sequence[int], headers: dict[str, str] = K
    ) -> dict[str, Any]:
        reviewed: dict[str, Any] = await call(
            self.client,
            "PUT",
            f"/programme-applications/{application['id']}/review",
            json={
                "marks": [
                    {"criterion": c["key"], "mark": m, "comment": "よい"}
                    for c, m in zip(K_CRITERIA, marks, strict=True)
                ],
                "comment": "審査済み",
            },
            headers=headers,
        )
        return reviewed

    async def close(self, programme: dict[str, Any], headers: dict[str, str] = K) -> None:
        await call(
            self.client,
            "POST",
            f"/programmes/{programme['id']}/close-applications",
            headers=headers,
        )

    async def award(self, application: dict[str, Any], headers: dict[str, str] = K) -> Any:
        return await self.client.post(
            f"/programme-applications/{application['id']}/award", headers=headers
        )

    async def report(self, programme: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = await call(
            self.client, "GET", f"/programmes/{programme['id']}/report", headers=K
        )
        return body

    async def award_status(self, award: dict[str, Any], wanted: str) -> dict[str, Any] | None:
        now: dict[str, Any] = await call(self.client, "GET", f"/awards/{award['id']}", headers=K)
        return now if now["status"] == wanted else None

    async def count_rows(
        self, table: str, column: str, ids: Sequence[uuid.UUID | None], extra: str = "TRUE"
    ) -> bool:
        rows = await fetch(
            self.url,
            f"SELECT count(*) FROM {table} WHERE {column} = ANY($1::uuid[]) AND {extra}",  # noqa: S608
            list(ids),
        )
        return int(rows[0][0]) == len(ids)


@contextlib.asynccontextmanager
async def _town(settings_for: SettingsFactory) -> AsyncIterator[Town]:
    settings = settings_for("subsidy")
    # K City's token counts once it is a registered partner (as the seeded ones are).
    await fetch(
        settings.database_url,
        "INSERT INTO partners (partner_id, kind, name, status, version, registered_at) "
        "VALUES ($1, 'municipality', 'K City', 'active', 0, now()) ON CONFLICT DO NOTHING",
        K_CITY,
    )
    async with running(service("subsidy").create_app(settings)) as client:
        yield Town(client, settings)


@pytest.fixture
async def town(settings_for: SettingsFactory) -> AsyncIterator[Town]:
    async with _town(settings_for) as made:
        yield made


async def _subsidy_events(settings: ServiceSettings, wanted: int) -> list[Envelope]:
    """The subsidy service's events on the broker, from the start of its topic."""
    topic = events_topic("subsidy", settings.topic_namespace)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen: list[Envelope] = []

        async def read() -> list[Envelope] | None:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(Envelope.from_bytes(m.value) for m in messages if m.value)
            return seen if len(seen) >= wanted else None

        await eventually(read, timeout_s=60, what=f"{wanted} subsidy events")
        return sorted(seen, key=lambda e: e.time)
    finally:
        await consumer.stop()


def _expected_score(sheets: Sequence[Sequence[int]]) -> int:
    exact = sum(
        Fraction(c["weight"]) * Fraction(sum(s[i] for s in sheets), len(sheets))
        for i, c in enumerate(K_CRITERIA)
    )
    return floor(exact)


# -- the K City programme, end to end -------------------------------------------------------


async def test_k_city_selects_awards_revokes_and_is_paid(town: Town) -> None:
    client = town.client
    programme = await town.programme(reviewers_required=2)
    assert programme["fiscal_year"] == government_fiscal_year(datetime.now(UTC))
    assert (programme["budget_left"], programme["awards_left"]) == (5_000_000, 5)
    assert programme["taking_applications"] is True

    # Another municipality neither sees it nor creates programmes for K City (403: the
    # request is well-formed, the caller lacks the authority); banks and investors are out.
    hidden = await client.get(f"/programmes/{programme['id']}", headers=HAKODATE_CITY)
    _problem(hidden, 404, "unknown-programme")
    listed = await call(client, "GET", "/programmes", headers=HAKODATE_CITY)
    assert listed["items"] == []
    posing = await client.post(
        "/programmes",
        json={
            "municipality_code": K_CITY,
            "name": "乗っ取り",
            "budget": 1_000_000,
            "max_awards": 1,
            "coverage_ppm": 500_000,
            "cap_per_award": 100_000,
            "applications_open_at": programme["applications_open_at"],
            "applications_close_at": programme["applications_close_at"],
            "criteria": K_CRITERIA,
            "pass_mark": 50,
            "lapses_if_fund_fails": False,
        },
        headers=HAKODATE_CITY,
    )
    _problem(posing, 403, "not-your-municipality")
    for outsider in (bearer(Role.BANK, "hokkaido-bank"), bearer(Role.INVESTOR, str(uuid.uuid4()))):
        assert (await client.get("/programmes", headers=outsider)).status_code == 403

    first, second = await town.applicants(2)
    (of_sapporo,) = await town.applicants(1, code=SAPPORO)
    a = await town.apply(programme, first)
    b = await town.apply(programme, second)
    assert a["status"] == "applied"
    assert a["municipality_code"] == K_CITY
    assert a["sheets"] is None  # the business does not see reviewers' sheets
    again = await client.post(
        f"/programmes/{programme['id']}/applications",
        json={"application_id": str(first.application_id)},
        headers=first.token,
    )
    _problem(again, 409, "already-applied")
    sapporo = await client.post(
        f"/programmes/{programme['id']}/applications",
        json={"application_id": str(of_sapporo.application_id)},
        headers=of_sapporo.token,
    )
    body = _problem(sapporo, 422, "other-municipality")
    assert (body["application_municipality"], body["programme_municipality"]) == (
        SAPPORO,
        K_CITY,
    )
    unknown = await client.post(
        f"/programmes/{programme['id']}/applications",
        json={"application_id": str(uuid.uuid4())},
        headers=first.token,
    )
    _problem(unknown, 422, "unknown-onboarding-application")
    not_hers = await client.post(
        f"/programmes/{programme['id']}/applications",
        json={"application_id": str(second.application_id)},
        headers=first.token,
    )
    _problem(not_hers, 422, "unknown-onboarding-application")

    # Two reviewers: K City's officer and platform staff.
    a_sheets = [(80, 60, 70, 90), (71, 80, 50, 61)]
    await town.review(a, a_sheets[0], headers=K)
    one_sheet = await call(client, "GET", f"/programme-applications/{a['id']}", headers=K)
    assert (one_sheet["reviewers"], one_sheet["passed"]) == (1, False)  # two are required
    reviewed_a = await town.review(a, a_sheets[1], headers=STAFF)
    b_sheets = [(60, 60, 60, 70), (70, 60, 60, 60)]
    await town.review(b, b_sheets[0], headers=K)
    reviewed_b = await town.review(b, b_sheets[1], headers=STAFF)
    assert reviewed_a["score_centi"] == _expected_score(a_sheets) == 7_312
    assert reviewed_a["score"] == "73.12"
    assert reviewed_a["passed"] is True
    assert len(reviewed_a["sheets"]) == 2
    assert reviewed_b["score_centi"] == _expected_score(b_sheets) == 6_375
    # A reviewer's second sheet replaces the first.
    await town.review(b, b_sheets[1], headers=STAFF)
    assert (await call(client, "GET", f"/programme-applications/{b['id']}", headers=K))[
        "reviewers"
    ] == 2
    ordered = await call(client, "GET", f"/programmes/{programme['id']}/applications", headers=K)
    assert [x["id"] for x in ordered["items"]] == [a["id"], b["id"]]

    _problem(await town.award(a), 409, "applications-still-open")
    await town.close(programme)
    _problem(await town.award(b), 409, "not-in-score-order")
    no_fund = _problem(await town.award(a), 409, "fund-not-open")
    assert "FundOpened" in no_fund["detail"]

    await town.open_funds([first, second])
    hakodate_award = await town.award(a, headers=HAKODATE_CITY)
    _problem(hakodate_award, 404, "unknown-programme-application")
    granted = await town.award(a)
    assert granted.status_code == 201, granted.text
    award_a = granted.json()
    assert (award_a["amount"], award_a["status"]) == (CAP, "granted")
    assert award_a["fund_id"] == str(first.fund_id)
    award_b = (await town.award(b)).json()  # the higher one is awarded: b's turn
    assert award_b["status"] == "granted"
    report = await town.report(programme)
    assert (report["used"], report["left"]) == (1_600_000, 3_400_000)
    assert (report["awards_used"], report["awards_left"]) == (2, 3)
    assert [(x["rank"], x["status"]) for x in report["applicants"]] == [
        (1, "awarded"),
        (2, "awarded"),
    ]

    # Revoked before payment: the budget is released.
    revoked = await call(
        client,
        "POST",
        f"/awards/{award_b['id']}/revoke",
        json={"note": "事業計画の取り下げ"},
        headers=K,
    )
    assert (revoked["status"], revoked["repayment_due"]) == ("revoked", None)
    assert (await town.report(programme))["used"] == CAP

    # Paid, then revoked: the business owes it back; the budget stays used.
    await town.pay(award_a)
    paid = await eventually(lambda: town.award_status(award_a, "paid"), what="the payment")
    assert (paid["value_date"], paid["deposit_id"] is not None) == ("2016-03-15", True)
    clawed = await call(
        client, "POST", f"/awards/{award_a['id']}/revoke", json={"note": "虚偽申請"}, headers=STAFF
    )
    assert (clawed["status"], clawed["repayment_due"]) == ("repayment_due", CAP)
    _problem(
        await client.post(f"/awards/{award_a['id']}/revoke", json={"note": "x"}, headers=K),
        409,
        "not-revocable",
    )
    assert (await town.report(programme))["used"] == CAP

    # Who sees the awards.
    assert (await call(client, "GET", f"/awards/{award_a['id']}", headers=first.token))["id"]
    _problem(
        await client.get(f"/awards/{award_a['id']}", headers=second.token), 404, "unknown-award"
    )
    _problem(
        await client.get(f"/awards/{award_a['id']}", headers=HAKODATE_CITY), 404, "unknown-award"
    )
    assert (await call(client, "GET", "/awards", headers=HAKODATE_CITY))["items"] == []
    mine = await call(client, "GET", "/awards", headers=first.token)
    assert [x["id"] for x in mine["items"]] == [award_a["id"]]

    events = await _subsidy_events(town.settings, 4)
    granted_events = [e for e in events if e.type == "SubsidyGranted"]
    assert len(granted_events) == 2
    first_grant = next(e for e in granted_events if e.data["award_id"] == award_a["id"])
    assert first_grant.subject == str(first.fund_id)
    assert first_grant.data == {
        "award_id": award_a["id"],
        "programme_id": programme["id"],
        "municipality_code": K_CITY,
        "fiscal_year": programme["fiscal_year"],
        "fund_id": str(first.fund_id),
        "msme_id": str(first.msme_id),
        "application_id": str(first.application_id),
        "arrangement_fee": FEE,
        "amount": CAP,
        "currency": "JPY",
        "payment_reference": award_a["payment_reference"],
        "lapses_if_fund_fails": True,
        "granted_at": first_grant.data["granted_at"],
    }
    revocations = [e.data for e in events if e.type == "SubsidyRevoked"]
    assert sorted((r["award_id"], r["reason"]) for r in revocations) == sorted(
        [(award_a["id"], "revoked"), (award_b["id"], "revoked")]
    )


async def test_declining_the_higher_score_lets_the_next_one_be_awarded(town: Town) -> None:
    programme = await town.programme()
    best, second, third = await town.applicants(3)
    applied = []
    for one, mark in ((best, 90), (second, 80), (third, 70)):
        application = await town.apply(programme, one)
        await town.review(application, (mark, mark, mark, mark))
        applied.append(application)
    await town.close(programme)
    await town.open_funds([best, second, third])
    refused = _problem(await town.award(applied[1]), 409, "not-in-score-order")
    assert refused["higher"] == [applied[0]["id"]]
    declined = await call(
        town.client,
        "POST",
        f"/programme-applications/{applied[0]['id']}/decline",
        json={"reason": "同一事業で他の補助金を受給済み"},
        headers=K,
    )
    assert (declined["status"], declined["decline_reason"]) == (
        "declined",
        "同一事業で他の補助金を受給済み",
    )
    assert (await town.award(applied[1])).status_code == 201
    _problem(await town.award(applied[0]), 409, "not-awardable")
    _problem(await town.award(applied[1]), 409, "not-awardable")
    report = await town.report(programme)
    assert [(x["status"], x["rank"]) for x in report["applicants"]] == [
        ("declined", 1),
        ("awarded", 2),
        ("applied", 3),
    ]


async def test_a_failed_fund_lapses_a_grant_only_where_the_programme_says_so(town: Town) -> None:
    lapsing = await town.programme(lapses_if_fund_fails=True)
    keeping = await town.programme(lapses_if_fund_fails=False)
    one, other, cancelled = await town.applicants(3)
    applications = []
    for programme, applicant in ((lapsing, one), (keeping, other), (lapsing, cancelled)):
        applied = await town.apply(programme, applicant)
        await town.review(applied, (100, 100, 100, 100))
        applications.append(applied)
    await town.close(lapsing)
    await town.close(keeping)
    await town.open_funds([one, other, cancelled])
    made = []
    for applied in applications:
        response = await town.award(applied)
        assert response.status_code == 201, response.text
        made.append(response.json())
    await town.close_fund(one, FundOutcome.FAILED)
    await town.close_fund(other, FundOutcome.FAILED)
    assert cancelled.fund_id is not None
    await town.publish(
        "onboarding",
        cancelled.fund_id,
        FundCancelled(
            fund_id=cancelled.fund_id,
            msme_id=cancelled.msme_id,
            application_id=cancelled.application_id,
            reason="事業者の辞退",
            cancelled_at=datetime.now(UTC),
        ),
    )
    lapsed = await eventually(lambda: town.award_status(made[0], "lapsed"), what="the lapse")
    assert lapsed["lapsed_at"] is not None
    await eventually(lambda: town.award_status(made[2], "lapsed"), what="the cancelled fund")
    # The failure is recorded in the transaction that would have lapsed the grant: heard.
    still = await call(town.client, "GET", f"/awards/{made[1]['id']}", headers=K)
    assert still["status"] == "granted"
    assert (await town.report(lapsing))["used"] == 0
    assert (await town.report(keeping))["used"] == CAP
    events = await _subsidy_events(town.settings, 5)
    lapses = {e.data["award_id"] for e in events if e.type == "SubsidyRevoked"}
    assert lapses == {made[0]["id"], made[2]["id"]}
    assert all(e.data["reason"] == "lapsed" for e in events if e.type == "SubsidyRevoked")


async def test_fund_opened_of_every_version_is_heard_in_any_order(town: Town) -> None:
    programme = await town.programme()
    v2_business, late_opened = await town.applicants(2)
    for one in (v2_business, late_opened):
        await town.review(await town.apply(programme, one), (80, 80, 80, 80))
    await town.close(programme)
    # v2 (per-period threshold only) carries the application and the fee, as v3 does.
    v3 = sample_fund_opened(
        msme_id=v2_business.msme_id,
        application_id=v2_business.application_id,
        municipality_code=K_CITY,
        fees=FundFees(
            arrangement_fee=FEE,
            operation_fee_rate_ppm=20_000,
            audit_fee_first_year=150_000,
            audit_fee_later_years=100_000,
            success_fee_rate_ppm=20_000,
        ),
    )
    fields = v3.model_dump()
    fields["revenue_share"].pop("threshold_basis")
    v2 = FundOpenedV2(**fields)
    v2_business.fund_id = v2.fund_id
    v1 = FundOpenedV1(
        fund_id=uuid.uuid4(),
        msme_id=v2_business.msme_id,
        name="An old fund",
        unit_price=10_000,
        handling_fee_per_unit=500,
        units_offered=100,
        formation_threshold_units=50,
        max_units_per_investor=10,
        offering_start=datetime.now(UTC),
        offering_end=datetime.now(UTC) + timedelta(days=30),
    )
    await town.publish("onboarding", v1.fund_id, v1)
    await town.publish("onboarding", v2.fund_id, v2)
    # Subscription's FundClosed may come before onboarding's FundOpened (two topics).
    late_fund = v3.model_copy(
        update={
            "fund_id": uuid.uuid4(),
            "msme_id": late_opened.msme_id,
            "application_id": late_opened.application_id,
        }
    )
    late_opened.fund_id = late_fund.fund_id
    await town.close_fund(late_opened, FundOutcome.SUCCEEDED, raised=4_000_000)
    await town.publish("onboarding", late_fund.fund_id, late_fund)
    await eventually(
        lambda: town.count_rows(
            "funds", "fund_id", [v2.fund_id, late_fund.fund_id], "application_id IS NOT NULL"
        ),
        what="the funds heard",
    )
    rows = await fetch(
        town.url,
        "SELECT status, amount_raised, arrangement_fee FROM funds WHERE fund_id = $1",
        late_fund.fund_id,
    )
    assert tuple(rows[0]) == ("formed", 4_000_000, FEE)
    assert await fetch(town.url, "SELECT 1 FROM funds WHERE fund_id = $1", v1.fund_id) == []
    ordered = await call(
        town.client, "GET", f"/programmes/{programme['id']}/applications", headers=K
    )
    for application in ordered["items"]:
        response = await town.award(application)
        assert response.status_code == 201, response.text
    awarded = await call(town.client, "GET", "/awards", headers=K)
    assert {a["fund_id"] for a in awarded["items"]} == {str(v2.fund_id), str(late_fund.fund_id)}
    dead = await fetch(town.url, "SELECT count(*) FROM dead_letters")
    assert dead[0][0] == 0


# -- concurrency -----------------------------------------------------------------------------


async def _race(town: Town, *, budget: int, max_awards: int) -> tuple[list[httpx.Response], int]:
    """20 passed applications with equal scores and open funds, awarded at the same time;
    the answers, and the highest ``reserved`` seen while they ran."""
    programme = await town.programme(budget=budget, max_awards=max_awards)
    applicants = await town.applicants(20)
    applied = [await town.apply(programme, one) for one in applicants]
    for application in applied:
        await town.review(application, (70, 70, 70, 70))
    await town.close(programme)
    await town.open_funds(applicants)
    highest = 0
    done = asyncio.Event()
    conn = await asyncpg.connect(town.url.replace("postgresql+asyncpg://", "postgresql://"))

    async def watch() -> None:
        nonlocal highest
        while not done.is_set():
            reserved = await conn.fetchval(
                "SELECT reserved FROM programmes WHERE id = $1", uuid.UUID(programme["id"])
            )
            highest = max(highest, int(reserved))
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    try:
        answers = await asyncio.gather(*(town.award(x) for x in applied))
    finally:
        done.set()
        await watcher
        await conn.close()
    rows = await fetch(
        town.url,
        "SELECT reserved, awards_count, budget, "
        "(SELECT count(*) FROM awards WHERE programme_id = $1 AND status = 'granted') "
        "FROM programmes WHERE id = $1",
        uuid.UUID(programme["id"]),
    )
    reserved, count, kept_budget, live = rows[0]
    assert reserved == sum(a.json()["amount"] for a in answers if a.status_code == 201)
    assert count == live
    assert reserved <= kept_budget
    return list(answers), highest


async def test_twenty_simultaneous_awards_never_exceed_the_number_of_awards(town: Town) -> None:
    answers, highest = await _race(town, budget=5 * CAP, max_awards=5)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [409] * 15
    slugs = {a.json()["type"].removeprefix(PROBLEM_BASE) for a in answers if a.status_code == 409}
    assert slugs <= {"awards-exhausted", "budget-exhausted"}
    assert highest <= 5 * CAP


async def test_twenty_simultaneous_awards_never_overspend_the_budget(town: Town) -> None:
    budget = 5 * CAP + CAP - 1  # room for five awards and not quite a sixth
    answers, highest = await _race(town, budget=budget, max_awards=20)
    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 15
    slugs = {a.json()["type"].removeprefix(PROBLEM_BASE) for a in answers if a.status_code == 409}
    assert slugs == {"budget-exhausted"}
    assert highest <= budget


# -- the fiscal year ---------------------------------------------------------------------------


async def test_the_fiscal_year_turns_at_midnight_on_1_april_in_japan(town: Town) -> None:
    before = datetime(2027, 3, 31, 23, 30, tzinfo=JST)
    after = datetime(2027, 4, 1, 0, 30, tzinfo=JST)
    made = []
    for opens in (before, after):
        made.append(
            await town.programme(
                headers=STAFF,
                municipality_code=HAKODATE,
                applications_open_at=opens.isoformat(),
                applications_close_at=(opens + timedelta(days=30)).isoformat(),
            )
        )
    assert [p["fiscal_year"] for p in made] == [2026, 2027]
    listed = await call(
        town.client, "GET", "/programmes", params={"fiscal_year": 2026}, headers=HAKODATE_CITY
    )
    assert [p["id"] for p in listed["items"]] == [made[0]["id"]]
    # The same instant written in UTC (31 March 15:30) is still 1 April in Japan.
    utc = await town.programme(
        headers=STAFF,
        municipality_code=HAKODATE,
        applications_open_at=after.astimezone(UTC).isoformat(),
        applications_close_at=(after + timedelta(days=30)).astimezone(UTC).isoformat(),
    )
    assert utc["fiscal_year"] == 2027


# -- leverage ----------------------------------------------------------------------------------


async def test_k_city_fy2015_leveraged_7_4_times(town: Town) -> None:
    client = town.client
    programme = await town.programme(fiscal_year=2015)
    funded = await town.applicants(2)
    for one in funded:
        await town.review(await town.apply(programme, one), (90, 90, 90, 90))
    await town.close(programme)
    await town.open_funds(funded)
    awards = []
    for application in (
        await call(client, "GET", f"/programmes/{programme['id']}/applications", headers=K)
    )["items"]:
        response = await town.award(application)
        assert response.status_code == 201, response.text
        awards.append(response.json())
    for one in funded:
        await town.close_fund(one, FundOutcome.SUCCEEDED, raised=5_950_000)
    for award in awards:
        await town.pay(award)
        await eventually(functools.partial(town.award_status, award, "paid"), what="paid")

    leverage = await call(client, "GET", "/leverage", params={"fiscal_year": 2015}, headers=K)
    (line,) = leverage["lines"]
    assert (line["funds"], line["raised"], line["subsidy_granted"], line["subsidy_paid"]) == (
        2,
        11_900_000,
        1_600_000,
        1_600_000,
    )
    assert line["ratio"] == "7.4"
    assert leverage["total"]["ratio"] == "7.4"
    staff_view = await call(
        client,
        "GET",
        "/leverage",
        params={"fiscal_year": 2015, "municipality_code": K_CITY},
        headers=STAFF,
    )
    assert staff_view == leverage
    elsewhere = await call(
        client, "GET", "/leverage", params={"fiscal_year": 2015}, headers=HAKODATE_CITY
    )
    assert (elsewhere["lines"], elsewhere["total"]["ratio"]) == ([], None)
    _problem(
        await client.get(
            "/leverage",
            params={"fiscal_year": 2015, "municipality_code": K_CITY},
            headers=HAKODATE_CITY,
        ),
        404,
        "unknown-municipality",
    )
    business = await client.get("/leverage", params={"fiscal_year": 2015}, headers=funded[0].token)
    assert business.status_code == 403

    csv_answer = await client.get("/leverage.csv", params={"fiscal_year": 2015}, headers=K)
    assert csv_answer.status_code == 200, csv_answer.text
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert "leverage-fy2015-012068.csv" in csv_answer.headers["content-disposition"]
    assert csv_answer.content.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"), newline="")))
    assert records[0][0] == "自治体コード"
    assert records[1][:2] == [K_CITY, programme["name"]]
    assert records[1][-1] == "7.4"
    assert records[-1][0] == "合計"
    assert records[-1][-1] == "7.4"
    assert "11900000" in records[1]

    svg_answer = await client.get("/leverage.svg", params={"fiscal_year": 2015}, headers=K)
    assert svg_answer.status_code == 200, svg_answer.text
    assert svg_answer.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg_answer.content)  # noqa: S314 - our own service's output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t for t in root.itertext())
    assert "7.4" in text
    assert "2015" in text
    assert b"<script" not in svg_answer.content


# -- hostile input -----------------------------------------------------------------------------


async def test_nul_bytes_and_huge_numbers_are_refused_never_a_500(town: Town) -> None:
    client = town.client
    programme = await town.programme()
    (one,) = await town.applicants(1)
    applied = await town.apply(programme, one)
    now = datetime.now(UTC)
    good: dict[str, Any] = {
        "municipality_code": K_CITY,
        "name": "K",
        "budget": 5_000_000,
        "max_awards": 5,
        "coverage_ppm": 900_000,
        "cap_per_award": CAP,
        "applications_open_at": now.isoformat(),
        "applications_close_at": (now + timedelta(days=1)).isoformat(),
        "criteria": K_CRITERIA,
        "pass_mark": 60,
        "lapses_if_fund_fails": True,
    }
    hostile: list[dict[str, Any]] = [
        {"name": "K\x00City"},
        {"budget": 10**30},
        {"cap_per_award": 10**30},
        {"max_awards": 10**30},
        {"coverage_ppm": 10**30},
        {"fiscal_year": 10**30},
        {"budget": "5000000"},
        {"lapses_if_fund_fails": 1},
        {"applications_open_at": "0001-01-01T00:00:00+14:00"},
        {"municipality_code": "012060"},  # a wrong check digit
        {"criteria": [{**K_CRITERIA[0], "weight": 10**30}]},
        {"criteria": [{**K_CRITERIA[0], "title": "\x00"}]},
    ]
    for change in hostile:
        answer = await client.post("/programmes", json={**good, **change}, headers=K)
        assert answer.status_code == 422, (change, answer.text)
    marks = [{"criterion": c["key"], "mark": 10**30} for c in K_CRITERIA]
    review = await client.put(
        f"/programme-applications/{applied['id']}/review", json={"marks": marks}, headers=K
    )
    assert review.status_code == 422, review.text
    nul = await client.post(
        f"/programmes/{programme['id']}/applications",
        json={"application_id": str(one.application_id), "summary": "\x00"},
        headers=one.token,
    )
    assert nul.status_code == 422, nul.text
    year = await client.get("/leverage", params={"fiscal_year": str(10**30)}, headers=K)
    assert year.status_code == 422, year.text
