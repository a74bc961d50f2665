"""Who registers, verifies and reads an investor, its payout account and its payouts (pure)."""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from subscription.db.models import metadata
from subscription.investors.rules import (
    AlreadyRegistered,
    InvestorNotFound,
    PayoutForUnknownInvestor,
    PayoutNotFound,
    StaleRiskNotice,
    UnknownVerifyingBank,
    VerificationStatus,
    check_acknowledger,
    check_not_registered,
    check_payee_registered,
    check_payout_named,
    check_risk_notice,
    check_verifier,
    check_verifying_bank,
    may_read,
    may_read_payout_account,
    may_see_personal,
    no_investor,
    own_id,
    payout_beneficiary,
    personal_data_context,
    reads_for_latest_payout,
    registrant_id,
    verified_by,
)

INVESTOR = uuid.UUID(int=1)
CHOSEN_BANK = "hokkaido-bank"


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject="someone", role=role, tenant=tenant)


# Every kind of caller: the investor, another investor, staff, the bank it chose, another
# bank, and the roles that have no business with investors.
CALLERS = {
    "self": _principal(Role.INVESTOR, str(INVESTOR)),
    "other investor": _principal(Role.INVESTOR, str(uuid.UUID(int=2))),
    "staff": _principal(Role.STAFF, "platform"),
    "chosen bank": _principal(Role.BANK, CHOSEN_BANK),
    "other bank": _principal(Role.BANK, "other-bank"),
    "msme": _principal(Role.MSME, str(INVESTOR)),
    "municipality": _principal(Role.MUNICIPALITY, "012025"),
    "service": _principal(Role.SERVICE, "ledger"),
}


def test_the_verification_statuses_are_the_ones_the_database_accepts() -> None:
    [check] = [
        c
        for c in metadata.tables["investors"].constraints
        if isinstance(c, CheckConstraint) and c.name == "ck_investors_verification_known"
    ]
    assert set(re.findall(r"'([a-z_]+)'", str(check.sqltext))) == set(VerificationStatus)


def test_an_investor_is_its_tokens_tenant() -> None:
    assert own_id(CALLERS["self"]) == INVESTOR
    assert registrant_id(CALLERS["self"]) == INVESTOR
    with pytest.raises(Forbidden, match="its id as tenant"):
        own_id(_principal(Role.INVESTOR, "not-a-uuid"))
    for name in ("staff", "chosen bank", "msme"):
        with pytest.raises(Forbidden, match="investors register themselves"):
            registrant_id(CALLERS[name])


def test_an_investor_registers_once_with_a_partner_bank_or_none() -> None:
    check_not_registered(registered=False)
    with pytest.raises(AlreadyRegistered):
        check_not_registered(registered=True)
    check_verifying_bank(None, active_partner_bank=False)
    check_verifying_bank(CHOSEN_BANK, active_partner_bank=True)
    with pytest.raises(UnknownVerifyingBank, match="'no-such-bank' is not a registered"):
        check_verifying_bank("no-such-bank", active_partner_bank=False)


@pytest.mark.parametrize(
    ("caller", "reads", "sees_personal", "reads_account"),
    [
        ("self", True, True, True),
        ("other investor", False, False, False),
        ("staff", True, True, True),
        ("chosen bank", True, False, False),
        ("other bank", False, False, False),
        ("msme", False, False, False),
        ("municipality", False, False, False),
        ("service", False, False, False),
    ],
)
def test_who_sees_an_investor(
    caller: str, reads: bool, sees_personal: bool, reads_account: bool
) -> None:
    principal = CALLERS[caller]
    assert may_read(principal, investor_id=INVESTOR, verifying_bank_id=CHOSEN_BANK) is reads
    assert may_see_personal(principal, investor_id=INVESTOR) is sees_personal
    # Verifying an investor is no reason to read where its payouts go.
    assert (
        may_read_payout_account(principal, investor_id=INVESTOR, paying_bank_id=None)
        is reads_account
    )


