"""A fund's rules: its terms, the yearly limit, its states, who sees it (pure)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kumiai.contracts.onboarding import FundFees, RevenueShare, Settlement
from kumiai.contracts.subscription import FundOutcome
from kumiai.periods import JAPAN
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from onboarding.applications.rules import Step
from onboarding.funds.rules import (
    COUNTED_TOWARDS_LIMIT,
    FundExists,
    FundStateConflict,
    FundStatus,
    FundTerms,
    FundTermsRejected,
    InvalidFundTerms,
    RaisedFund,
    TermLimits,
    YearlyLimitExceeded,
    YearlyLimitRefused,
    cancellation,
    capital_like_debt,
    check_designable,
    check_editable,
    check_first_fund,
    check_publishable,
    check_ready,
    check_staff,
    check_yearly_limit,
    closing,
    listing,
    may_read,
    opening,
    opens_at_publication,
    raised_fund,
    unscheduled_reason,
    validate_terms,
    window_too_short,
    within_a_year,
)

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
TERMS = FundTerms(
    name="Hakodate brewery: new fermentation tanks",
    unit_price=10_000,
    handling_fee_per_unit=500,
    units_offered=1_000,
    formation_threshold_units=300,
    max_units_per_investor=50,
    offering_start=START,
    offering_end=START + timedelta(days=30),
    term_months=72,
    settlement=Settlement(fiscal_year_end_month=3, periods_per_year=1),
    revenue_share=RevenueShare(rate_before_recoup_ppm=30_000, rate_after_recoup_ppm=10_000),
    fees=FundFees(
        arrangement_fee=900_000,
        operation_fee_rate_ppm=20_000,
        audit_fee_first_year=150_000,
        audit_fee_later_years=100_000,
        success_fee_rate_ppm=30_000,
    ),
)


def test_good_terms_pass_and_derive_target_and_investment_part() -> None:
    validate_terms(TERMS, TermLimits())
    hybrid = TERMS.model_copy(update={"donation_per_unit": 5_000})
    validate_terms(hybrid, TermLimits())
    assert TERMS.target_amount == 10_000_000
    assert hybrid.investment_per_unit == 5_000


def test_the_digest_names_exactly_these_terms() -> None:
    same = FundTerms.model_validate(TERMS.model_dump(mode="json"))
    assert same.digest() == TERMS.digest()
    assert TERMS.model_copy(update={"units_offered": 1_001}).digest() != TERMS.digest()
    assert len(TERMS.digest()) == 64


@given(price=st.integers(min_value=1, max_value=1_000_000))
def test_unit_price_must_be_within_bounds(price: int) -> None:
    free = TERMS.fees.model_copy(update={"arrangement_fee": 0})
    terms = TERMS.model_copy(update={"unit_price": price, "fees": free})
    if 10_000 <= price <= 50_000:
        validate_terms(terms, TermLimits())
    else:
        with pytest.raises(InvalidFundTerms) as caught:
            validate_terms(terms, TermLimits())
        assert set(caught.value.problems) == {"unit_price"}


def test_every_fault_is_named_at_once() -> None:
    bad = TERMS.model_copy(
        update={
            "formation_threshold_units": 2_000,
            "max_units_per_investor": 1_001,
            "offering_end": START + timedelta(hours=1),
            "donation_per_unit": 10_000,
            "revenue_share": RevenueShare(
                rate_before_recoup_ppm=0,
                rate_after_recoup_ppm=0,
                early_termination_at_plan_sales=True,
            ),
            "fees": TERMS.fees.model_copy(update={"arrangement_fee": 20_000_001}),
        }
    )
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(bad, TermLimits())
    assert set(caught.value.problems) == {
        "formation_threshold_units",
        "max_units_per_investor",
        "offering_end",
        "donation_per_unit",
        "revenue_share",
        "revenue_share.plan_sales",
        "fees.arrangement_fee",
    }


def test_an_offering_may_not_run_longer_than_the_limit() -> None:
    long = TERMS.model_copy(update={"offering_end": START + timedelta(days=366)})
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(long, TermLimits())
    assert "at most 365 days" in caught.value.problems["offering_end"]


def test_a_naive_offering_window_is_refused_by_the_model() -> None:
    data = TERMS.model_dump(mode="json") | {"offering_start": "2026-12-01T10:00:00"}
    with pytest.raises(ValidationError, match="offering_start"):
        FundTerms.model_validate(data)


def test_capital_like_debt_needs_over_five_years_and_subordination() -> None:
    eligible = capital_like_debt(TERMS)
    five_years = capital_like_debt(TERMS.model_copy(update={"term_months": 60}))
    senior = capital_like_debt(TERMS.model_copy(update={"subordinated": False}))
    assert eligible.eligible
    assert eligible.reasons[0] == "term of 72 months is over five years"
    assert not five_years.eligible
    assert "is not over five years" in five_years.reasons[0]
    assert not senior.eligible
    assert "investors are not subordinated" in senior.reasons


def _fund(days_from_start: int, amount: int) -> RaisedFund:
    return RaisedFund(offering_start=START + timedelta(days=days_from_start), amount=amount)


def test_the_yearly_limit_is_strictly_below_the_figure() -> None:
    limit = 100_000_000
    check_yearly_limit(TERMS, [_fund(-200, 89_999_999)], limit=limit)
    with pytest.raises(YearlyLimitExceeded) as caught:
        check_yearly_limit(TERMS, [_fund(-200, 90_000_000)], limit=limit)
    assert (caught.value.counted, caught.value.this_fund) == (90_000_000, 10_000_000)
    assert "limit is below 100000000" in str(caught.value)


def test_funds_more_than_a_year_apart_do_not_count_and_zero_means_no_limit() -> None:
    check_yearly_limit(TERMS, [_fund(-365, 95_000_000), _fund(400, 95_000_000)], limit=100_000_000)
    check_yearly_limit(TERMS, [_fund(0, 10**12)], limit=0)


@given(
    others=st.lists(
        st.tuples(st.integers(min_value=-800, max_value=800), st.integers(0, 60_000_000)),
        max_size=6,
    )
)
def test_a_fund_passes_only_if_its_year_stays_below_the_limit(
    others: list[tuple[int, int]],
) -> None:
    funds = [_fund(days, amount) for days, amount in others]
    counted = sum(amount for days, amount in others if abs(days) < 365)
    allowed = counted + TERMS.target_amount < 100_000_000
    if allowed:
        check_yearly_limit(TERMS, funds, limit=100_000_000)
    else:
        with pytest.raises(YearlyLimitExceeded):
            check_yearly_limit(TERMS, funds, limit=100_000_000)


# -- The offering window counts from when the offering actually opens -------------------


def test_a_start_set_in_the_past_does_not_shorten_the_minimum_window() -> None:
    """Published two days after its start with four minutes left: open for four minutes."""
    now = START + timedelta(days=2)
    back_dated = TERMS.model_copy(update={"offering_end": now + timedelta(minutes=4)})
    validate_terms(back_dated, TermLimits())  # the nominal window is over two days
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(back_dated, TermLimits(), now=now)
    assert set(caught.value.problems) == {"offering_end"}
    assert "at least 1 day(s) from its opening (now)" in caught.value.problems["offering_end"]
    validate_terms(back_dated, TermLimits(), now=now - timedelta(days=1, minutes=-4))


def test_a_future_start_counts_its_window_from_the_start() -> None:
    early = START - timedelta(days=10)
    validate_terms(TERMS, TermLimits(min_offering_days=30), now=early)
    assert opening(TERMS, early) == START
    with pytest.raises(InvalidFundTerms):
        validate_terms(TERMS, TermLimits(min_offering_days=31), now=early)


def test_an_offering_must_end_after_it_starts_even_without_a_minimum() -> None:
    instant = TERMS.model_copy(update={"offering_end": START})
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(instant, TermLimits(min_offering_days=0))
    assert caught.value.problems == {"offering_end": "must be after offering_start"}
    ended = TERMS.model_copy(update={"offering_end": START + timedelta(hours=1)})
    with pytest.raises(InvalidFundTerms):
        validate_terms(ended, TermLimits(min_offering_days=0), now=START + timedelta(hours=2))


@given(
    window_s=st.integers(min_value=1, max_value=40 * 86_400),
    late_s=st.integers(min_value=-86_400, max_value=40 * 86_400),
    min_days=st.integers(min_value=0, max_value=30),
    grace_s=st.integers(min_value=0, max_value=600),
)
def test_an_offering_that_opens_is_open_at_least_the_minimum_less_the_grace(
    window_s: int, late_s: int, min_days: int, grace_s: int
) -> None:
    terms = TERMS.model_copy(update={"offering_end": START + timedelta(seconds=window_s)})
    now = START + timedelta(seconds=late_s)
    opens_at = opening(terms, now)
    grace = timedelta(seconds=grace_s)
    open_for = terms.offering_end - opens_at
    if window_too_short(terms, opens_at, min_days=min_days, grace=grace):
        assert open_for <= timedelta(0) or open_for < timedelta(days=min_days) - grace
    else:
        assert open_for > timedelta(0)
        assert open_for >= timedelta(days=min_days) - grace


def test_a_target_beyond_one_trillion_is_refused() -> None:
    huge = TERMS.model_copy(update={"units_offered": 10**9, "unit_price": 10_000})
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(huge, TermLimits())
    assert "units_offered" in caught.value.problems


# -- Terms arrive as strict JSON ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_price", "10000"),
        ("unit_price", True),
        ("unit_price", 1e4),
        ("unit_price", 10**30),
        ("unit_price", 2**63 - 1),
        ("units_offered", "1000"),
        ("units_offered", 10**10),
        ("term_months", 72.0),
        ("handling_fee_per_unit", -1),
    ],
)
def test_integers_in_terms_are_strict_and_bounded(field: str, value: object) -> None:
    data = TERMS.model_dump(mode="json") | {field: value}
    with pytest.raises(ValidationError) as caught:
        FundTerms.model_validate_json(json.dumps(data))
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    "path", [("revenue_share", "rate_before_recoup_ppm"), ("fees", "arrangement_fee")]
)
def test_nested_terms_are_strict_too(path: tuple[str, str]) -> None:
    data = TERMS.model_dump(mode="json")
    data[path[0]][path[1]] = "30000"
    with pytest.raises(ValidationError) as caught:
        FundTerms.model_validate_json(json.dumps(data))
    assert caught.value.errors()[0]["loc"] == path


@pytest.mark.parametrize("field", ["name", "perks_per_unit"])
def test_terms_text_holds_no_control_characters_nor_unknown_fields(field: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        FundTerms.model_validate(TERMS.model_dump(mode="json") | {field: "Sake\x00brewery"})
    with pytest.raises(ValidationError, match="extra"):
        FundTerms.model_validate(TERMS.model_dump(mode="json") | {"bonus": 1})


def test_stored_terms_read_back_as_they_were() -> None:
    stored = json.loads(json.dumps(TERMS.model_dump(mode="json")))
    assert FundTerms.model_validate(stored) == TERMS


# -- The yearly limit's "year" is kumiai.periods' ------------------------------------------


def test_the_year_is_a_calendar_year_in_japan_across_a_leap_day() -> None:
    """365 days apart is still within a year when a 29 February lies between."""
    opens = datetime(2028, 3, 1, 10, 0, tzinfo=JAPAN)
    assert within_a_year(opens, opens - timedelta(days=365))  # 2 March 2027
    assert not within_a_year(opens, datetime(2027, 3, 1, 10, 0, tzinfo=JAPAN))
    earlier = datetime(2027, 3, 1, 10, 0, tzinfo=JAPAN)
    assert within_a_year(earlier, earlier + timedelta(days=365))  # 29 February 2028
    assert not within_a_year(earlier, opens)


def test_the_limit_counts_from_this_funds_actual_opening() -> None:
    """A start back-dated on paper does not move the fund's year away from a recent fund."""
    recent = RaisedFund(offering_start=START, amount=95_000_000)
    back_dated = TERMS.model_copy(update={"offering_start": START - timedelta(days=500)})
    check_yearly_limit(back_dated, [recent], limit=100_000_000)  # the paper date
    with pytest.raises(YearlyLimitExceeded) as caught:
        check_yearly_limit(
            back_dated, [recent], limit=100_000_000, opens_at=START + timedelta(days=1)
        )
    assert caught.value.counted == 95_000_000
    check_yearly_limit(
        back_dated, [recent], limit=100_000_000, opens_at=START + timedelta(days=400)
    )


