"""Double-entry rules (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.books import (
    AccountKind,
    Balance,
    Conditions,
    Direction,
    LedgerRuleError,
    Leg,
    PostingStatus,
    Purpose,
    SegregationError,
    UnbalancedEntryError,
    chart_of_accounts,
    check_segregation,
    net_by_currency,
    reversal_of,
    validate_legs,
)

ESCROW = "fund/f-1/escrow"
D, C = Direction.DEBIT, Direction.CREDIT

accounts = st.sampled_from(["bank/b-1/clearing", ESCROW, "investor/i-1/wallet", "suspense"])


@st.composite
def balanced_legs(draw: st.DrawFn) -> list[Leg]:
    """Random entries that balance: each debit split into random credits."""
    legs: list[Leg] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        currency = draw(st.sampled_from(["JPY", "USD"]))
        amount = draw(st.integers(min_value=2, max_value=10**9))
        legs.append(Leg(draw(accounts), D, amount, currency))
        cut = draw(st.integers(min_value=1, max_value=amount - 1))
        legs.append(Leg(draw(accounts), C, cut, currency))
        legs.append(Leg(draw(accounts), C, amount - cut, currency))
    return legs


@given(legs=balanced_legs())
def test_balanced_entries_pass_and_their_reversal_cancels_them(legs: list[Leg]) -> None:
    validate_legs(legs)
    validate_legs(reversal_of(legs))
    both = net_by_currency([*legs, *reversal_of(legs)])
    assert set(both.values()) == {0}


@given(legs=balanced_legs(), extra=st.integers(min_value=1, max_value=10**6))
def test_any_imbalance_is_refused(legs: list[Leg], extra: int) -> None:
    tilted = [
        *legs[:-1],
        Leg(legs[-1].account, legs[-1].direction, legs[-1].amount + extra, legs[-1].currency),
    ]
    with pytest.raises(UnbalancedEntryError, match="differ by"):
        validate_legs(tilted)


@pytest.mark.parametrize(
    ("legs", "message"),
    [
        ([Leg("suspense", D, 1, "JPY")], "at least two"),
        ([Leg("suspense", D, 0, "JPY"), Leg("suspense", C, 0, "JPY")], "positive"),
        ([Leg("Not A Code", D, 1, "JPY"), Leg("suspense", C, 1, "JPY")], "not an account code"),
        ([Leg("suspense", D, 5, "JPY"), Leg("suspense", C, 5, "USD")], "differ by 5"),
    ],
)
def test_meaningless_entries_are_refused(legs: list[Leg], message: str) -> None:
    with pytest.raises(LedgerRuleError, match=message):
        validate_legs(legs)


def test_pending_amounts_count_against_available_until_released() -> None:
    wallet = Balance(posted_credits=10_000)
    held = wallet.apply(D, 4_000, PostingStatus.PENDING)
    assert held.posted(AccountKind.LIABILITY) == 10_000
    assert held.available(AccountKind.LIABILITY) == 6_000
    posted = held.apply(D, 4_000, PostingStatus.RELEASE).apply(D, 4_000, PostingStatus.POSTED)
    assert posted.posted(AccountKind.LIABILITY) == 6_000
    assert posted.pending_debits == 0
    voided = held.apply(D, 4_000, PostingStatus.RELEASE)
    assert voided == wallet


def test_conditions() -> None:
    no_negative = Conditions(debits_must_not_exceed_credits=True)
    assert no_negative.allows(Balance(posted_credits=5, posted_debits=5))
    assert not no_negative.allows(Balance(posted_credits=5, posted_debits=4, pending_debits=2))
    no_overdraft = Conditions(credits_must_not_exceed_debits=True)
    assert not no_overdraft.allows(Balance(posted_debits=1, posted_credits=2))
    assert not Conditions().allows(Balance(pending_debits=-1))


def test_chart_of_accounts() -> None:
    escrow = chart_of_accounts(ESCROW)
    assert (escrow.kind, escrow.owner_id, escrow.segregated) == (AccountKind.LIABILITY, "f-1", True)
    assert chart_of_accounts("bank/b-9/clearing").kind is AccountKind.ASSET
    assert chart_of_accounts("platform/fees").kind is AccountKind.REVENUE
    with pytest.raises(LedgerRuleError, match="not in the chart"):
        chart_of_accounts("fund/f-1/piggy-bank")


RELEASE = [
    Leg(ESCROW, D, 100, "JPY"),
    Leg("msme/m-1/payable", C, 95, "JPY"),
    Leg("platform/fees", C, 5, "JPY"),
]
REFUND = [Leg(ESCROW, D, 100, "JPY"), Leg("investor/i-1/wallet", C, 100, "JPY")]
TO_SUSPENSE = [Leg(ESCROW, D, 100, "JPY"), Leg("suspense", C, 100, "JPY")]


@pytest.mark.parametrize(
    ("purpose", "legs", "allowed"),
    [
        (Purpose.RELEASE, RELEASE, True),
        (Purpose.REFUND, REFUND, True),
        (Purpose.REVERSAL, TO_SUSPENSE, True),
        (Purpose.TRANSFER, TO_SUSPENSE, False),
        (Purpose.PAYOUT, REFUND, False),
        (Purpose.RELEASE, REFUND, False),
        (Purpose.REFUND, RELEASE, False),
        (Purpose.DEPOSIT, list(reversed(reversal_of(REFUND))), True),
    ],
)
def test_money_leaves_escrow_only_as_release_or_refund(
    purpose: Purpose, legs: list[Leg], allowed: bool
) -> None:
    if allowed:
        check_segregation(purpose, legs, escrow_fund={ESCROW: "f-1"})
    else:
        with pytest.raises(SegregationError):
            check_segregation(purpose, legs, escrow_fund={ESCROW: "f-1"})
