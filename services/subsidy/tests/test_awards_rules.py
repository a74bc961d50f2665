"""The rules of awards: the amount, the budget and award count, score order, the fund paid
into, and what revocation, payment and a fund's failure do (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint, Index, UniqueConstraint

from kumiai.inputs import MAX_AMOUNT
from kumiai.principal import Principal, Role
from subsidy.applications.rules import ApplicationStatus
from subsidy.awards.rules import (
    DATABASE_GUARDS,
    LIVE,
    ApplicationsStillOpen,
    AwardsExhausted,
    AwardStatus,
    BudgetExhausted,
    Contender,
    FundAlreadySubsidised,
    FundNotOpen,
    NotAwardable,
    NothingToSubsidise,
    NotInScoreOrder,
    NotRevocable,
    award_amount,
    check_amount,
    check_awardable,
    check_fund_free,
    check_room,
    check_score_order,
    check_window_closed,
    fund_to_subsidise,
    lapses_when_fund_cancelled,
    lapses_when_fund_fails,
    list_scope,
    may_read,
    payment_effect,
    refusal,
    revoked_status,
)
from subsidy.db.models import metadata
from subsidy.facts.rules import FundFacts, FundStatus
from subsidy.programmes.rules import PPM

APPLICATION = uuid.uuid4()
MSME = uuid.uuid4()
K_CITY = "012068"
T0 = datetime(2015, 8, 1, tzinfo=UTC)


def test_k_city_pays_800_000_of_a_900_000_fee() -> None:
    assert award_amount(900_000, 900_000, 800_000) == 800_000
    assert award_amount(800_000, 900_000, 800_000) == 720_000
    assert award_amount(999, 333_333, 800_000) == 332  # 332.99... rounded down


@given(
    fee=st.integers(0, MAX_AMOUNT),
    coverage=st.integers(1, PPM),
    cap=st.integers(1, MAX_AMOUNT),
)
def test_an_award_never_exceeds_the_cap_nor_the_covered_share_of_the_fee(
    fee: int, coverage: int, cap: int
) -> None:
    amount = award_amount(fee, coverage, cap)
    assert amount <= cap
    assert amount * PPM <= fee * coverage  # never more than fee x coverage
    assert amount <= fee
    # ... and it is the whole of one of them: nothing is lost but the fraction of a yen.
    assert amount == cap or (fee * coverage - amount * PPM) < PPM


def test_an_award_of_nothing_is_refused() -> None:
    with pytest.raises(NothingToSubsidise):
        check_amount(award_amount(0, 900_000, 800_000))
    check_amount(1)


@given(
    budget=st.integers(1, 10**9),
    max_awards=st.integers(1, 1_000),
    reserved_share=st.fractions(0, 1),
    count=st.integers(0, 1_000),
    amount=st.integers(1, 10**9),
)
def test_an_award_fits_the_budget_and_the_award_count_or_is_refused(
    budget: int, max_awards: int, reserved_share: object, count: int, amount: int
) -> None:
    reserved = int(budget * reserved_share)  # type: ignore[operator]
    count = min(count, max_awards)
    refused = _refusal(
        reserved=reserved, awards_count=count, budget=budget, max_awards=max_awards, amount=amount
    )
    if isinstance(refused, AwardsExhausted):
        assert count == max_awards
    elif isinstance(refused, BudgetExhausted):
        assert count < max_awards
        assert reserved + amount > budget
        assert refused.extra["budget_left"] == budget - reserved
    else:
        assert reserved + amount <= budget
        assert count + 1 <= max_awards


def _refusal(**room: int) -> Exception | None:
    try:
        check_room(**room)
    except (AwardsExhausted, BudgetExhausted) as exc:
        return exc
    return None


def test_awards_wait_for_the_window_to_close() -> None:
    with pytest.raises(ApplicationsStillOpen):
        check_window_closed(T0, T0 - timedelta(seconds=1))
    check_window_closed(T0, T0)


def test_only_a_passed_application_under_review_is_awarded() -> None:
    passed = {"reviewers": 2, "reviewers_required": 2, "pass_mark": 60}
    assert check_awardable(ApplicationStatus.APPLIED, score=6_000, **passed) == 6_000
    with pytest.raises(NotAwardable, match="below the pass mark"):
        check_awardable(ApplicationStatus.APPLIED, score=5_999, **passed)
    with pytest.raises(NotAwardable, match="1 of the 2 reviewers"):
        check_awardable(
            ApplicationStatus.APPLIED, score=9_000, reviewers=1, reviewers_required=2, pass_mark=60
        )
    for status in (ApplicationStatus.AWARDED, ApplicationStatus.DECLINED):
        with pytest.raises(NotAwardable):
            check_awardable(status, score=9_000, **passed)


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=20))
def test_exactly_the_best_scores_may_be_awarded_first(scores: list[int]) -> None:
    ids = [uuid.uuid4() for _ in scores]
    best = max(scores)
    for index, score in enumerate(scores):
        others = [
            Contender(i, s) for j, (i, s) in enumerate(zip(ids, scores, strict=True)) if j != index
        ]
        refused = _out_of_order(score, others)
        if refused is None:
            assert score == best
        else:
            assert score < best
            first = min((i for i, s in zip(ids, scores, strict=True) if s == best), key=str)
            assert refused.extra["higher"][0] == str(first)


def _out_of_order(score: int, others: list[Contender]) -> NotInScoreOrder | None:
    try:
        check_score_order(score, others)
    except NotInScoreOrder as exc:
        return exc
    return None


def _fund(status: FundStatus, *, hours: int = 0, application: uuid.UUID = APPLICATION) -> FundFacts:
    return FundFacts(
        fund_id=uuid.uuid4(),
        application_id=application,
        msme_id=MSME,
        name="Fund",
        arrangement_fee=900_000,
        currency="JPY",
        status=status,
        amount_raised=None,
        opened_at=T0 + timedelta(hours=hours),
    )


def test_the_award_pays_into_the_applications_open_or_formed_fund() -> None:
    open_fund, formed = _fund(FundStatus.OPEN), _fund(FundStatus.FORMED, hours=1)
    assert fund_to_subsidise(APPLICATION, [open_fund]) is open_fund
    assert fund_to_subsidise(APPLICATION, [open_fund, formed]) is formed
    cancelled = _fund(FundStatus.CANCELLED, hours=2)
    assert fund_to_subsidise(APPLICATION, [cancelled, open_fund]) is open_fund


def test_no_award_before_the_fund_opens_nor_after_it_failed_or_was_cancelled() -> None:
    with pytest.raises(FundNotOpen, match="FundOpened not heard") as refused:
        fund_to_subsidise(APPLICATION, [_fund(FundStatus.OPEN, application=uuid.uuid4())])
    assert refused.value.status == 409
    for status in (FundStatus.FAILED, FundStatus.CANCELLED):
        with pytest.raises(FundNotOpen, match=f"is {status.value}"):
            fund_to_subsidise(APPLICATION, [_fund(status)])


def test_a_fund_has_one_live_award() -> None:
    check_fund_free(uuid.uuid4(), has_live_award=False)
    with pytest.raises(FundAlreadySubsidised):
        check_fund_free(uuid.uuid4(), has_live_award=True)


def test_revocation_releases_before_payment_and_claims_back_after() -> None:
    assert revoked_status(AwardStatus.GRANTED) is AwardStatus.REVOKED
    assert revoked_status(AwardStatus.PAID) is AwardStatus.REPAYMENT_DUE
    assert AwardStatus.REVOKED not in LIVE  # its budget is released
    assert AwardStatus.REPAYMENT_DUE in LIVE  # the money was spent: the budget stays used
    for status in (AwardStatus.REVOKED, AwardStatus.LAPSED, AwardStatus.REPAYMENT_DUE):
        with pytest.raises(NotRevocable):
            revoked_status(status)


def test_a_payment_pays_a_grant_and_a_crossed_one_is_owed_back() -> None:
    paid = payment_effect(AwardStatus.GRANTED, already_paid=False)
    assert (paid.status, paid.recorded, paid.repayment_due) == (AwardStatus.PAID, True, False)
    for ended in (AwardStatus.REVOKED, AwardStatus.LAPSED):
        crossed = payment_effect(ended, already_paid=False)
        assert (crossed.status, crossed.recorded, crossed.repayment_due) == (ended, True, True)
    again = payment_effect(AwardStatus.PAID, already_paid=True)
    assert not again.recorded


def test_a_failed_fund_lapses_a_grant_only_when_the_programme_says_so() -> None:
    assert lapses_when_fund_fails(AwardStatus.GRANTED, lapses_if_fund_fails=True)
    assert not lapses_when_fund_fails(AwardStatus.GRANTED, lapses_if_fund_fails=False)
    assert not lapses_when_fund_fails(AwardStatus.REVOKED, lapses_if_fund_fails=True)
    assert lapses_when_fund_cancelled(AwardStatus.GRANTED)
    assert not lapses_when_fund_cancelled(AwardStatus.PAID)


def test_what_the_database_refuses_is_answered_as_the_rules_would() -> None:
    assert isinstance(refusal("ck_programmes_within_budget"), BudgetExhausted)
    assert isinstance(refusal("ck_programmes_within_award_count"), AwardsExhausted)
    assert isinstance(refusal("uq_awards_live_fund"), FundAlreadySubsidised)
    assert isinstance(refusal("uq_awards_application"), NotAwardable)
    named: set[str] = set()
    for table in metadata.tables.values():
        named |= {
            str(c.name)
            for c in table.constraints
            if isinstance(c, CheckConstraint | UniqueConstraint)
        }
        named |= {str(i.name) for i in table.indexes if isinstance(i, Index)}
    assert set(DATABASE_GUARDS) <= named


def test_who_sees_an_award() -> None:
    staff = Principal(subject="s", role=Role.STAFF, tenant="platform")
    k = Principal(subject="k", role=Role.MUNICIPALITY, tenant=K_CITY)
    other = Principal(subject="h", role=Role.MUNICIPALITY, tenant="012025")
    business = Principal(subject="b", role=Role.MSME, tenant=str(MSME))
    stranger = Principal(subject="c", role=Role.MSME, tenant=str(uuid.uuid4()))
    investor = Principal(subject="i", role=Role.INVESTOR, tenant=str(uuid.uuid4()))
    seen = {
        p.subject
        for p in (staff, k, other, business, stranger, investor)
        if may_read(p, programme_code=K_CITY, msme_id=MSME)
    }
    assert seen == {"s", "k", "b"}
    assert list_scope(staff).municipality_code is None
    assert not list_scope(staff).nothing
    assert list_scope(k).municipality_code == K_CITY
    assert list_scope(business).msme_id == MSME
    assert list_scope(Principal(subject="x", role=Role.MSME, tenant="not-a-uuid")).nothing
    assert list_scope(investor).nothing