# -- Refusals are the fund's problem types -------------------------------------------------


def test_faulty_terms_are_answered_422_naming_each_field_where_it_was_sent() -> None:
    bad = TERMS.model_copy(update={"unit_price": 5_000, "donation_per_unit": 5_000})
    with pytest.raises(FundTermsRejected) as caught:
        validate_terms(bad, TermLimits(), where="body.terms.")
    assert isinstance(caught.value, InvalidFundTerms)
    assert (caught.value.status, caught.value.problem) == (422, "fund-terms-invalid")
    names = [p["name"] for p in caught.value.extra["invalid_params"]]
    assert names == ["body.terms.unit_price", "body.terms.donation_per_unit"]
    assert validate_terms(TERMS, TermLimits()) is TERMS


def test_a_yearly_limit_refusal_carries_the_figures() -> None:
    with pytest.raises(YearlyLimitRefused) as caught:
        check_yearly_limit(TERMS, [_fund(10, 95_000_000)], limit=100_000_000)
    assert caught.value.extra == {
        "limit": 100_000_000,
        "counted": 95_000_000,
        "this_fund": 10_000_000,
    }


# -- What counts towards the yearly limit ----------------------------------------------------

NOW = START + timedelta(days=3)


def _other(status: FundStatus, **facts: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "status": status.value,
        "opened_at": None,
        "offering_start": START,
        "target_amount": 30_000_000,
        "amount_raised": None,
    }
    return SimpleNamespace(**(base | facts))


