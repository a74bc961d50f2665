"""The rules of payouts (pure): where money may leave from, through which bank, once."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from ledger.books.rules import (
    Direction,
    EntryType,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    UnknownAccount,
    clearing_account,
    validate_legs,
)
from ledger.payouts.rules import (
    NotOneBatch,
    PayoutKeyReused,
    PayoutOrder,
    PayoutSettled,
    PayoutSourceRefused,
    PayoutStatus,
    UnknownBank,
    check_active_bank,
    check_answer,
    check_bank_pays_back,
    check_may_pay_from,
    check_one_batch,
    check_same_payout,
    check_unsettled,
    may_read,
    payout_beneficiary,
    pending_entry,
    return_key,
    settled,
    settlement_key,
)

F1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c01"
I1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c03"
M1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c04"
ESCROW = f"fund/{F1}/escrow"
WALLET = f"investor/{I1}/wallet"
PAYABLE = f"msme/{M1}/payable"
CLEARING = "bank/b-1/clearing"
PAYOUT = UUID("5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c06")
DEPOSIT = UUID("5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c05")


def test_payouts_leave_from_wallets_and_payables_only() -> None:
    assert payout_beneficiary(WALLET) == ("investor", I1)
    assert payout_beneficiary(PAYABLE) == ("business", M1)
    for source in ("suspense", ESCROW, "platform/fees", CLEARING, "tax/withholding"):
        with pytest.raises(PayoutSourceRefused):
            payout_beneficiary(source)
    with pytest.raises(UnknownAccount):
        payout_beneficiary("investor/someone/wallet")


def test_an_investor_withdraws_only_from_its_own_wallet() -> None:
    staff = Principal(subject="s", role=Role.STAFF, tenant="platform")
    investor = Principal(subject="i", role=Role.INVESTOR, tenant=I1)
    check_may_pay_from(staff, PAYABLE)
    check_may_pay_from(investor, WALLET)
    for caller, account in [
        (investor, PAYABLE),
        (investor, f"investor/{M1}/wallet"),
        (Principal(subject="b", role=Role.BANK, tenant="b-1"), WALLET),
    ]:
        with pytest.raises(Forbidden, match="only from your own wallet"):
            check_may_pay_from(caller, account)


def test_payouts_go_through_an_active_partner_bank() -> None:
    check_active_bank("b-1", active=True)
    check_bank_pays_back("b-1", active=True)
    with pytest.raises(UnknownBank, match="not a registered, active partner bank"):
        check_active_bank("b-1", active=False)
    with pytest.raises(UnknownBank, match="cannot pay back"):
        check_bank_pays_back("b-1", active=False)


def test_a_replayed_payout_key_asks_for_the_same_payout() -> None:
    asked = (WALLET, 500, "JPY", "b-1", "withdrawal")
    check_same_payout(asked, asked)
    for changed in [(WALLET, 501, "JPY", "b-1", "withdrawal"), (WALLET, 500, "JPY", "b-2", "x")]:
        with pytest.raises(PayoutKeyReused):
            check_same_payout(asked, changed)


@pytest.mark.parametrize("status", list(PayoutStatus))
def test_a_bank_answers_a_payout_once(status: PayoutStatus) -> None:
    if status is PayoutStatus.INSTRUCTED:
        check_unsettled(status)
    else:
        with pytest.raises(PayoutSettled, match=f"is {status.value}"):
            check_unsettled(status)
    assert settled(confirmed=True) is PayoutStatus.CONFIRMED
    assert settled(confirmed=False) is PayoutStatus.FAILED


@given(amount=st.integers(1, 10**12), bank=st.sampled_from(["b-1", "hokkaido-bank"]))
def test_a_payout_holds_its_amount_pending_until_the_bank_answers(amount: int, bank: str) -> None:
    order = PayoutOrder(
        id=PAYOUT,
        key="client/investor/x/y/k",
        account=WALLET,
        amount=amount,
        currency="JPY",
        bank_id=bank,
        reference="withdrawal",
        beneficiary=PayoutBeneficiary.INVESTOR,
        beneficiary_id=I1,
        created_by="i",
    )
    draft = pending_entry(order, effective_date=date(2026, 11, 30), request_hash="h")
    validate_legs([s.leg for s in draft.legs])
    assert [s.leg for s in draft.legs] == [
        Leg(WALLET, Direction.DEBIT, amount, "JPY"),
        Leg(clearing_account(bank), Direction.CREDIT, amount, "JPY"),
    ]
    assert {s.status for s in draft.legs} == {PostingStatus.PENDING}
    assert (draft.entry_type, draft.purpose, draft.origin) == (
        EntryType.PENDING,
        Purpose.PAYOUT,
        Origin.FLOW,
    )
    assert draft.idempotency_key == f"payout/{PAYOUT}"


def test_the_ledgers_payout_keys_never_meet_a_callers() -> None:
    keys = [
        settlement_key(PAYOUT, confirmed=True),
        settlement_key(PAYOUT, confirmed=False),
        return_key(DEPOSIT, PAYOUT),
    ]
    assert keys == [
        f"payout/{PAYOUT}/confirm",
        f"payout/{PAYOUT}/fail",
        f"return/{DEPOSIT}/{PAYOUT}",
    ]
    assert not any(key.startswith("client/") for key in keys)


@given(
    role=st.sampled_from(list(Role)),
    tenant=st.sampled_from(["b-1", "b-2"]),
    bank=st.none() | st.sampled_from(["b-1", "b-2"]),
)
def test_staff_read_every_payout_and_a_bank_those_it_must_send(
    role: Role, tenant: str, bank: str | None
) -> None:
    caller = Principal(subject="x", role=role, tenant=tenant)
    expected = role is Role.STAFF or (role is Role.BANK and bank == tenant)
    assert may_read(caller, bank_id=bank) == expected


def test_answers_in_bulk_are_for_the_payouts_of_one_batch_each_once() -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    assert check_one_batch({one}, in_batch=True, repeated=False) == one
    with pytest.raises(NotOneBatch, match="one distribution batch"):
        check_one_batch({one, other}, in_batch=True, repeated=False)
    with pytest.raises(NotOneBatch, match="one distribution batch"):
        check_one_batch({one}, in_batch=False, repeated=False)
    with pytest.raises(NotOneBatch, match="once per request"):
        check_one_batch({one}, in_batch=True, repeated=True)


def test_a_retried_answer_changes_nothing_and_the_other_answer_is_refused() -> None:
    assert check_answer(PayoutStatus.INSTRUCTED, confirmed=True) is True
    assert check_answer(PayoutStatus.CONFIRMED, confirmed=True) is False
    assert check_answer(PayoutStatus.FAILED, confirmed=False) is False
    with pytest.raises(PayoutSettled):
        check_answer(PayoutStatus.CONFIRMED, confirmed=False)
