"""Who reads a distribution's transfer file, when it is ready, and what each payout becomes
in it (pure)."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai import zengin
from kumiai.principal import Principal, Role
from subscription.transfers.rules import (
    MOST_LISTED,
    DistributionNotFound,
    NothingToTransfer,
    NotPaidYet,
    Payment,
    Progress,
    Readiness,
    Untransferable,
    UntransferableAccounts,
    check_readable,
    check_ready,
    check_transferable,
    customer_code,
    file_name,
    may_read_transfer_file,
    readiness,
    transfer,
    transfer_date,
)

PAYING_BANK = "hokkaido-bank"
PAYOUT = UUID("0f8e2c1a-9b3d-4e5f-8a7b-6c5d4e3f2a1b")
ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "スズキ イチロウ",
}


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject="someone", role=role, tenant=tenant)


CALLERS = {
    "staff": _principal(Role.STAFF, "platform"),
    "paying bank": _principal(Role.BANK, PAYING_BANK),
    "other bank": _principal(Role.BANK, "other-bank"),
    "investor": _principal(Role.INVESTOR, str(uuid.UUID(int=1))),
    "business": _principal(Role.MSME, str(uuid.UUID(int=2))),
    "municipality": _principal(Role.MUNICIPALITY, "012025"),
    "service": _principal(Role.SERVICE, "ledger"),
}


def _progress(
    *,
    paid: int | None = 3,
    recorded: int = 3,
    bank: str | None = PAYING_BANK,
    declared: bool = True,
) -> Progress:
    payment = None if paid is None else Payment(bank, paid, date(2026, 12, 4))
    return Progress(
        declared=declared,
        payment=payment,
        payouts_recorded=recorded,
        payouts_bank_id=bank if recorded else None,
    )


def test_the_customer_code_is_the_payout_ids_first_20_hex_digits_upper_case() -> None:
    # 0f8e2c1a-9b3d-4e5f-8a7b-... without hyphens: 0f8e2c1a 9b3d 4e5f 8a7b (20 digits)
    assert customer_code(PAYOUT) == "0F8E2C1A9B3D4E5F8A7B"


@given(st.uuids())
def test_a_customer_code_fits_the_file_and_reads_back_as_the_payouts_prefix(
    payout_id: UUID,
) -> None:
    code = customer_code(payout_id)
    assert len(code) == zengin.CUSTOMER_CODE_WIDTH
    assert set(code) <= set("0123456789ABCDEF")
    assert payout_id.hex.startswith(code.lower())


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        ("staff", True),
        ("paying bank", True),
        ("other bank", False),
        ("investor", False),
        ("business", False),
        ("municipality", False),
        ("service", False),
    ],
)
def test_staff_and_the_bank_told_to_pay_read_the_transfer_file(caller: str, allowed: bool) -> None:
    principal = CALLERS[caller]
    assert may_read_transfer_file(principal, paying_bank_id=PAYING_BANK) is allowed
    assert may_read_transfer_file(principal, paying_bank_id=None) is (caller == "staff")


def test_anyone_else_is_told_the_distribution_does_not_exist() -> None:
    for caller in ("other bank", "investor", "business"):
        with pytest.raises(DistributionNotFound) as refused:
            check_readable(CALLERS[caller], _progress())
        assert str(uuid.UUID(int=1)) not in str(refused.value)
    check_readable(CALLERS["paying bank"], _progress())
    check_readable(CALLERS["staff"], _progress())
    # Before the payment arrives, the bank is known from the payouts already recorded.
    check_readable(CALLERS["paying bank"], _progress(paid=None, recorded=1))
    with pytest.raises(DistributionNotFound):
        check_readable(CALLERS["paying bank"], _progress(paid=None, recorded=0))
    # Staff are told 404 only for a distribution nothing is known of.
    check_readable(CALLERS["staff"], _progress(paid=None, recorded=0, declared=True))
    with pytest.raises(DistributionNotFound):
        check_readable(CALLERS["staff"], _progress(paid=None, recorded=0, declared=False))


def test_the_file_is_ready_once_paid_and_every_payout_is_recorded() -> None:
    assert readiness(_progress(paid=None, recorded=3)) is Readiness.NOT_PAID
    assert readiness(_progress(paid=3, recorded=2)) is Readiness.PAYOUTS_MISSING
    assert readiness(_progress(paid=3, recorded=3)) is Readiness.READY
    assert readiness(_progress(paid=0, recorded=0, bank=None)) is Readiness.NOTHING_TO_TRANSFER
    with pytest.raises(NotPaidYet, match="not paid this distribution out"):
        check_ready(_progress(paid=None, recorded=3))
    with pytest.raises(NotPaidYet, match="2 of 3 payouts recorded") as waiting:
        check_ready(_progress(paid=3, recorded=2))
    assert waiting.value.status == 409
    assert waiting.value.problem == "not-paid-yet"
    with pytest.raises(NothingToTransfer):
        check_ready(_progress(paid=0, recorded=0, bank=None))
    ready = check_ready(_progress())
    assert (ready.payout_count, ready.bank_id) == (3, PAYING_BANK)


@given(paid=st.integers(0, 70_000), recorded=st.integers(0, 70_000))
def test_only_a_complete_payment_is_ready(paid: int, recorded: int) -> None:
    state = readiness(_progress(paid=paid, recorded=recorded))
    assert (state is Readiness.READY) == (paid > 0 and recorded == paid)


@pytest.mark.parametrize(
    ("paid_on", "today", "expected"),
    [
        # Friday -> the next bank business day, Monday
        (date(2026, 12, 4), date(2026, 12, 4), date(2026, 12, 7)),
        # Wednesday 28 April 2027 -> 29 April is Showa Day -> Friday 30 April
        (date(2027, 4, 28), date(2027, 4, 28), date(2027, 4, 30)),
        # Wednesday 30 December -> the year-end closing runs to 3 January -> Monday 4 January
        (date(2026, 12, 30), date(2026, 12, 30), date(2027, 1, 4)),
        # Fetched on Thursday 10 December for a payment of Friday 4 December: Friday 11
        (date(2026, 12, 4), date(2026, 12, 10), date(2026, 12, 11)),
    ],
)
def test_the_transfer_date_is_the_bank_business_day_after_payment_never_past(
    paid_on: date, today: date, expected: date
) -> None:
    assert transfer_date(paid_on, today=today) == expected
    assert zengin.is_bank_business_day(expected)


def test_a_payout_becomes_a_transfer_to_the_registered_account() -> None:
    made = transfer(PAYOUT, 12_345, ACCOUNT)
    assert made == zengin.Transfer(
        bank_code="0001",
        branch_code="001",
        account_type="ordinary",
        account_number="1234567",
        holder="ｽｽﾞｷ ｲﾁﾛｳ",
        amount=12_345,
        customer_code="0F8E2C1A9B3D4E5F8A7B",
    )


@pytest.mark.parametrize(
    ("account", "amount", "field"),
    [
        ({**ACCOUNT, "bank_code": "0003"}, 1, "bank_code"),
        ({**ACCOUNT, "branch_code": "999"}, 1, "branch_code"),
        ({**ACCOUNT, "account_holder": "鈴木 一郎"}, 1, "account_holder"),
        ({**ACCOUNT, "account_holder": "A" * 31}, 1, "account_holder"),
        ({**ACCOUNT, "account_holder": "  "}, 1, "account_holder"),
        (ACCOUNT, 10_000_000_000, "amount"),
    ],
)
def test_an_account_a_bank_would_refuse_names_its_field(
    account: dict[str, str], amount: int, field: str
) -> None:
    with pytest.raises(zengin.NotTransferable) as refused:
        transfer(PAYOUT, amount, account)
    assert refused.value.field == field


def test_untransferable_accounts_refuse_the_file_unless_skipped() -> None:
    bad = [Untransferable(uuid.UUID(int=n), "bank_code") for n in range(MOST_LISTED + 5)]
    check_transferable([], skip=False, transferable=3)
    check_transferable(bad, skip=True, transferable=3)
    with pytest.raises(UntransferableAccounts) as refused:
        check_transferable(bad, skip=False, transferable=3)
    body = refused.value.to_problem()
    assert body["status"] == 422
    assert body["count"] == MOST_LISTED + 5
    assert len(body["payouts"]) == MOST_LISTED
    assert body["payouts"][0] == {"payout_id": str(uuid.UUID(int=0)), "field": "bank_code"}
    assert "skip_untransferable=true" in body["detail"]
    # Skipping every payout leaves no file to make.
    with pytest.raises(UntransferableAccounts):
        check_transferable(bad[:1], skip=True, transferable=0)


def test_the_file_is_named_after_its_fund_and_period() -> None:
    assert file_name(uuid.UUID(int=7), 2) == f"furikomi-{uuid.UUID(int=7)}-2.txt"