def test_published_funds_count_and_failed_or_unpublished_ones_do_not() -> None:
    counted = {FundStatus.SCHEDULED, FundStatus.OPEN, FundStatus.CLOSED_SUCCEEDED}
    assert counted == COUNTED_TOWARDS_LIMIT


def test_another_fund_counts_at_its_target_until_it_closed_then_at_what_it_raised() -> None:
    opened = START + timedelta(days=1)
    assert raised_fund(_other(FundStatus.OPEN, opened_at=opened), NOW) == RaisedFund(
        offering_start=opened, amount=30_000_000
    )
    assert raised_fund(
        _other(FundStatus.CLOSED_SUCCEEDED, opened_at=opened, amount_raised=12_000_000), NOW
    ) == RaisedFund(offering_start=opened, amount=12_000_000)
    # Scheduled with a start already past: it will open now at the earliest.
    assert raised_fund(_other(FundStatus.SCHEDULED), NOW).offering_start == NOW
    later = NOW + timedelta(days=9)
    assert raised_fund(_other(FundStatus.SCHEDULED, offering_start=later), NOW).offering_start == (
        later
    )


# -- The states of a fund ----------------------------------------------------------------


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "platform")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.STAFF])
def test_only_staff_design_publish_and_cancel(role: Role) -> None:
    check_staff(STAFF)
    with pytest.raises(Forbidden, match="only staff"):
        check_staff(_principal(role, "platform"))