def test_an_investor_without_a_chosen_bank_is_read_by_no_bank() -> None:
    for name in ("chosen bank", "other bank"):
        assert not may_read(CALLERS[name], investor_id=INVESTOR, verifying_bank_id=None)


@given(st.sampled_from(sorted(CALLERS)), st.sampled_from([None, CHOSEN_BANK, "other-bank"]))
def test_whoever_sees_personal_details_may_read_the_investor(
    caller: str, verifying_bank: str | None
) -> None:
    principal = CALLERS[caller]
    if may_see_personal(principal, investor_id=INVESTOR):
        assert may_read(principal, investor_id=INVESTOR, verifying_bank_id=verifying_bank)
        assert principal.role is not Role.BANK


def test_a_bank_reads_the_payout_account_only_for_its_own_payout() -> None:
    bank = CALLERS["chosen bank"]
    assert may_read_payout_account(bank, investor_id=INVESTOR, paying_bank_id=CHOSEN_BANK)
    assert not may_read_payout_account(bank, investor_id=INVESTOR, paying_bank_id="other-bank")
    assert not may_read_payout_account(bank, investor_id=INVESTOR, paying_bank_id=None)
    assert reads_for_latest_payout(bank)
    assert not reads_for_latest_payout(CALLERS["staff"])
    assert not reads_for_latest_payout(CALLERS["self"])


def test_a_named_payout_must_be_found() -> None:
    check_payout_named(None, found=False)
    check_payout_named(uuid.uuid4(), found=True)
    with pytest.raises(PayoutNotFound, match="no such payout to this investor"):
        check_payout_named(uuid.uuid4(), found=False)


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_only_staff_and_banks_verify(caller: str) -> None:
    principal = CALLERS[caller]
    if principal.role in (Role.STAFF, Role.BANK):
        check_verifier(principal)
    else:
        with pytest.raises(Forbidden):
            check_verifier(principal)


def test_the_verifier_is_recorded_by_role_and_tenant() -> None:
    assert verified_by(CALLERS["chosen bank"]) == "bank:hokkaido-bank"
    assert verified_by(CALLERS["staff"]) == "staff:platform"


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_an_investor_acknowledges_the_risk_notice_for_itself_only(caller: str) -> None:
    if caller == "self":
        check_acknowledger(CALLERS[caller], INVESTOR)
    else:
        with pytest.raises(InvestorNotFound, match=r"^no such investor$"):
            check_acknowledger(CALLERS[caller], INVESTOR)


def test_only_the_current_risk_notice_is_acknowledged() -> None:
    check_risk_notice("2026-11", current="2026-11")
    with pytest.raises(StaleRiskNotice) as refused:
        check_risk_notice("2025-01", current="2026-11")
    assert refused.value.extra == {"current": "2026-11"}


def test_not_found_names_no_id() -> None:
    answer = no_investor()
    assert (answer.status, answer.problem, answer.detail) == (
        404,
        "investor-not-found",
        "no such investor",
    )


@given(st.uuids(), st.uuids())
def test_personal_data_is_bound_to_its_investor(first: UUID, second: UUID) -> None:
    assert (personal_data_context(first) == personal_data_context(second)) == (first == second)


def test_only_payouts_to_investors_are_recorded() -> None:
    assert payout_beneficiary(PayoutBeneficiary.INVESTOR, str(INVESTOR)) == INVESTOR
    for other in PayoutBeneficiary:
        if other is not PayoutBeneficiary.INVESTOR:
            assert payout_beneficiary(other, str(INVESTOR)) is None
    with pytest.raises(PayoutForUnknownInvestor, match="not an investor id"):
        payout_beneficiary(PayoutBeneficiary.INVESTOR, "msme-or-garbage")
    check_payee_registered(uuid.uuid4(), registered=True)
    with pytest.raises(PayoutForUnknownInvestor, match="unregistered investor"):
        check_payee_registered(uuid.uuid4(), registered=False)
