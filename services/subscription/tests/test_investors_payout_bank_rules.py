"""A payout account is registered only at a bank and branch the Zengin code list knows
(pure)."""

from __future__ import annotations

import pytest

from subscription.investors.rules import UnknownPayoutBank, check_payout_bank


def test_a_payout_account_names_a_listed_bank_and_branch() -> None:
    check_payout_bank("0001", "001")  # Mizuho, Tokyo head office
    check_payout_bank("0116", "101")  # Hokkaido Bank, head office
    with pytest.raises(UnknownPayoutBank) as no_bank:
        check_payout_bank("9999", "001")
    with pytest.raises(UnknownPayoutBank) as no_branch:
        check_payout_bank("0116", "001")
    assert no_bank.value.status == no_branch.value.status == 422
    assert no_bank.value.problem == "unknown-bank-or-branch"
    assert [p["name"] for p in no_bank.value.extra["invalid_params"]] == [
        "body.personal.payout_account.bank_code"
    ]
    assert [p["name"] for p in no_branch.value.extra["invalid_params"]] == [
        "body.personal.payout_account.branch_code"
    ]
    assert "'001' is not a branch of bank 0116" in str(no_branch.value)