@pytest.mark.parametrize("step", list(Step))
def test_a_fund_is_designed_after_the_committee_and_published_when_ready(step: Step) -> None:
    if step in (Step.OFFERING_PREPARATION, Step.MSME_CONFIRMATION, Step.READY):
        check_designable(step)
    else:
        with pytest.raises(FundStateConflict, match="committee has not approved"):
            check_designable(step)
    if step is Step.READY:
        check_ready(step)
    else:
        with pytest.raises(FundStateConflict, match="must confirm first"):
            check_ready(step)


def test_an_application_has_one_fund() -> None:
    check_first_fund(None)
    existing = uuid.uuid4()
    with pytest.raises(FundExists) as caught:
        check_first_fund(existing)
    assert caught.value.extra == {"existing": f"/funds/{existing}"}


@pytest.mark.parametrize("status", list(FundStatus))
def test_only_a_draft_changes_its_terms_or_is_published(status: FundStatus) -> None:
    if status is FundStatus.DRAFT:
        check_editable(status)
        check_publishable(status)
    else:
        with pytest.raises(FundStateConflict, match="its terms are frozen"):
            check_editable(status)
        with pytest.raises(FundStateConflict, match=f"already {status.value}"):
            check_publishable(status)


@pytest.mark.parametrize("status", list(FundStatus))
def test_a_fund_is_cancelled_before_it_opens_announced_if_published(status: FundStatus) -> None:
    if status in (FundStatus.DRAFT, FundStatus.SCHEDULED):
        assert cancellation(status) is (status is FundStatus.SCHEDULED)
    else:
        with pytest.raises(FundStateConflict, match="cancelled by the subscription service"):
            cancellation(status)


