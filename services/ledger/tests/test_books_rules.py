"""The rules of the books (pure): double entry, the chart, settling, reading, segregation."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.local_government import is_local_government_code, local_government_check_digit
from kumiai.principal import Principal, Role
from ledger.books.rules import (
    FLOW_AUTHOR,
    MANUAL_PURPOSES,
    AccountKind,
    Balance,
    Conditions,
    Direction,
    EntryRefused,
    EntryType,
    FundFacts,
    FundStatus,
    IdempotencyKeyConflict,
    Leg,
    NotManual,
    NotPending,
    NotReversible,
    Origin,
    PaymentFacts,
    PaymentStatus,
    PostingStatus,
    Purpose,
    ReferenceType,
    SegregationRefused,
    StatusLeg,
    UnbalancedEntry,
    UnknownAccount,
    chart_of_accounts,
    check_account_currency,
    check_manual_entry,
    check_manual_legs,
    check_pending,
    check_resolved_by_hand,
    check_reversed_by_hand,
    check_reversible,
    check_same_batch,
    check_same_request,
    check_segregation,
    clearing_account,
    escrow_account,
    flow_entry,
    manual_entry,
    may_read,
    mirrors,
    net_by_currency,
    payable_account,
    posted_legs,
    recorded_reason,
    resolution_legs,
    resolution_type,
    reversal_of,
    running_balances,
    signed,
    subsidy_account,
    trial_balance_net,
    validate_legs,
    wallet_account,
)

F1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c01"
S1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c02"
I1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c03"
M1 = "5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c04"
ESCROW = f"fund/{F1}/escrow"
D, C = Direction.DEBIT, Direction.CREDIT

accounts = st.sampled_from(["bank/b-1/clearing", ESCROW, f"investor/{I1}/wallet", "suspense"])


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
    with pytest.raises(UnbalancedEntry, match="differ by"):
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
    with pytest.raises(EntryRefused, match=message):
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
    assert (escrow.kind, escrow.owner_id, escrow.segregated) == (AccountKind.LIABILITY, F1, True)
    assert chart_of_accounts("bank/b-9/clearing").kind is AccountKind.ASSET
    assert chart_of_accounts("bank/b-9/clearing").partner_bank == "b-9"
    assert chart_of_accounts("platform/fees").kind is AccountKind.REVENUE
    assert chart_of_accounts("municipality/012025/subsidy").owner_id == "012025"
    with pytest.raises(UnknownAccount, match="not in the chart"):
        chart_of_accounts(f"fund/{F1}/piggy-bank")


@pytest.mark.parametrize(
    "code",
    [
        "fund/not-a-uuid/escrow",
        f"fund/{F1.upper()}/escrow",
        f"fund/{F1.replace('-', '')}/escrow",
        "investor/i-1/wallet",
        "msme/m-1/payable",
        "municipality/012026/subsidy",
        "municipality/12025/subsidy",
        "municipality/992020/subsidy",
        "bank/b 1/clearing",
        "shoebox",
        "",
    ],
)
def test_ids_in_account_codes_are_what_they_name(code: str) -> None:
    with pytest.raises(UnknownAccount) as refused:
        chart_of_accounts(code)
    assert refused.value.account == code
    assert repr(code) in str(refused.value), "the refusal names the account"


@given(base=st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_exactly_one_check_digit_makes_a_local_government_code(base: str) -> None:
    valid = [d for d in "0123456789" if is_local_government_code(base + d)]
    assert valid == (
        [] if base[:2] not in PREFECTURES else [str(local_government_check_digit(base))]
    )


PREFECTURES = {f"{n:02d}" for n in range(1, 48)}


def test_known_local_government_codes() -> None:
    assert is_local_government_code("012025")  # Hakodate
    assert is_local_government_code("011002")  # Sapporo
    assert is_local_government_code("131016")  # Chiyoda, Tokyo
    assert not is_local_government_code("0120\uff125"), "full-width digits are not ASCII"


PAYMENT = PaymentFacts(
    subscription_id=S1,
    fund_id=F1,
    investor_id=I1,
    amount=100,
    currency="JPY",
    status=PaymentStatus.EXPECTED,
)
OPEN = FundFacts(fund_id=F1, msme_id=M1, status=FundStatus.OPEN)
FORMED = FundFacts(fund_id=F1, msme_id=M1, status=FundStatus.FORMED, paid_in=100, fees_due=5)
WALLET = f"investor/{I1}/wallet"
PAYABLE = f"msme/{M1}/payable"
CLEARING = "bank/b-1/clearing"
PAY = [Leg(CLEARING, D, 100, "JPY"), Leg(ESCROW, C, 100, "JPY")]
RELEASE = [
    Leg(ESCROW, D, 100, "JPY"),
    Leg(PAYABLE, C, 95, "JPY"),
    Leg("platform/fees", C, 5, "JPY"),
]
REFUND = [Leg(ESCROW, D, 100, "JPY"), Leg(WALLET, C, 100, "JPY")]
PAID = replace(PAYMENT, status=PaymentStatus.PAID)


def test_the_business_flows_move_a_funds_money() -> None:
    check_segregation(Purpose.DEPOSIT, PAY, reference_id=S1, payment=PAYMENT, fund=OPEN)
    from_suspense = [Leg("suspense", D, 100, "JPY"), Leg(ESCROW, C, 100, "JPY")]
    check_segregation(Purpose.DEPOSIT, from_suspense, reference_id=S1, payment=PAYMENT, fund=OPEN)
    check_segregation(Purpose.REFUND, REFUND, reference_id=S1, payment=PAID)
    check_segregation(Purpose.RELEASE, RELEASE, reference_id=F1, fund=FORMED)
    check_segregation(Purpose.TRANSFER, [Leg(CLEARING, D, 1, "JPY"), Leg(WALLET, C, 1, "JPY")])


OTHER = "7b0f7a8e-0000-4000-8000-000000000099"


@pytest.mark.parametrize(
    ("purpose", "legs", "facts", "why"),
    [
        # the attacks of the review: a "reversal", a credit with nothing behind it, an early
        # release, a "refund" to anyone
        (Purpose.REVERSAL, list(reversed(reversal_of(PAY))), {}, "reversal may not move"),
        (Purpose.DEPOSIT, PAY, {"reference_id": S1, "fund": OPEN}, "names the subscription"),
        (Purpose.RELEASE, RELEASE, {"reference_id": F1, "fund": OPEN}, "only a formed fund"),
        (
            Purpose.REFUND,
            [Leg(ESCROW, D, 100, "JPY"), Leg(f"investor/{OTHER}/wallet", C, 100, "JPY")],
            {"reference_id": S1, "payment": PAID},
            "its payer's wallet",
        ),
        # payments
        (
            Purpose.DEPOSIT,
            [Leg(CLEARING, D, 99, "JPY"), Leg(ESCROW, C, 99, "JPY")],
            {"reference_id": S1, "payment": PAYMENT, "fund": OPEN},
            "awaits 100",
        ),
        (Purpose.DEPOSIT, PAY, {"reference_id": S1, "payment": PAID, "fund": OPEN}, "not awaited"),
        (
            Purpose.DEPOSIT,
            PAY,
            {"reference_id": S1, "payment": replace(PAYMENT, fund_id=OTHER), "fund": OPEN},
            "not in this fund",
        ),
        (
            Purpose.DEPOSIT,
            [Leg(WALLET, D, 100, "JPY"), Leg(ESCROW, C, 100, "JPY")],
            {"reference_id": S1, "payment": PAYMENT, "fund": OPEN},
            "clearing account or suspense",
        ),
        (
            Purpose.DEPOSIT,
            PAY,
            {
                "reference_id": S1,
                "payment": PAYMENT,
                "fund": replace(OPEN, status=FundStatus.RELEASED),
            },
            "not open",
        ),
        # refunds
        (
            Purpose.REFUND,
            [Leg(ESCROW, D, 60, "JPY"), Leg(WALLET, C, 60, "JPY")],
            {"reference_id": S1, "payment": PAID},
            "exactly",
        ),
        (Purpose.REFUND, REFUND, {"reference_id": S1, "payment": PAYMENT}, "nothing paid"),
        # releases
        (
            Purpose.RELEASE,
            [
                Leg(ESCROW, D, 100, "JPY"),
                Leg(f"msme/{OTHER}/payable", C, 95, "JPY"),
                Leg("platform/fees", C, 5, "JPY"),
            ],
            {"reference_id": F1, "fund": FORMED},
            "pays only",
        ),
        (
            Purpose.RELEASE,
            [Leg(ESCROW, D, 100, "JPY"), Leg(PAYABLE, C, 100, "JPY")],
            {"reference_id": F1, "fund": FORMED},
            "fees due",
        ),
        (
            Purpose.RELEASE,
            [
                Leg(ESCROW, D, 50, "JPY"),
                Leg(PAYABLE, C, 45, "JPY"),
                Leg("platform/fees", C, 5, "JPY"),
            ],
            {"reference_id": F1, "fund": FORMED},
            "everything paid in",
        ),
        (Purpose.RELEASE, RELEASE, {"reference_id": OTHER, "fund": FORMED}, "names the fund"),
        # anything else
        (Purpose.PAYOUT, REFUND, {}, "may not move"),
        (Purpose.FEE, [Leg(ESCROW, D, 5, "JPY"), Leg("platform/fees", C, 5, "JPY")], {}, "may not"),
        (
            Purpose.DEPOSIT,
            [
                Leg(CLEARING, D, 200, "JPY"),
                Leg(ESCROW, C, 100, "JPY"),
                Leg(f"fund/{OTHER}/escrow", C, 100, "JPY"),
            ],
            {"reference_id": S1, "payment": PAYMENT, "fund": OPEN},
            "one fund",
        ),
    ],
)
def test_nothing_else_moves_a_funds_money(
    purpose: Purpose, legs: list[Leg], facts: dict[str, Any], why: str
) -> None:
    with pytest.raises(SegregationRefused, match=why):
        check_segregation(purpose, legs, **facts)


@given(paid=st.integers(1, 10**12), asked=st.integers(1, 10**12))
def test_a_refund_pays_back_exactly_what_was_paid(paid: int, asked: int) -> None:
    payment = replace(PAID, amount=paid)
    legs = [Leg(ESCROW, D, asked, "JPY"), Leg(WALLET, C, asked, "JPY")]
    if asked == paid:
        check_segregation(Purpose.REFUND, legs, reference_id=S1, payment=payment)
    else:
        with pytest.raises(SegregationRefused):
            check_segregation(Purpose.REFUND, legs, reference_id=S1, payment=payment)


@pytest.mark.parametrize(
    ("purpose", "legs", "message"),
    [
        (Purpose.DEPOSIT, [Leg(CLEARING, D, 1, "JPY"), Leg("suspense", C, 1, "JPY")], "by hand"),
        (Purpose.REVERSAL, [Leg(CLEARING, D, 1, "JPY"), Leg("suspense", C, 1, "JPY")], "by hand"),
        (Purpose.TRANSFER, PAY, "fund's account"),
        (Purpose.ADJUSTMENT, [Leg("fund/x/escrow", D, 1, "JPY"), Leg(WALLET, C, 1, "JPY")], "fund"),
    ],
)
def test_manual_entries_are_adjustments_and_transfers_away_from_funds(
    purpose: Purpose, legs: list[Leg], message: str
) -> None:
    with pytest.raises(SegregationRefused, match=message):
        check_manual_entry(purpose, legs)


def test_manual_purposes() -> None:
    assert {Purpose.ADJUSTMENT, Purpose.TRANSFER} == MANUAL_PURPOSES
    check_manual_entry(Purpose.ADJUSTMENT, [Leg(CLEARING, D, 1, "JPY"), Leg(WALLET, C, 1, "JPY")])


@given(legs=balanced_legs())
def test_a_reversal_mirrors_its_original_and_nothing_else_does(legs: list[Leg]) -> None:
    assert mirrors(legs, reversal_of(legs))
    assert mirrors(legs, list(reversed(reversal_of(legs))))
    assert not mirrors(legs, legs), "the same directions add to the original"
    assert not mirrors(legs, reversal_of(legs)[:-1])
    assert not mirrors(legs, [*reversal_of(legs), legs[0], legs[0].mirrored()])
    tilted = reversal_of(legs)
    tilted[0] = replace(tilted[0], amount=tilted[0].amount + 1)
    assert not mirrors(legs, tilted)


# -- what entries may be written, and how they are settled ---------------------------------

STAFF = Principal(subject="s", role=Role.STAFF, tenant="platform")


def test_an_account_keeps_one_currency() -> None:
    check_account_currency("suspense", kept_in="JPY", posted_in="JPY")
    with pytest.raises(EntryRefused, match="suspense is kept in JPY, not USD"):
        check_account_currency("suspense", kept_in="JPY", posted_in="USD")


def test_a_replayed_key_carries_the_same_request() -> None:
    check_same_request("h1", "h1")
    with pytest.raises(IdempotencyKeyConflict, match="different entry"):
        check_same_request("h1", "h2")
    check_same_batch(["a", "b"], ["a", "b"])
    for stored in (["a", None], ["a", "c"], ["a"]):
        with pytest.raises(IdempotencyKeyConflict, match="different batch"):
            check_same_batch(stored, ["a", "b"])


@pytest.mark.parametrize(
    ("legs", "refused"),
    [
        # the chart first, then the fund's money, then the balance
        ([Leg("shoebox", D, 1, "JPY"), Leg(ESCROW, C, 2, "JPY")], UnknownAccount),
        ([Leg(CLEARING, D, 1, "JPY"), Leg(ESCROW, C, 2, "JPY")], SegregationRefused),
        ([Leg(CLEARING, D, 1, "JPY"), Leg(WALLET, C, 2, "JPY")], UnbalancedEntry),
    ],
)
def test_a_manual_entry_is_refused_for_its_first_fault(
    legs: list[Leg], refused: type[Exception]
) -> None:
    with pytest.raises(refused):
        check_manual_legs(Purpose.TRANSFER, legs)


@pytest.mark.parametrize("pending", [False, True])
def test_a_manual_entry_is_posted_or_held(pending: bool) -> None:
    legs = [Leg(CLEARING, D, 5, "JPY"), Leg(WALLET, C, 5, "JPY")]
    draft = manual_entry(
        purpose=Purpose.ADJUSTMENT,
        legs=legs,
        pending=pending,
        description="d",
        reason="why",
        effective_date=date(2026, 11, 30),
        reference_type=None,
        reference_id=None,
        idempotency_key="client/staff/platform/s/k",
        request_hash="h",
        created_by="s",
    )
    status = PostingStatus.PENDING if pending else PostingStatus.POSTED
    assert [s.status for s in draft.legs] == [status, status]
    assert draft.entry_type is (EntryType.PENDING if pending else EntryType.STANDARD)
    assert (draft.origin, draft.reason) == (Origin.MANUAL, "why")


def test_flow_entries_record_no_reason() -> None:
    assert recorded_reason(Origin.MANUAL, "why") == "why"
    assert recorded_reason(Origin.FLOW, "why") is None


def test_staff_settle_and_reverse_manual_entries_only() -> None:
    check_resolved_by_hand(Origin.MANUAL)
    check_reversed_by_hand(Origin.MANUAL)
    with pytest.raises(NotManual, match="confirmed or failed by its bank"):
        check_resolved_by_hand(Origin.FLOW)
    with pytest.raises(NotManual, match="undone by that flow"):
        check_reversed_by_hand(Origin.FLOW)


ENTRY = uuid.UUID("5c1e3b0a-9f2d-4e8a-b1c7-0d2f4a6b8c05")


@pytest.mark.parametrize("entry_type", list(EntryType))
def test_only_pending_entries_are_settled_and_only_posted_ones_reversed(
    entry_type: EntryType,
) -> None:
    if entry_type is EntryType.PENDING:
        check_pending(ENTRY, entry_type)
    else:
        with pytest.raises(NotPending, match=f"is {entry_type.value}"):
            check_pending(ENTRY, entry_type)
    if entry_type in (EntryType.STANDARD, EntryType.POST_PENDING):
        check_reversible(ENTRY, entry_type)
    else:
        with pytest.raises(NotReversible, match=f"is {entry_type.value}"):
            check_reversible(ENTRY, entry_type)
    assert resolution_type(post=True) is EntryType.POST_PENDING
    assert resolution_type(post=False) is EntryType.VOID_PENDING


def _apply(balances: dict[str, Balance], legs: list[StatusLeg]) -> dict[str, Balance]:
    out = dict(balances)
    for s in legs:
        out[s.leg.account] = out.get(s.leg.account, Balance()).apply(
            s.leg.direction, s.leg.amount, s.status
        )
    return out


@given(legs=balanced_legs(), post=st.booleans())
def test_settling_a_pending_entry_leaves_it_posted_or_as_if_it_never_was(
    legs: list[Leg], post: bool
) -> None:
    held = _apply({}, [StatusLeg(leg, PostingStatus.PENDING) for leg in legs])
    settled = _apply(held, resolution_legs(legs, post=post))
    expected = _apply({}, posted_legs(legs)) if post else {}
    for account in {leg.account for leg in legs}:
        assert settled[account] == expected.get(account, Balance())


@given(
    kind=st.sampled_from(list(AccountKind)),
    lines=st.lists(st.tuples(st.sampled_from([D, C]), st.integers(1, 10**9)), max_size=20),
)
def test_a_statement_ends_at_the_accounts_posted_balance(
    kind: AccountKind, lines: list[tuple[Direction, int]]
) -> None:
    balance = Balance()
    for direction, amount in lines:
        balance = balance.apply(direction, amount, PostingStatus.POSTED)
    running = running_balances(kind, 0, lines)
    assert running[-1:] == ([balance.posted(kind)] if lines else [])
    assert sum(signed(kind, d, a) for d, a in lines) == balance.posted(kind)


def test_the_trial_balance_nets_each_currency() -> None:
    net = trial_balance_net([("JPY", 10, 4), ("JPY", 0, 6), ("USD", 3, 0)])
    assert net == {"JPY": 0, "USD": 3}


@given(
    conditions=st.builds(Conditions, st.booleans(), st.booleans()),
    direction=st.sampled_from([D, C]),
    status=st.sampled_from(list(PostingStatus)),
    start=st.integers(0, 1_000),
    amount=st.integers(1, 1_000),
)
def test_a_writer_locks_every_account_its_leg_could_overdraw(
    conditions: Conditions, direction: Direction, status: PostingStatus, start: int, amount: int
) -> None:
    """A leg that the lock rule lets through unlocked never breaks a condition."""
    before = Balance(posted_debits=start, posted_credits=start)
    leg = StatusLeg(Leg("suspense", direction, amount, "JPY"), status)
    if status is PostingStatus.RELEASE:
        before = before.apply(direction, amount, PostingStatus.PENDING)
    after = before.apply(direction, amount, status)
    if conditions.allows(before) and not conditions.allows(after):
        assert conditions.could_be_broken_by(leg)


def test_the_account_code_helpers_name_accounts_of_the_chart() -> None:
    assert chart_of_accounts(escrow_account(F1)).segregated
    assert chart_of_accounts(wallet_account(I1)).owner_id == I1
    assert chart_of_accounts(payable_account(M1)).owner_type == "msme"
    assert chart_of_accounts(clearing_account("b-1")).partner_bank == "b-1"
    assert chart_of_accounts(subsidy_account("012025")).owner_type == "municipality"


@pytest.mark.parametrize(
    ("role", "own"),
    [
        (Role.INVESTOR, wallet_account(I1)),
        (Role.BANK, clearing_account(I1)),
        (Role.MSME, payable_account(I1)),
        (Role.MUNICIPALITY, subsidy_account(I1)),
    ],
)
def test_a_tenant_reads_only_its_own_account(role: Role, own: str) -> None:
    caller = Principal(subject="x", role=role, tenant=I1)
    assert may_read(caller, accounts=[own])
    assert not may_read(caller, accounts=[own, "suspense"]), "an entry touching another account"
    for other in ("suspense", ESCROW, wallet_account(M1), clearing_account("b-1")):
        assert not may_read(caller, accounts=[other])
    assert may_read(STAFF, accounts=[own, "suspense", ESCROW])
    assert not may_read(Principal(subject="x", role=Role.SERVICE, tenant="ledger"), accounts=[own])


def test_a_flow_entry_is_posted_once_segregation_allows_it() -> None:
    draft = flow_entry(
        purpose=Purpose.DEPOSIT,
        legs=PAY,
        description="d",
        effective_date=date(2026, 11, 30),
        idempotency_key="deposit/b-1/t-1",
        request_hash="h",
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.SUBSCRIPTION,
        reference_id=S1,
        payment=PAYMENT,
        fund=OPEN,
    )
    assert draft.origin is Origin.FLOW
    assert {s.status for s in draft.legs} == {PostingStatus.POSTED}
    assert (draft.reference_type, draft.reference_id) == ("subscription", S1)
    with pytest.raises(SegregationRefused):
        flow_entry(
            purpose=Purpose.DEPOSIT,
            legs=PAY,
            description="d",
            effective_date=date(2026, 11, 30),
            idempotency_key="deposit/b-1/t-1",
            request_hash="h",
            created_by=FLOW_AUTHOR,
            reference_type=ReferenceType.SUBSCRIPTION,
            reference_id=S1,
            payment=PAID,
            fund=OPEN,
        )
