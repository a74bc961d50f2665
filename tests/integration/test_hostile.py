"""The platform as a hostile partner bank, investor or attacker would try it.

One test per hole found when the money path was tried that way (numbered as
in the integrity review), each the attack itself, refused. Deeper checks of
each rule live beside its service's tests; three items need processes of
their own and live elsewhere: a crashed service, database or broker under
``make run`` (20) in ``test_make_run.py``, and bounded start and stop with a
hung broker (22) in ``test_service_lifecycle.py``; the console and log
format (23) in ``shared/tests/test_logging.py`` and ``test_make_run.py``.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from helpers import (
    BANK,
    STAFF,
    SettingsFactory,
    application_body,
    call,
    fetch,
    fund_terms,
    msme_body,
    personal_details,
    ready_application,
    ready_investor,
)
from kumiai.auth import Role
from kumiai.errors import PROBLEM_BASE
from kumiai.inbox import is_transient
from kumiai.periods import JAPAN, end_of_nth_day
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.testing import bearer, running, staff_token
from ledger_flows import Flows, deposit_body

EVIL_BANK = bearer(Role.BANK, "evil-bank")
CLEARING = "bank/hokkaido-bank/clearing"


@dataclass
class Ledger:
    client: httpx.AsyncClient
    url: str
    flows: Flows


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    settings = settings_for("ledger", run_workers=False)
    app = service("ledger").create_app(settings)
    async with running(app) as client:
        yield Ledger(client, settings.database_url, Flows(app))


@pytest.fixture
async def subscription(settings_for: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for("subscription", run_workers=False)
    async with running(service("subscription").create_app(settings)) as client:
        yield client


@pytest.fixture
async def onboarding(settings_for: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        yield client


def _entry(purpose: str, *legs: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "description": "an attempt",
        "reason": "an attacker with a staff token tries it",
        "postings": [{"account": a, "direction": d, "amount": n} for a, d, n in legs],
    }


async def _post_entry(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    headers = {**STAFF, "Idempotency-Key": str(uuid.uuid4())}
    return await client.post("/entries", json=body, headers=headers)


async def _paid(ledger: Ledger) -> tuple[Any, Any]:
    fund = await ledger.flows.open_fund()
    placed = await ledger.flows.subscribe(fund)
    deposit = await call(
        ledger.client,
        "POST",
        "/deposits",
        201,
        json=deposit_body("T-1", placed.amount_due, placed.payment_reference),
        headers=BANK,
    )
    assert deposit["status"] == "matched"
    return fund, placed


# -- Segregated money can be moved around its rules --------------------------------------


async def test_01_a_funds_escrow_moves_only_through_the_business_flows(ledger: Ledger) -> None:
    fund, placed = await _paid(ledger)
    escrow = f"fund/{fund.fund_id}/escrow"
    amount = placed.amount_due
    attempts = {
        "reversal out of escrow": _entry(
            "reversal", (escrow, "debit", amount), ("suspense", "credit", amount)
        ),
        "escrow credited from a bank": _entry(
            "adjustment", (CLEARING, "debit", 100), (escrow, "credit", 100)
        ),
        "early release": _entry(
            "release", (escrow, "debit", amount), (f"msme/{fund.msme_id}/payable", "credit", amount)
        ),
        "wallet refund": _entry(
            "refund",
            (escrow, "debit", amount),
            (f"investor/{uuid.uuid4()}/wallet", "credit", amount),
        ),
    }
    answers = {name: await _post_entry(ledger.client, body) for name, body in attempts.items()}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(attempts, 422)
    balance = await call(ledger.client, "GET", f"/accounts/{escrow}/balance", headers=STAFF)
    assert balance["posted"] == amount, "not a yen moved"


async def test_02_only_platform_services_hold_service_tokens_and_accounts_are_checked(
    ledger: Ledger,
) -> None:
    forged = await ledger.client.get("/trial-balance", headers=bearer(Role.SERVICE, "anything"))
    real_service = await ledger.client.get(
        "/trial-balance", headers=bearer(Role.SERVICE, "subscription")
    )
    bad_account = await _post_entry(
        ledger.client,
        _entry("adjustment", (CLEARING, "debit", 1), ("fund/not-a-uuid/escrow", "credit", 1)),
    )
    assert forged.status_code == 401
    assert real_service.status_code == 403, "no service calls the ledger's HTTP API"
    assert bad_account.status_code == 422
    assert "fund/not-a-uuid/escrow" in bad_account.json()["detail"]


async def test_03_unknown_partners_are_refused_and_a_bank_verifies_only_its_investors(
    subscription: httpx.AsyncClient,
) -> None:
    stranger = await ready_investor(subscription)
    investor = str(uuid.uuid4())
    await call(
        subscription,
        "POST",
        "/investors",
        201,
        json={"personal": personal_details(), "verifying_bank_id": "hokkaido-bank"},
        headers=bearer(Role.INVESTOR, investor),
    )
    verdict = {"status": "rejected", "note": "a hostile bank rejects a stranger"}
    evil = await subscription.post(
        f"/investors/{stranger}/verification", json=verdict, headers=EVIL_BANK
    )
    not_chosen = await subscription.post(
        f"/investors/{stranger}/verification", json=verdict, headers=BANK
    )
    chosen = await subscription.post(
        f"/investors/{investor}/verification",
        json={"status": "verified", "note": "documents checked"},
        headers=BANK,
    )
    assert evil.status_code == 403
    assert evil.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert not_chosen.status_code == 404
    assert chosen.status_code == 200
    stranger_now = await call(subscription, "GET", f"/investors/{stranger}", headers=STAFF)
    assert stranger_now["verification"] == "verified", "the stranger was not touched"


# -- Paid money stuck or not returned ---------------------------------------------------


async def test_04_a_deposit_ahead_of_its_subscription_is_matched_when_it_arrives(
    ledger: Ledger,
) -> None:
    fund = await ledger.flows.open_fund()
    placed = ledger.flows.subscription(fund)
    early = await call(
        ledger.client,
        "POST",
        "/deposits",
        201,
        json=deposit_body("T-early", placed.amount_due, placed.payment_reference),
        headers=BANK,
    )
    assert early["status"] == "suspense"
    await ledger.flows.place(placed)
    later = await call(ledger.client, "GET", f"/deposits/{early['id']}", headers=BANK)
    assert later["status"] == "matched"
    assert later["subscription_id"] == str(placed.subscription_id)


async def test_05_a_refund_is_paid_out_to_the_investors_account(ledger: Ledger) -> None:
    _, placed = await _paid(ledger)
    await ledger.flows.cancel(placed)
    payouts = (await call(ledger.client, "GET", "/payouts", headers=BANK))["items"]
    assert [(p["account"], p["amount"], p["status"]) for p in payouts] == [
        (f"investor/{placed.investor_id}/wallet", placed.amount_due, "instructed")
    ]
    await call(
        ledger.client,
        "POST",
        f"/payouts/{payouts[0]['id']}/confirm",
        json={"note": "sent to the investor's account"},
        headers=BANK,
    )
    wallet = await call(
        ledger.client,
        "GET",
        f"/accounts/investor/{placed.investor_id}/wallet/balance",
        headers=STAFF,
    )
    assert wallet["posted"] == 0, "the wallet is a waypoint, not the end"


async def test_06_a_failed_funds_subscriptions_are_refunded_and_free_the_limit(
    settings_for: SettingsFactory,
) -> None:
    from helpers import publish_events
    from kumiai.contracts.ledger import PaymentReceived
    from kumiai.topics import events_topic
    from kumiai_tools.testing import eventually

    settings = settings_for(
        "subscription",
        issuer_yearly_limit=500_000,
        cooling_off_test_period=timedelta(seconds=2),
    )
    async with running(service("subscription").create_app(settings)) as client:
        investor = await ready_investor(client)
        me = bearer(Role.INVESTOR, investor)
        fund = await _open_fund(
            client,
            settings,
            offering_end=datetime.now(UTC) + timedelta(seconds=8),
            units_offered=100,
            formation_threshold_units=100,
            max_units_per_investor=50,
        )
        order = await call(
            client,
            "POST",
            f"/offerings/{fund.fund_id}/subscriptions",
            201,
            json={"units": 50, "terms_digest": fund.terms_digest},
            headers={**me, "Idempotency-Key": "all-in"},
        )
        paid = PaymentReceived(
            deposit_id=uuid.uuid4(),
            subscription_id=uuid.UUID(order["id"]),
            fund_id=fund.fund_id,
            investor_id=uuid.UUID(investor),
            amount=order["amount_due"],
            value_date=datetime.now(UTC).date(),
            bank_id="hokkaido-bank",
            received_at=datetime.now(UTC),
        )
        ledger_topic = events_topic("ledger", settings.topic_namespace)
        await publish_events(
            settings.kafka_bootstrap_servers, ledger_topic, "ledger", str(fund.fund_id), [paid]
        )

        async def refunded() -> bool:
            body = await call(client, "GET", f"/subscriptions/{order['id']}", headers=me)
            return bool(body["status"] == "refunded")

        await eventually(refunded, timeout_s=60, what="the failed fund's subscription refunded")
        holdings = await call(client, "GET", f"/investors/{investor}/holdings", headers=me)
        again = await _open_fund(
            client, settings, msme_id=fund.msme_id, units_offered=100, max_units_per_investor=50
        )
        order_again = await client.post(
            f"/offerings/{again.fund_id}/subscriptions",
            json={"units": 50, "terms_digest": again.terms_digest},
            headers={**me, "Idempotency-Key": "same-issuer-again"},
        )
    assert holdings == []
    assert order_again.status_code == 201, "refunded money no longer counts towards the limit"


async def _status(client: httpx.AsyncClient, path: str, wanted: int) -> bool:
    return (await client.get(path)).status_code == wanted


# -- Rules that are off -----------------------------------------------------------------


async def test_07_the_issuer_limit_counts_the_twelve_months_before(
    settings_for: SettingsFactory,
) -> None:
    """500,000 late last year and 500,000 early this year were both accepted: the limit
    counted calendar years. It counts the 12 months before each subscription."""
    settings = settings_for("subscription", issuer_yearly_limit=500_000)
    async with running(service("subscription").create_app(settings)) as client:
        investor = await ready_investor(client)
        me = bearer(Role.INVESTOR, investor)
        first = await _open_fund(client, settings, units_offered=100, max_units_per_investor=50)
        second = await _open_fund(
            client, settings, msme_id=first.msme_id, units_offered=100, max_units_per_investor=50
        )
        earlier = await call(
            client,
            "POST",
            f"/offerings/{first.fund_id}/subscriptions",
            201,
            json={"units": 50, "terms_digest": first.terms_digest},
            headers={**me, "Idempotency-Key": "earlier"},
        )
        # Placed 364 days ago: in the previous calendar year, but within the past year.
        await fetch(
            settings.database_url,
            "UPDATE subscriptions SET placed_at = now() - interval '364 days' WHERE id = $1",
            uuid.UUID(earlier["id"]),
        )
        within = await client.post(
            f"/offerings/{second.fund_id}/subscriptions",
            json={"units": 1, "terms_digest": second.terms_digest},
            headers={**me, "Idempotency-Key": "within"},
        )
        await fetch(
            settings.database_url,
            "UPDATE subscriptions SET placed_at = now() - interval '367 days' WHERE id = $1",
            uuid.UUID(earlier["id"]),
        )
        beyond = await client.post(
            f"/offerings/{second.fund_id}/subscriptions",
            json={"units": 1, "terms_digest": second.terms_digest},
            headers={**me, "Idempotency-Key": "beyond"},
        )
    assert within.status_code == 422
    assert within.json()["type"] == PROBLEM_BASE + "over-limit"
    assert beyond.status_code == 201


async def _open_fund(client: httpx.AsyncClient, settings: Any, **overrides: Any) -> Any:
    from helpers import publish_events
    from kumiai.topics import events_topic
    from kumiai_tools.testing import eventually, sample_fund_opened

    fund = sample_fund_opened(**overrides)
    await publish_events(
        settings.kafka_bootstrap_servers,
        events_topic("onboarding", settings.topic_namespace),
        "onboarding",
        str(fund.fund_id),
        [fund],
    )
    await eventually(lambda: _status(client, f"/offerings/{fund.fund_id}", 200))
    return fund


def test_08_cooling_off_ends_with_the_eighth_day_in_japan_and_has_a_floor() -> None:
    from subscription.settings import Settings

    signed = datetime(2026, 12, 1, 23, 50, tzinfo=JAPAN)
    assert end_of_nth_day(signed, 8) == datetime(2026, 12, 9, tzinfo=JAPAN)
    real_key = "k1:" + base64.b64encode(b"k" * 32).decode()
    production: dict[str, Any] = {
        "environment": "production",
        "jwt_jwks_url": "https://id.example/protocol/openid-connect/certs",
        "data_keys": real_key,
    }
    assert Settings.model_validate(production).cooling_off_days == 8
    with pytest.raises(ValueError, match="cooling_off"):
        Settings.model_validate({**production, "cooling_off_days": 7})
    with pytest.raises(ValueError, match="cooling_off_test_period"):
        Settings.model_validate({**production, "cooling_off_test_period": timedelta(seconds=5)})


async def test_09_a_back_dated_start_does_not_shorten_the_offering(
    onboarding: httpx.AsyncClient,
) -> None:
    _, application = await ready_application(onboarding)
    now = datetime.now(UTC)
    terms = fund_terms(
        offering_start=(now - timedelta(days=2)).isoformat(),
        offering_end=(now + timedelta(minutes=4)).isoformat(),
    )
    drafted = await onboarding.post(
        "/funds", json={"application_id": application, "terms": terms}, headers=STAFF
    )
    assert drafted.status_code == 422
    assert "offering" in drafted.text


# -- Bad input must get a clear 4xx, never a 500 -----------------------------------------


@pytest.mark.parametrize("amount", [10**30, 2**63 - 1, "40000", True, 1e3, 0, -5])
async def test_10_amounts_are_strict_bounded_integers(ledger: Ledger, amount: object) -> None:
    deposit = await ledger.client.post(
        "/deposits", json={**deposit_body("T-x", 1, "KM-X"), "amount": amount}, headers=BANK
    )
    payout = await ledger.client.post(
        "/payouts",
        json={
            "account": f"investor/{uuid.uuid4()}/wallet",
            "amount": amount,
            "bank_id": "hokkaido-bank",
            "reference": "x",
        },
        headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert (deposit.status_code, payout.status_code) == (422, 422)
    assert deposit.json()["invalid_params"][0]["name"] == "body.amount"
    rows = await fetch(ledger.url, "SELECT count(*) AS n FROM deposits")
    assert rows[0]["n"] == 0


async def test_10_an_amount_sought_beyond_the_database_is_refused(
    onboarding: httpx.AsyncClient,
) -> None:
    business = await call(onboarding, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
    for amount in (10**30, 2**63 - 1, "40000", True):
        answer = await onboarding.post(
            f"/msmes/{business['id']}/applications",
            json=application_body(amount_sought=amount),
            headers=STAFF,
        )
        assert answer.status_code == 422, (amount, answer.text)


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "\x1b[2J", "x" * 20_000])
async def test_11_control_characters_and_overlong_text_are_refused_briefly(
    onboarding: httpx.AsyncClient, text: str
) -> None:
    answer = await onboarding.post("/msmes", json=msme_body(company_name=text), headers=STAFF)
    assert answer.status_code == 422
    assert len(answer.content) < 2_000, "the error does not echo the input back"


async def test_12_a_huge_body_is_refused_before_the_token_is_read(
    onboarding: httpx.AsyncClient,
) -> None:
    huge = b'{"company_name": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    answer = await onboarding.post(
        "/msmes", content=huge, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413, "no token was sent: the size is refused first"
    assert answer.json()["type"] == PROBLEM_BASE + "payload-too-large"


async def test_13_malformed_requests_get_clear_answers_that_leak_nothing(
    ledger: Ledger, onboarding: httpx.AsyncClient
) -> None:
    broken = await ledger.client.post(
        "/deposits",
        content=b'{"amount": 1,',
        headers={**BANK, "Content-Type": "application/json"},
    )
    no_token = await ledger.client.get("/trial-balance")
    nonsense = await onboarding.get("/funds", params={"status": "nonsense"}, headers=STAFF)
    old_date = await ledger.client.post(
        "/deposits", json=deposit_body("T-old", 100, "KM-X", value_date="1999-01-01"), headers=BANK
    )
    future = await ledger.client.post(
        "/deposits", json=deposit_body("T-new", 100, "KM-X", value_date="2999-01-01"), headers=BANK
    )
    hidden = await onboarding.get(f"/funds/{uuid.uuid4()}", headers=BANK)
    assert broken.status_code == 400
    assert broken.json()["type"] == PROBLEM_BASE + "malformed-json"
    assert "body.1" not in broken.text
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert nonsense.status_code == 422
    assert (old_date.status_code, future.status_code) == (422, 422)
    assert hidden.status_code == 404
    assert "application" not in hidden.json()["detail"]


async def test_14_a_database_that_is_down_is_a_503_to_retry(settings_for: SettingsFactory) -> None:
    down = settings_for(
        "ledger", database_url="postgresql+asyncpg://postgres@127.0.0.1:1/x", run_workers=False
    )
    async with running(service("ledger").create_app(down)) as client:
        answer = await client.post("/deposits", json=deposit_body("T-1", 100, "KM-X"), headers=BANK)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"


# -- Idempotency and tokens ---------------------------------------------------------------


async def test_15_a_callers_keys_cannot_block_the_ledgers_own(ledger: Ledger) -> None:
    fund = await ledger.flows.open_fund()
    placed = await ledger.flows.subscribe(fund)
    blocker = await ledger.client.post(
        "/entries",
        json=_entry("adjustment", (CLEARING, "debit", 5), ("suspense", "credit", 5)),
        headers={**STAFF, "Idempotency-Key": "deposit/hokkaido-bank/T-9"},
    )
    assert blocker.status_code == 201
    deposit = await ledger.client.post(
        "/deposits",
        json=deposit_body("T-9", placed.amount_due, placed.payment_reference),
        headers=BANK,
    )
    assert deposit.status_code == 201
    assert deposit.json()["status"] == "matched"


async def test_15_a_bank_sharing_a_staff_subject_replays_nothing_of_staffs(
    onboarding: httpx.AsyncClient,
) -> None:
    business = msme_body()
    key = {"Idempotency-Key": "register-1"}
    by_staff = await call(
        onboarding, "POST", "/msmes", 201, json=business, headers={**STAFF, **key}
    )
    posing = _token(role="bank", tenant="hokkaido-bank")  # sub "staff:platform", as staff's
    by_bank = await onboarding.post("/msmes", json=business, headers={**posing, **key})
    assert by_staff["contact"]["contact_email"] == "finance@example.jp"
    assert by_bank.status_code == 409, "a new request in the bank's own key space"
    assert "idempotent-replayed" not in by_bank.headers
    assert "finance@example.jp" not in by_bank.text


def _token(**claims: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + staff_token(**claims)}


async def test_16_tokens_allow_skew_and_refuse_the_rest(ledger: Ledger) -> None:
    now = int(time.time())
    skewed = await ledger.client.get("/trial-balance", headers=_token(iat=now + 10))
    eternal = await ledger.client.get("/trial-balance", headers=_token(exp=now + 10 * 86_400))
    no_tenant = await ledger.client.get("/trial-balance", headers=_token(tenant=""))
    bloated = await ledger.client.get("/trial-balance", headers=_token(pad="x" * 5_000))
    assert skewed.status_code == 200
    assert [r.status_code for r in (eternal, no_tenant, bloated)] == [401, 401, 401]


async def test_17_narrower_access(
    ledger: Ledger, onboarding: httpx.AsyncClient, subscription: httpx.AsyncClient
) -> None:
    investor = await ready_investor(subscription)
    bank_reads = await subscription.get(f"/investors/{investor}", headers=BANK)
    service_as_staff = await onboarding.get("/msmes", headers=bearer(Role.SERVICE, "ledger"))
    business = await call(onboarding, "POST", "/msmes", 201, json=msme_body(), headers=STAFF)
    duplicate = await onboarding.post(
        "/msmes",
        json=msme_body(corporate_number=business["corporate_number"]),
        headers=BANK,
    )
    payout_to_stranger = await ledger.client.post(
        "/payouts",
        json={
            "account": f"investor/{uuid.uuid4()}/wallet",
            "amount": 1,
            "bank_id": "evil-bank",
            "reference": "x",
        },
        headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bank_reads.status_code == 404, "a bank reads only the investors it verifies"
    assert service_as_staff.status_code == 403
    assert duplicate.status_code == 409
    assert business["id"] not in duplicate.text
    assert payout_to_stranger.status_code == 422
    assert bank_reads.headers["x-content-type-options"] == "nosniff"


async def test_18_the_openapi_documents_what_is_answered() -> None:
    document = (
        service("ledger")
        .create_app(service("ledger").settings_class()(run_workers=False))
        .openapi()
    )
    deposit = document["paths"]["/deposits"]["post"]["responses"]
    assert "application/problem+json" in deposit["422"]["content"]
    assert "application/json" not in deposit["422"]["content"]
    assert "400" in deposit
    assert "HTTPValidationError" not in document["components"]["schemas"]
    cursor = next(
        p for p in document["paths"]["/deposits"]["get"]["parameters"] if p["name"] == "cursor"
    )
    assert "Opaque" in cursor["description"]


async def test_18_a_405_names_every_method_of_the_path(ledger: Ledger) -> None:
    wrong = await ledger.client.delete("/deposits", headers=STAFF)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, POST"


def test_19_a_restarting_database_is_transient_for_the_consumer() -> None:
    class StartingUp(Exception):
        sqlstate = "57P03"

    assert is_transient(DBAPIError("SELECT 1", {}, StartingUp()))


async def test_21_a_broker_outage_degrades_readiness_without_leaving_rotation(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("ledger", kafka_bootstrap_servers="127.0.0.1:1", run_workers=False)
    async with running(service("ledger").create_app(settings)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"


@pytest.mark.parametrize("name", [s.name for s in SERVICES])
async def test_23_the_api_docs_load_nothing_from_a_public_cdn(
    settings_for: SettingsFactory, name: str
) -> None:
    app = service(name).create_app(settings_for(name, run_workers=False))
    async with running(app) as client:
        page = await client.get("/docs")
        script = await client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert script.status_code == 200
    assert len(script.content) > 100_000


async def test_race_losers_are_run_again_not_answered_500(ledger: Ledger) -> None:
    """Concurrent deposits and refunds of one fund deadlocked in the old money path."""
    fund = await ledger.flows.open_fund(units_offered=200, max_units_per_investor=50)
    placed = [await ledger.flows.subscribe(fund) for _ in range(20)]
    answers = await asyncio.gather(
        *(
            ledger.client.post(
                "/deposits",
                json=deposit_body(f"R-{n}", p.amount_due, p.payment_reference),
                headers=BANK,
            )
            for n, p in enumerate(placed)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] * 20