def test_a_fund_opens_at_publication_once_its_start_has_come() -> None:
    assert opens_at_publication(TERMS, START)
    assert opens_at_publication(TERMS, START + timedelta(days=1))
    assert not opens_at_publication(TERMS, START - timedelta(seconds=1))


def test_a_fund_the_timer_reached_too_late_says_why_and_what_to_do() -> None:
    late = TERMS.offering_end - timedelta(hours=6)
    reason = unscheduled_reason(TERMS, late, 1)
    assert "0.25 day(s) of it remained, less than the minimum of 1" in reason
    assert reason.endswith("set a new window and publish again")
    assert "0.00 day(s)" in unscheduled_reason(TERMS, TERMS.offering_end + timedelta(days=2), 1)


@given(
    current=st.sampled_from(list(FundStatus)),
    outcome=st.sampled_from(list(FundOutcome)),
    raised=st.integers(min_value=0, max_value=10**12),
)
def test_a_closing_is_recorded_once_and_a_failed_fund_raised_nothing(
    current: FundStatus, outcome: FundOutcome, raised: int
) -> None:
    closed = closing(current, outcome, raised)
    if current in (FundStatus.CLOSED_SUCCEEDED, FundStatus.CLOSED_FAILED):
        assert closed is None
    elif outcome is FundOutcome.SUCCEEDED:
        assert closed == (FundStatus.CLOSED_SUCCEEDED, raised)
    else:
        assert closed == (FundStatus.CLOSED_FAILED, 0)


# -- Who sees which fund -------------------------------------------------------------------

MSME_ID = uuid.uuid4()


def test_a_fund_is_seen_by_whoever_sees_its_application() -> None:
    application = SimpleNamespace(msme_id=MSME_ID, referred_by=None, referrer_id=None)
    msme = SimpleNamespace(referred_by_bank="hokkaido-bank")
    assert may_read(STAFF, application, msme)
    assert may_read(_principal(Role.MSME, str(MSME_ID)), application, msme)
    assert may_read(_principal(Role.BANK, "hokkaido-bank"), application, msme)
    assert not may_read(_principal(Role.BANK, "other-bank"), application, msme)
    assert not may_read(_principal(Role.SERVICE, "subscription"), application, msme)


def test_a_list_shows_a_business_its_funds_and_a_bank_its_referrals() -> None:
    business = _principal(Role.MSME, str(MSME_ID))
    assert listing(business, msme_id=None).msme_id == MSME_ID
    assert listing(business, msme_id=MSME_ID).only_business
    with pytest.raises(Forbidden, match="only its own funds"):
        listing(business, msme_id=uuid.uuid4())
    nameless = listing(_principal(Role.MSME, "not-a-uuid"), msme_id=None)
    assert nameless.only_business
    assert nameless.msme_id is None
    bank = listing(_principal(Role.BANK, "hokkaido-bank"), msme_id=MSME_ID)
    assert (bank.only_business, bank.referring_bank) == (False, "hokkaido-bank")
    assert listing(STAFF, msme_id=MSME_ID) == listing(STAFF, msme_id=None)
    for role in (Role.MUNICIPALITY, Role.INVESTOR, Role.SERVICE):
        with pytest.raises(Forbidden, match="does not list funds"):
            listing(_principal(role, "someone"), msme_id=None)
