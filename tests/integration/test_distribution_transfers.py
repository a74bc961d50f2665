"""The bulk transfer file of a distribution's payouts, over the real database and broker: the
ledger's payment and payout batches arrive in any order, the instructed bank (and staff)
download a Zengin 総合振込 file, every account in it is recorded as read, and an account a
bank would refuse is named, never sent silently."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from helpers import (
    BANK,
    OTHER_BANK,
    STAFF,
    SettingsFactory,
    call,
    fetch,
    personal_details,
    publish_events,
)
from kumiai.auth import Role
from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayout,
    DistributionPayoutsInstructed,
)
from kumiai.errors import PROBLEM_BASE
from kumiai.events import EventPayload
from kumiai.periods import japan_date
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai.zengin import bank_business_days_after, parse_transfer_file
from kumiai_tools.catalog import service
from kumiai_tools.testing import bearer, eventually, running

PAYING_BANK = "hokkaido-bank"


@dataclass
class Ledger:
    """Plays the ledger: publishes its events about one fund, numbered in its subject."""

    client: httpx.AsyncClient
    settings: ServiceSettings
    fund_id: uuid.UUID

    async def publish(self, seq: int, *payloads: EventPayload) -> None:
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("ledger", self.settings.topic_namespace),
            "ledger",
            str(self.fund_id),
            list(payloads),
            first=seq,
        )

    async def handled(self, seq: int) -> None:
        async def reached() -> bool:
            rows = await fetch(
                self.settings.database_url,
                "SELECT last_seq FROM inbox_subjects WHERE source = 'ledger' AND subject = $1",
                str(self.fund_id),
            )
            return bool(rows) and rows[0]["last_seq"] >= seq

        await eventually(reached, what=f"the ledger's event {seq} handled")

    def paid(self, nets: list[int], *, gross: int, tax: int, paid_on: date) -> DistributionPaid:
        return DistributionPaid(
            fund_id=self.fund_id,
            msme_id=uuid.uuid4(),
            period_number=1,
            bank_id=PAYING_BANK,
            deposit_id=uuid.uuid4(),
            investor_count=len(nets),
            payout_count=len(nets),
            total_gross=gross,
            total_tax=tax,
            total_net=sum(nets),
            success_fee=0,
            fees_settled=0,
            paid_on=paid_on,
            paid_at=datetime.now(UTC),
        )

    def batch(
        self, number: int, payouts: list[DistributionPayout]
    ) -> DistributionPayoutsInstructed:
        return DistributionPayoutsInstructed(
            fund_id=self.fund_id,
            period_number=1,
            bank_id=PAYING_BANK,
            batch=number,
            payouts=payouts,
            instructed_at=datetime.now(UTC),
        )

    async def file(self, headers: dict[str, str], **params: str) -> httpx.Response:
        return await self.client.get(
            f"/funds/{self.fund_id}/distributions/1/transfer-file", params=params, headers=headers
        )


@pytest.fixture
async def ledger(settings_for: SettingsFactory) -> AsyncIterator[Ledger]:
    settings = settings_for("subscription")
    async with running(service("subscription").create_app(settings)) as client:
        yield Ledger(client, settings, uuid.uuid4())


async def _investor(client: httpx.AsyncClient, **account: str) -> uuid.UUID:
    investor = uuid.uuid4()
    personal = personal_details()
    personal["payout_account"] = {**personal["payout_account"], **account}
    await call(
        client,
        "POST",
        "/investors",
        201,
        json={"personal": personal},
        headers=bearer(Role.INVESTOR, str(investor)),
    )
    return investor


def _code(payout_id: uuid.UUID) -> str:
    return str(payout_id).replace("-", "")[:20].upper()


async def _reads(settings: ServiceSettings) -> list[Any]:
    return await fetch(
        settings.database_url,
        "SELECT reader_role, reader_tenant, unnest(payout_ids) AS payout_id,"
        " unnest(investor_ids) AS investor_id FROM transfer_file_reads",
    )


async def test_the_instructed_bank_downloads_the_transfer_file_once_paid(ledger: Ledger) -> None:
    client = ledger.client
    suzuki = await _investor(
        client,
        bank_code="0001",
        branch_code="001",
        account_type="ordinary",
        account_number="1234567",
        account_holder="スズキ イチロウ",
    )
    sato = await _investor(
        client,
        bank_code="0005",
        branch_code="001",
        account_type="current",
        account_number="7654321",
        account_holder="さとう はなこ",
    )
    yamada = await _investor(
        client,
        bank_code="0116",
        branch_code="101",
        account_type="savings",
        account_number="0000123",
        account_holder="Yamada Taro",
    )
    payouts = {
        # gross 10,000; tax floor(10,000 x 20.42 %) = 2,042; net 7,958
        suzuki: DistributionPayout(payout_id=uuid.uuid4(), investor_id=suzuki, amount=7_958),
        # gross 30,000; tax floor(30,000 x 20.42 %) = 6,126; net 23,874
        sato: DistributionPayout(payout_id=uuid.uuid4(), investor_id=sato, amount=23_874),
        # gross 5,000; tax floor(5,000 x 20.42 %) = 1,021; net 3,979
        yamada: DistributionPayout(payout_id=uuid.uuid4(), investor_id=yamada, amount=3_979),
    }
    # gross 45,000 - tax (2,042 + 6,126 + 1,021 = 9,189) = net 35,811 = 7,958 + 23,874 + 3,979
    nets = [p.amount for p in payouts.values()]
    paid_on = japan_date(datetime.now(UTC))
    paid = ledger.paid(nets, gross=45_000, tax=9_189, paid_on=paid_on)
    assert paid.total_net == 35_811
    first = ledger.batch(1, [payouts[suzuki], payouts[sato]])
    second = ledger.batch(2, [payouts[yamada]])

    nothing_yet = [await ledger.file(BANK), await ledger.file(STAFF)]
    # Paid first, as the ledger may announce it: the file waits for every payout.
    await ledger.publish(1, paid)
    await ledger.handled(1)
    none_recorded = await ledger.file(BANK)
    await ledger.publish(2, first)
    await ledger.handled(2)
    one_batch = await ledger.file(BANK)
    reads_before = await _reads(ledger.settings)
    await ledger.publish(3, second)
    await ledger.handled(3)

    answer = await ledger.file(BANK)
    other_bank = await ledger.file(OTHER_BANK)
    investor = await ledger.file(bearer(Role.INVESTOR, str(suzuki)))
    staff = await ledger.file(STAFF)

    assert [r.status_code for r in nothing_yet] == [404, 404]
    assert none_recorded.status_code == 409
    assert none_recorded.json()["type"] == PROBLEM_BASE + "not-paid-yet"
    assert none_recorded.json()["detail"] == "0 of 3 payouts recorded"
    assert one_batch.status_code == 409
    assert (one_batch.json()["payouts_recorded"], one_batch.json()["payout_count"]) == (2, 3)
    assert reads_before == [], "a refused file discloses no account"
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    name = f"furikomi-{ledger.fund_id}-1.txt"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert answer.headers["etag"] == f'"{hashlib.sha256(answer.content).hexdigest()}"'
    assert answer.headers["kumiai-skipped-payouts"] == "0"
    parsed = parse_transfer_file(answer.content, near=paid_on)
    assert (parsed.count, parsed.total) == (3, 35_811)
    assert parsed.transfer_date == bank_business_days_after(paid_on, 1)
    assert parsed.remitter_code == "0000000000"  # the development remitter
    received = {t.customer_code: t for t in parsed.transfers}
    assert set(received) == {_code(p.payout_id) for p in payouts.values()}
    to_suzuki = received[_code(payouts[suzuki].payout_id)]
    to_sato = received[_code(payouts[sato].payout_id)]
    to_yamada = received[_code(payouts[yamada].payout_id)]
    assert (to_suzuki.amount, to_sato.amount, to_yamada.amount) == (7_958, 23_874, 3_979)
    assert (to_suzuki.holder, to_sato.holder, to_yamada.holder) == (
        "ｽｽﾞｷ ｲﾁﾛｳ",
        "ｻﾄｳ ﾊﾅｺ",
        "YAMADA TARO",
    )
    assert (to_suzuki.bank_code, to_suzuki.branch_code, to_suzuki.account_type) == (
        "0001",
        "001",
        "ordinary",
    )
    assert (to_sato.bank_code, to_sato.account_type, to_sato.account_number) == (
        "0005",
        "current",
        "7654321",
    )
    assert (to_yamada.bank_code, to_yamada.branch_code, to_yamada.account_type) == (
        "0116",
        "101",
        "savings",
    )
    assert other_bank.status_code == 404
    assert other_bank.json()["detail"] == "no such distribution"
    assert investor.status_code == 403
    assert staff.status_code == 200
    assert staff.content == answer.content

    reads = await _reads(ledger.settings)
    by_reader: dict[tuple[str, str], list[tuple[uuid.UUID, uuid.UUID]]] = {}
    for row in reads:
        key = (row["reader_role"], row["reader_tenant"])
        by_reader.setdefault(key, []).append((row["payout_id"], row["investor_id"]))
    expected = sorted((p.payout_id, p.investor_id) for p in payouts.values())
    assert sorted(by_reader) == [("bank", PAYING_BANK), ("staff", "platform")]
    assert sorted(by_reader[("bank", PAYING_BANK)]) == expected
    assert sorted(by_reader[("staff", "platform")]) == expected

    # Redelivered (same numbers: the inbox skips them) and announced again under new
    # numbers (the batch and payment guards skip them): nothing changes.
    await ledger.publish(1, paid, first, second)
    await ledger.publish(4, second, first, paid)
    await ledger.handled(6)
    kept = await fetch(
        ledger.settings.database_url,
        "SELECT payout_id, investor_id, bank_id, period_number, amount, currency "
        "FROM payout_instructions",
    )
    payments = await fetch(
        ledger.settings.database_url,
        "SELECT bank_id, payout_count, total_net, paid_on FROM distribution_payments",
    )
    again = await ledger.file(BANK)
    assert sorted(tuple(r) for r in kept) == sorted(
        (p.payout_id, p.investor_id, PAYING_BANK, 1, p.amount, "JPY") for p in payouts.values()
    )
    assert [tuple(r) for r in payments] == [(PAYING_BANK, 3, 35_811, paid_on)]
    assert again.content == answer.content


async def test_an_account_a_bank_cannot_take_is_named_and_only_skipped_on_request(
    ledger: Ledger,
) -> None:
    client = ledger.client
    good = await _investor(client, account_holder="スズキ イチロウ")
    # Kanji cannot be written in Zengin kana: the bank would refuse the record.
    kanji = await _investor(client, account_holder="鈴木 一郎")
    to_good = DistributionPayout(payout_id=uuid.uuid4(), investor_id=good, amount=7_958)
    to_kanji = DistributionPayout(payout_id=uuid.uuid4(), investor_id=kanji, amount=3_979)
    paid_on = japan_date(datetime.now(UTC))
    # gross 15,000 - tax (2,042 + 1,021 = 3,063) = net 11,937 = 7,958 + 3,979
    await ledger.publish(
        1,
        ledger.batch(1, [to_good, to_kanji]),
        ledger.paid([7_958, 3_979], gross=15_000, tax=3_063, paid_on=paid_on),
    )
    await ledger.handled(2)

    refused = await ledger.file(BANK)
    reads_after_refusal = await _reads(ledger.settings)
    skipped = await ledger.file(BANK, skip_untransferable="true")

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == PROBLEM_BASE + "untransferable-accounts"
    assert problem["count"] == 1
    assert problem["payouts"] == [{"payout_id": str(to_kanji.payout_id), "field": "account_holder"}]
    assert "鈴木" not in refused.text
    assert "1234567" not in refused.text
    assert reads_after_refusal == []
    assert skipped.status_code == 200, skipped.text
    assert skipped.headers["kumiai-skipped-payouts"] == "1"
    parsed = parse_transfer_file(skipped.content, near=paid_on)
    assert (parsed.count, parsed.total) == (1, 7_958)
    assert [t.customer_code for t in parsed.transfers] == [_code(to_good.payout_id)]
    reads = await _reads(ledger.settings)
    assert [(r["reader_role"], r["payout_id"]) for r in reads] == [("bank", to_good.payout_id)]


async def test_a_payout_account_at_an_unknown_bank_or_branch_is_refused(ledger: Ledger) -> None:
    answers = []
    for account in ({"bank_code": "9999"}, {"bank_code": "0116", "branch_code": "001"}):
        personal = personal_details()
        personal["payout_account"] = {**personal["payout_account"], **account}
        answers.append(
            await ledger.client.post(
                "/investors",
                json={"personal": personal},
                headers=bearer(Role.INVESTOR, str(uuid.uuid4())),
            )
        )
    registered = await fetch(ledger.settings.database_url, "SELECT count(*) FROM investors")
    assert [a.status_code for a in answers] == [422, 422]
    assert {a.json()["type"] for a in answers} == {PROBLEM_BASE + "unknown-bank-or-branch"}
    assert [a.json()["invalid_params"][0]["name"] for a in answers] == [
        "body.personal.payout_account.bank_code",
        "body.personal.payout_account.branch_code",
    ]
    assert registered[0][0] == 0
