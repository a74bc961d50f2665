"""Partners' webhooks, the pure rules: who hears what, what a message says (and never says),
signatures a reference verifier accepts, and the retry schedule."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from kumiai.contracts.ledger import (
    DistributionPayout,
    DistributionPayoutsInstructed,
    PaymentReceived,
    PayoutBeneficiary,
    PayoutInstructed,
    SubsidyPaid,
)
from kumiai.contracts.onboarding import PartnerKind
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.principal import Principal, Role
from kumiai_tools.testing import sample_fund_opened
from onboarding.webhooks import rules
from onboarding.webhooks.rules import EndpointRefused, RetryPolicy, WebhookEventType

NOW = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
FUND = uuid.uuid4()
KINDS = {
    "hokkaido-bank": PartnerKind.BANK,
    "other-bank": PartnerKind.BANK,
    "012025": PartnerKind.MUNICIPALITY,
}


def _payout(beneficiary: PayoutBeneficiary) -> PayoutInstructed:
    return PayoutInstructed(
        payout_id=uuid.uuid4(),
        fund_id=FUND,
        beneficiary=beneficiary,
        beneficiary_id=str(uuid.uuid4()),
        bank_id="hokkaido-bank",
        amount=10_500,
        instructed_at=NOW,
    )


def _closed() -> FundClosed:
    return FundClosed(
        fund_id=FUND,
        msme_id=uuid.uuid4(),
        outcome=FundOutcome.SUCCEEDED,
        units_confirmed=400,
        amount_raised=4_000_000,
        handling_fees_collected=200_000,
        investor_count=40,
        closed_at=NOW,
    )


def test_fund_news_goes_to_the_referring_bank_and_the_backers_each_if_its_kind_hears_it() -> None:
    [closed] = rules.notices(_closed())
    [opened] = rules.notices(sample_fund_opened())

    def to(notice: rules.Notice, referring: str | None, backers: set[str]) -> frozenset[str]:
        return rules.audience(
            notice, referring_bank=referring, backers=frozenset(backers), kinds=KINDS
        )

    assert to(closed, "hokkaido-bank", {"012025"}) == {"hokkaido-bank", "012025"}
    assert to(closed, None, set()) == frozenset(), "an unreferred, unbacked fund: nobody"
    assert to(opened, "hokkaido-bank", set()) == {"hokkaido-bank"}
    # An unregistered (or suspended) bank hears nothing.
    assert to(closed, "suspended-bank", set()) == frozenset()


def test_a_municipality_is_told_of_the_opening_with_its_grant() -> None:
    event = sample_fund_opened()
    [opened] = rules.notices(event)
    terms = event.model_dump(mode="json")
    told = rules.backer_opening(event.fund_id, event.msme_id, terms, "012025")
    assert told.type is WebhookEventType.FUND_OPENED
    assert told.data == opened.data, "the same message a bank got at the opening"
    assert told.partners == {"012025"}
    assert told.fund_id is None, "not re-told to the fund's other followers"


def test_money_notices_go_to_the_bank_that_acts_and_never_name_an_investor() -> None:
    payment = PaymentReceived(
        deposit_id=uuid.uuid4(),
        subscription_id=uuid.uuid4(),
        fund_id=FUND,
        investor_id=uuid.uuid4(),
        amount=21_000,
        value_date=date(2026, 11, 30),
        bank_id="other-bank",
        received_at=NOW,
    )
    batch = DistributionPayoutsInstructed(
        fund_id=FUND,
        period_number=1,
        bank_id="hokkaido-bank",
        batch=1,
        payouts=[
            DistributionPayout(payout_id=uuid.uuid4(), investor_id=uuid.uuid4(), amount=a)
            for a in (1_000, 2_500)
        ],
        instructed_at=NOW,
    )
    [deposit] = rules.notices(payment)
    [refund] = rules.notices(_payout(PayoutBeneficiary.INVESTOR))
    [release] = rules.notices(_payout(PayoutBeneficiary.BUSINESS))
    [payouts] = rules.notices(batch)

    assert deposit.type is WebhookEventType.DEPOSIT_MATCHED
    assert deposit.partners == {"other-bank"}
    assert rules.audience(
        deposit, referring_bank="hokkaido-bank", backers=frozenset(), kinds=KINDS
    ) == {"other-bank"}, "a deposit is told to the bank that reported it only"
    assert refund.data["beneficiary_id"] is None
    assert release.data["beneficiary_id"] is not None, "a business's id is not personal"
    assert (payouts.data["payout_count"], payouts.data["amount_total"]) == (2, 3_500)
    for notice in (deposit, refund, release, payouts):
        text = json.dumps(notice.data)
        assert "investor_id" not in text
        assert str(payment.investor_id) not in text
        assert all(str(p.investor_id) not in text for p in batch.payouts)


def test_a_municipalitys_payment_tells_the_municipality_and_the_bank_that_received_it() -> None:
    paid = SubsidyPaid(
        award_id=uuid.uuid4(),
        fund_id=FUND,
        municipality_code="012025",
        amount=800_000,
        deposit_id=uuid.uuid4(),
        bank_id="hokkaido-bank",
        value_date=date(2026, 12, 1),
        entry_id=uuid.uuid4(),
        paid_at=NOW,
    )
    subsidy, deposit = rules.notices(paid)
    assert (subsidy.type, subsidy.partners) == (
        WebhookEventType.SUBSIDY_PAID,
        frozenset({"012025"}),
    )
    assert (deposit.type, deposit.partners) == (
        WebhookEventType.DEPOSIT_MATCHED,
        frozenset({"hokkaido-bank"}),
    )
    event_id = uuid.uuid4()
    assert rules.message_id(event_id, subsidy.type) != rules.message_id(event_id, deposit.type)
    assert rules.message_id(event_id, subsidy.type) == rules.message_id(event_id, subsidy.type)


def test_each_kind_subscribes_only_to_what_it_may_hear() -> None:
    rules.check_event_types(PartnerKind.BANK, frozenset({WebhookEventType.DEPOSIT_MATCHED}))
    with pytest.raises(rules.EventTypeNotAvailable, match=r"subsidy\.granted"):
        rules.check_event_types(PartnerKind.BANK, frozenset({WebhookEventType.SUBSIDY_GRANTED}))
    with pytest.raises(rules.EventTypeNotAvailable, match=r"payout\.instructed"):
        rules.check_event_types(
            PartnerKind.MUNICIPALITY, frozenset({WebhookEventType.PAYOUT_INSTRUCTED})
        )
    bank = Principal(subject="u", role=Role.BANK, tenant="hokkaido-bank")
    assert rules.may_manage(bank, "hokkaido-bank")
    assert not rules.may_manage(bank, "other-bank")
    assert not rules.may_manage(
        Principal(subject="i", role=Role.INVESTOR, tenant="hokkaido-bank"), "hokkaido-bank"
    )
    assert rules.may_manage(Principal(subject="s", role=Role.STAFF, tenant="platform"), "012025")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.jp/k",
        "https://127.0.0.1/k",
        "https://10.1.2.3/k",
        "https://[::1]/k",
        "https://169.254.169.254/latest",
        "https://localhost/k",
        "https://a.localhost/k",
        "https://user@hooks.example.jp/k",
        "https://hooks.example.jp/k#frag",
        "https:///k",
        "https://hooks.example.jp:99999/k",
        "gopher://hooks.example.jp/k",
    ],
)
def test_production_refuses_unsafe_endpoint_addresses(url: str) -> None:
    with pytest.raises(EndpointRefused):
        rules.check_url(url, production=True)


def test_outside_production_a_local_receiver_is_allowed() -> None:
    assert rules.check_url("http://127.0.0.1:8080/k", production=False)
    assert rules.check_url("https://hooks.example.jp/k", production=True)
    with pytest.raises(EndpointRefused):
        rules.check_url("https://u:p@127.0.0.1/k", production=False)


def test_every_secret_in_force_signs_and_the_reference_library_verifies_each() -> None:
    old, new = rules.new_secret(), rules.new_secret()
    body = rules.body(rules.notices(_closed())[0], at=NOW)
    at = datetime.now(UTC)
    header = rules.signature([new, old], message_id="msg_1", at=at, body=body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": header,
    }
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["type"] == "fund.closed"
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("4000000", "4000001"), headers)
    assert old.startswith("whsec_")
    assert old != new


@given(failures=st.integers(min_value=1, max_value=10_000), draw=st.floats(0, 1))
def test_a_retry_waits_between_half_and_all_of_the_capped_exponential_delay(
    failures: int, draw: float
) -> None:
    policy = RetryPolicy()
    ceiling = min(policy.cap, policy.base * 2 ** min(failures - 1, 32))
    delay = rules.next_attempt_delay(policy, failures, lambda: draw)
    assert ceiling / 2 <= delay <= ceiling


def test_the_schedule_keeps_trying_for_about_three_days_then_disables() -> None:
    policy = RetryPolicy()
    elapsed, attempts = timedelta(0), 0
    while (
        rules.disable_reason(policy, status_code=503, failing_since=NOW, now=NOW + elapsed) is None
    ):
        attempts += 1
        elapsed += rules.next_attempt_delay(policy, attempts, lambda: 1.0)
    assert timedelta(days=3) <= elapsed < timedelta(days=3, hours=6)
    assert 20 <= attempts <= 30
    assert rules.disable_reason(policy, status_code=410, failing_since=NOW, now=NOW) is (
        rules.DisabledReason.GONE
    )
    assert not rules.succeeded(302)
    assert not rules.succeeded(None)
    assert rules.succeeded(204)
