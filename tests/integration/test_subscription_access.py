"""Who may see and change an investor: the bank it chose, the bank told to pay it, staff,
the investor itself; service tokens nothing. And what the API refuses to take."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import (
    BANK,
    MUNICIPALITY,
    OTHER_BANK,
    STAFF,
    SettingsFactory,
    call,
    fetch,
    offering,
    personal_details,
    publish_events,
    ready_investor,
)
from kumiai.auth import Role
from kumiai.contracts.ledger import PayoutBeneficiary, PayoutInstructed
from kumiai.errors import PROBLEM_BASE
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running, sample_fund_opened

SERVICE = bearer(Role.SERVICE, "ledger")
VERIFIED = {"status": "verified", "note": "identity documents checked at the branch"}


@dataclass
class Api:
    client: httpx.AsyncClient
    settings: ServiceSettings

    async def register(self, bank: str | None = None, **extra: Any) -> httpx.Response:
        investor = str(uuid.uuid4())
        body: dict[str, Any] = {"personal": personal_details(), **extra}
        if bank is not None:
            body["verifying_bank_id"] = bank
        return await self.client.post(
            "/investors", json=body, headers=bearer(Role.INVESTOR, investor)
        )

    async def investor(self, bank: str | None = None) -> str:
        response = await self.register(bank)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def instruct_payout(
        self,
        investor: str,
        bank: str,
        *,
        seq: int,
        payout_id: uuid.UUID | None = None,
        beneficiary: PayoutBeneficiary = PayoutBeneficiary.INVESTOR,
    ) -> uuid.UUID:
        payout_id = payout_id or uuid.uuid4()
        fund_id = uuid.UUID(int=7)
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("ledger", self.settings.topic_namespace),
            "ledger",
            str(fund_id),
            [
                PayoutInstructed(
                    payout_id=payout_id,
                    fund_id=fund_id,
                    beneficiary=beneficiary,
                    beneficiary_id=investor,
                    bank_id=bank,
                    amount=10_500,
                    instructed_at=datetime.now(UTC),
                )
            ],
            first=seq,
        )
        return payout_id


@pytest.fixture
async def api(settings_for: SettingsFactory) -> AsyncIterator[Api]:
    settings = settings_for("subscription")
    async with running(service("subscription").create_app(settings)) as client:
        yield Api(client, settings)


def _me(investor: str) -> dict[str, str]:
    return bearer(Role.INVESTOR, investor)


async def test_only_the_bank_an_investor_chose_verifies_it(api: Api) -> None:
    mine = await api.investor("hokkaido-bank")
    theirs = await api.investor("other-bank")
    nobody = await api.investor()
    unknown_bank = await api.register("no-such-bank")
    municipality = await api.register("012025")
    stranger = await api.client.post(
        f"/investors/{theirs}/verification",
        json={"status": "rejected", "note": "a stranger to this bank"},
        headers=BANK,
    )
    missing = await api.client.post(
        f"/investors/{uuid.uuid4()}/verification",
        json={"status": "rejected", "note": "a stranger to this bank"},
        headers=BANK,
    )
    unchosen = await api.client.post(
        f"/investors/{nobody}/verification", json=VERIFIED, headers=BANK
    )
    unknown_partner = await api.client.post(
        f"/investors/{mine}/verification",
        json=VERIFIED,
        headers=bearer(Role.BANK, "no-such-bank"),
    )
    municipality_token = await api.client.post(
        f"/investors/{mine}/verification", json=VERIFIED, headers=MUNICIPALITY
    )
    verified = await call(
        api.client, "POST", f"/investors/{mine}/verification", json=VERIFIED, headers=BANK
    )
    by_staff = await call(
        api.client, "POST", f"/investors/{nobody}/verification", json=VERIFIED, headers=STAFF
    )
    still = await call(api.client, "GET", f"/investors/{theirs}", headers=STAFF)
    by_their_bank = await call(
        api.client, "POST", f"/investors/{theirs}/verification", json=VERIFIED, headers=OTHER_BANK
    )
    assert unknown_bank.status_code == 422
    assert unknown_bank.json()["type"] == PROBLEM_BASE + "unknown-verifying-bank"
    assert municipality.status_code == 422, "a municipality is no bank"
    assert stranger.status_code == missing.status_code == unchosen.status_code == 404
    # An investor of another bank and one that does not exist look the same.
    for answer in (stranger, missing, unchosen):
        body = answer.json()
        assert (body["type"], body["detail"]) == (
            PROBLEM_BASE + "investor-not-found",
            "no such investor",
        )
    assert unknown_partner.status_code == 403
    assert unknown_partner.json()["type"] == PROBLEM_BASE + "unknown-partner"
    assert municipality_token.status_code == 403
    assert (verified["verification"], verified["verified_by"]) == ("verified", "bank:hokkaido-bank")
    assert verified["verifying_bank_id"] == "hokkaido-bank"
    assert (by_staff["verification"], by_staff["verified_by"]) == ("verified", "staff:platform")
    assert (still["verification"], still["verifying_bank_id"]) == ("unverified", "other-bank")
    assert by_their_bank["verification"] == "verified"


async def test_banks_read_only_the_investors_they_verify_and_services_read_nothing(
    api: Api,
) -> None:
    mine = await ready_investor(api.client, verifying_bank="hokkaido-bank")
    theirs = await ready_investor(api.client, verifying_bank="other-bank")
    seen = await call(api.client, "GET", f"/investors/{mine}", headers=BANK)
    unseen = await api.client.get(f"/investors/{theirs}", headers=BANK)
    service_reads = [
        await api.client.get(path, headers=SERVICE)
        for path in (
            f"/investors/{mine}",
            f"/investors/{mine}/subscriptions",
            f"/investors/{mine}/holdings",
            f"/investors/{mine}/payout-account",
            f"/subscriptions/{uuid.uuid4()}",
        )
    ]
    service_writes = [
        await api.client.post(f"/investors/{mine}/verification", json=VERIFIED, headers=SERVICE),
        await api.client.post(f"/subscriptions/{uuid.uuid4()}/cancel", headers=SERVICE),
        await api.client.post(
            f"/offerings/{uuid.uuid4()}/cancel", json={"reason": "test"}, headers=SERVICE
        ),
    ]
    bank_pages = [
        await api.client.get(f"/investors/{mine}/{page}", headers=BANK)
        for page in ("subscriptions", "holdings", "payments-due", "cancellations")
    ]
    assert seen["id"] == mine
    assert seen["personal"] is None
    assert "Ichiro" not in str(seen)
    assert unseen.status_code == 404
    assert theirs not in unseen.json()["detail"]
    assert [r.status_code for r in service_reads + service_writes] == [403] * 8
    assert [r.status_code for r in bank_pages] == [403] * 4


async def test_the_payout_account_goes_only_to_the_bank_told_to_pay(api: Api) -> None:
    investor = await ready_investor(api.client, verifying_bank="hokkaido-bank")
    other = await ready_investor(api.client)
    path = f"/investors/{investor}/payout-account"
    before = await api.client.get(path, headers=OTHER_BANK)
    payout = await api.instruct_payout(investor, "other-bank", seq=1)

    async def instructed() -> dict[str, Any] | None:
        response = await api.client.get(path, headers=OTHER_BANK)
        return response.json() if response.status_code == 200 else None

    paying = await eventually(instructed, what="the payout instruction recorded")
    # The same instruction again, and a payout to a business, change nothing.
    await api.instruct_payout(investor, "other-bank", seq=2, payout_id=payout)
    await api.instruct_payout(
        investor, "hokkaido-bank", seq=3, beneficiary=PayoutBeneficiary.BUSINESS
    )
    await eventually(lambda: _handled(api, 3), what="the later instructions handled", timeout_s=30)
    verifying_bank = await api.client.get(path, headers=BANK)
    own = await call(api.client, "GET", path, headers=_me(investor))
    someone_else = await api.client.get(path, headers=_me(other))
    staff = await call(api.client, "GET", path, headers=STAFF)
    staff_for_payout = await call(
        api.client, "GET", path, params={"payout_id": str(payout)}, headers=STAFF
    )
    staff_wrong_payout = await api.client.get(
        path, params={"payout_id": str(uuid.uuid4())}, headers=STAFF
    )
    bank_wrong_payout = await api.client.get(
        path, params={"payout_id": str(uuid.uuid4())}, headers=OTHER_BANK
    )
    not_theirs = await api.client.get(
        f"/investors/{other}/payout-account", params={"payout_id": str(payout)}, headers=OTHER_BANK
    )
    reads = await fetch(
        api.settings.database_url,
        "SELECT reader_role, reader_tenant, payout_id, investor_id FROM payout_account_reads "
        "ORDER BY read_at, reader_role",
    )
    instructions = await fetch(
        api.settings.database_url, "SELECT payout_id, bank_id FROM payout_instructions"
    )
    assert before.status_code == 404
    assert (paying["account_number"], paying["bank_code"]) == ("1234567", "0116")
    assert paying["account_holder"] == "SUZUKI ICHIRO"
    assert (paying["investor_id"], paying["payout_id"]) == (investor, str(payout))
    assert verifying_bank.status_code == 404, "verifying an investor is no reason to pay it"
    assert (own["account_number"], own["payout_id"]) == ("1234567", None)
    assert someone_else.status_code == 404
    assert staff["payout_id"] is None
    assert staff_for_payout["payout_id"] == str(payout)
    assert staff_wrong_payout.status_code == 404
    assert bank_wrong_payout.status_code == 404
    assert not_theirs.status_code == 404
    assert [(r["payout_id"], r["bank_id"]) for r in instructions] == [(payout, "other-bank")]
    assert [(r["reader_role"], r["reader_tenant"], r["payout_id"]) for r in reads] == [
        ("bank", "other-bank", payout),
        ("investor", investor, None),
        ("staff", "platform", None),
        ("staff", "platform", payout),
    ]
    assert {r["investor_id"] for r in reads} == {uuid.UUID(investor)}
    for statement in (
        "UPDATE payout_account_reads SET payout_id = NULL",
        "DELETE FROM payout_instructions",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await fetch(api.settings.database_url, statement)


async def _handled(api: Api, seq: int) -> bool:
    rows = await fetch(
        api.settings.database_url,
        "SELECT last_seq FROM inbox_subjects WHERE source = 'ledger' AND subject = $1",
        str(uuid.UUID(int=7)),
    )
    return bool(rows) and rows[0]["last_seq"] >= seq


async def test_requests_are_strict_and_nothing_odd_is_stored(api: Api) -> None:
    fund = sample_fund_opened()
    await publish_events(
        api.settings.kafka_bootstrap_servers,
        events_topic("onboarding", api.settings.topic_namespace),
        "onboarding",
        str(fund.fund_id),
        [fund],
    )
    await eventually(lambda: offering(api.client, str(fund.fund_id)), what="the offering")
    investor = await ready_investor(api.client)
    me = _me(investor)

    async def subscribe(body: dict[str, Any]) -> httpx.Response:
        return await api.client.post(
            f"/offerings/{fund.fund_id}/subscriptions",
            json=body,
            headers={**me, "Idempotency-Key": str(uuid.uuid4())},
        )

    digest = fund.terms_digest
    orders = [
        await subscribe({"units": "2", "terms_digest": digest}),
        await subscribe({"units": True, "terms_digest": digest}),
        await subscribe({"units": 2.0, "terms_digest": digest}),
        await subscribe({"units": 0, "terms_digest": digest}),
        await subscribe({"units": 100_001, "terms_digest": digest}),
        await subscribe({"units": 1, "terms_digest": digest, "price": 1}),
        await subscribe({"units": 1, "terms_digest": digest + "0"}),
    ]
    long_name = personal_details("x" * 101)
    nul_name = personal_details("Ichiro\x00Suzuki")
    bell = {**personal_details(), "address": "4-5-6 Kita-ku\x07"}
    registrations = [
        await api.register(personal=long_name),
        await api.register(personal=nul_name),
        await api.register(personal=bell),
        await api.register(admin=True),
        await api.register("b" * 101),
        await api.register("hokkaido-bank\x00"),
    ]
    notes = [
        await api.client.post(
            f"/investors/{investor}/verification",
            json={"status": "verified", "note": "checked\x00"},
            headers=STAFF,
        ),
        await api.client.post(
            f"/investors/{investor}/verification",
            json={"status": "verified", "note": "n" * 501},
            headers=STAFF,
        ),
        await api.client.post(
            f"/investors/{investor}/risk-acknowledgements", json={"version": 2026}, headers=me
        ),
        await api.client.post(
            f"/offerings/{fund.fund_id}/cancel", json={"reason": "gone\x00"}, headers=STAFF
        ),
    ]
    bogus_filter = await api.client.get(
        f"/investors/{investor}/subscriptions", params={"status": "bogus"}, headers=me
    )
    refunded_filter = await call(
        api.client,
        "GET",
        f"/investors/{investor}/subscriptions",
        params={"status": ["refunded", "cancelled"]},
        headers=me,
    )
    stored = await fetch(
        api.settings.database_url,
        "SELECT (SELECT count(*) FROM subscriptions) AS subs, "
        "(SELECT count(*) FROM investors) AS investors",
    )
    still_open = await offering(api.client, str(fund.fund_id))
    assert [r.status_code for r in orders] == [422] * 7, [r.text for r in orders]
    assert [r.status_code for r in registrations] == [422] * 6, [r.text for r in registrations]
    assert [r.status_code for r in notes] == [422] * 4, [r.text for r in notes]
    assert all(r.json()["type"] == PROBLEM_BASE + "validation" for r in orders + notes)
    assert bogus_filter.status_code == 422
    assert bogus_filter.json()["invalid_params"][0]["name"].startswith("query.status")
    assert refunded_filter["items"] == []
    assert (stored[0]["subs"], stored[0]["investors"]) == (0, 1)
    assert still_open is not None
    assert still_open["status"] == "open"


async def test_a_404_names_no_other_object(api: Api) -> None:
    fund = sample_fund_opened()
    await publish_events(
        api.settings.kafka_bootstrap_servers,
        events_topic("onboarding", api.settings.topic_namespace),
        "onboarding",
        str(fund.fund_id),
        [fund],
    )
    await eventually(lambda: offering(api.client, str(fund.fund_id)), what="the offering")
    owner, other = await ready_investor(api.client), await ready_investor(api.client)
    sub = await call(
        api.client,
        "POST",
        f"/offerings/{fund.fund_id}/subscriptions",
        201,
        json={"units": 1, "terms_digest": fund.terms_digest},
        headers={**_me(owner), "Idempotency-Key": "one"},
    )
    missing = uuid.uuid4()
    answers = [
        await api.client.get(f"/subscriptions/{sub['id']}", headers=_me(other)),
        await api.client.post(f"/subscriptions/{sub['id']}/cancel", headers=_me(other)),
        await api.client.get(f"/subscriptions/{missing}", headers=STAFF),
        await api.client.get(f"/investors/{owner}/subscriptions", headers=_me(other)),
        await api.client.get(f"/offerings/{missing}"),
        await api.client.post(
            f"/offerings/{missing}/subscriptions",
            json={"units": 1},
            headers={**_me(owner), "Idempotency-Key": "two"},
        ),
    ]
    assert [a.status_code for a in answers] == [404] * 6
    for answer in answers:
        detail = answer.json()["detail"]
        for ident in (sub["id"], owner, other, str(missing), str(fund.fund_id), str(fund.msme_id)):
            assert ident not in detail
    assert answers[0].json()["detail"] == answers[2].json()["detail"] == "no such subscription"
