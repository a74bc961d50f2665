"""A bank's view of its referrals: the term's calendar, capital-like debt (ECLDB)
eligibility, who reads a bank's list, and the CSV file (pure)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.principal import Principal, Role
from kumiai.spreadsheets import BYTE_ORDER_MARK
from onboarding.applications.rules import Step
from onboarding.funds.rules import FundStatus
from onboarding.referrals.files import (
    REFERRALS_CSV_HEADER,
    referrals_csv,
    referrals_csv_filename,
)
from onboarding.referrals.rules import (
    ECLDB_MIN_REMAINING_MONTHS,
    JAPANESE,
    STATUS_JAPANESE,
    STEP_JAPANESE,
    FundFacts,
    ReasonCode,
    UnknownBank,
    add_months,
    check_may_read_bank,
    ecldb_eligibility,
    facts_of,
    remaining_term_months,
    term_ends_on,
    whole_months_between,
)
from onboarding.referrals.schemas import (
    EXAMPLE_DATE,
    REFERRAL_EXAMPLE,
    LatestApplicationOut,
    ReferralOut,
    ReferredFundOut,
    ecldb_out,
)

FORMED = date(2026, 10, 15)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
terms = st.integers(min_value=1, max_value=600)


def formed(term_months: int = 72, formed_on: date | None = FORMED, **kw: Any) -> FundFacts:
    facts: dict[str, Any] = {
        "status": FundStatus.CLOSED_SUCCEEDED,
        "subordinated": True,
        "term_months": term_months,
        "formed_on": formed_on,
    }
    facts.update(kw)
    return FundFacts(**facts)


def codes(facts: FundFacts, as_of: date) -> list[ReasonCode]:
    return [r.code for r in ecldb_eligibility(facts, as_of).reasons]


facts_drawn = st.builds(
    FundFacts,
    status=st.sampled_from(list(FundStatus)),
    subordinated=st.booleans(),
    term_months=terms,
    formed_on=st.one_of(st.none(), days),
)


# -- the calendar ----------------------------------------------------------------------


def test_months_added_stop_at_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 15), 72) == date(2032, 10, 15)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_whole_months_are_rounded_down() -> None:
    assert whole_months_between(date(2026, 11, 29), date(2032, 10, 15)) == 70
    assert whole_months_between(date(2026, 10, 15), date(2026, 11, 15)) == 1
    assert whole_months_between(date(2026, 10, 15), date(2026, 11, 14)) == 0
    assert whole_months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert whole_months_between(date(2026, 11, 29), date(2026, 11, 29)) == 0
    assert whole_months_between(date(2030, 1, 1), date(2026, 1, 1)) == 0


@given(start=days, end=days)
def test_whole_months_are_the_most_that_fit(start: date, end: date) -> None:
    months = whole_months_between(start, end)
    assert months >= 0
    if end > start:
        assert add_months(start, months) <= end < add_months(start, months + 1)
    else:
        assert months == 0


@given(formed_on=days, term=terms, as_of=days, later=st.integers(min_value=0, max_value=5_000))
def test_time_passing_never_lengthens_what_remains(
    formed_on: date, term: int, as_of: date, later: int
) -> None:
    assert remaining_term_months(
        formed_on, term, as_of + timedelta(days=later)
    ) <= remaining_term_months(formed_on, term, as_of)


def test_on_the_day_of_formation_the_whole_term_remains() -> None:
    assert remaining_term_months(FORMED, 72, FORMED) == 72
    assert term_ends_on(FORMED, 72) == date(2032, 10, 15)


# -- capital-like debt -----------------------------------------------------------------


def test_a_formed_subordinated_72_month_fund_is_eligible_with_every_reason_met() -> None:
    result = ecldb_eligibility(formed(72), FORMED)
    assert result.eligible
    assert [r.code for r in result.reasons] == [
        ReasonCode.FORMED,
        ReasonCode.LONG_TERM,
        ReasonCode.SUBORDINATED,
        ReasonCode.PERFORMANCE_LINKED,
        ReasonCode.NO_COLLATERAL,
    ]
    assert all(r.met for r in result.reasons)
    assert (result.remaining_months, result.term_ends_on) == (72, date(2032, 10, 15))


def test_a_48_month_fund_is_too_short() -> None:
    result = ecldb_eligibility(formed(48), FORMED)
    assert not result.eligible
    assert result.reasons[0].code is ReasonCode.TERM_TOO_SHORT
    assert "48 whole months" in result.reasons[0].text


def test_more_than_sixty_whole_months_must_remain() -> None:
    # 61 months from formation: eligible on the day, not once a month has passed.
    assert ecldb_eligibility(formed(61), FORMED).eligible
    assert not ecldb_eligibility(formed(60), FORMED).eligible
    a_month_later = add_months(FORMED, 1)
    assert codes(formed(61), a_month_later)[0] is ReasonCode.TERM_TOO_SHORT
    # 60 months and 14 days left: rounded down to 60, not over five years.
    assert codes(formed(61), a_month_later - timedelta(days=14))[0] is ReasonCode.TERM_TOO_SHORT
    assert codes(formed(61), a_month_later - timedelta(days=1))[0] is ReasonCode.TERM_TOO_SHORT
    assert ecldb_eligibility(formed(62), a_month_later - timedelta(days=1)).eligible


def test_a_fund_not_subordinated_is_not_eligible() -> None:
    result = ecldb_eligibility(formed(subordinated=False), FORMED)
    assert not result.eligible
    assert result.reasons[0].code is ReasonCode.NOT_SUBORDINATED


@pytest.mark.parametrize("status", [s for s in FundStatus if s is not FundStatus.CLOSED_SUCCEEDED])
def test_a_fund_that_has_not_formed_is_not_eligible(status: FundStatus) -> None:
    result = ecldb_eligibility(formed(status=status, formed_on=None), FORMED)
    assert not result.eligible
    assert result.reasons[0].code is ReasonCode.NOT_FORMED
    assert (result.remaining_months, result.term_ends_on) == (None, None)


def test_a_fund_formed_after_the_reporting_date_had_not_formed_on_it() -> None:
    result = ecldb_eligibility(formed(), FORMED - timedelta(days=1))
    assert not result.eligible
    assert result.reasons[0].code is ReasonCode.NOT_FORMED
    assert result.remaining_months is None


def test_a_formed_fund_without_a_formation_date_is_not_counted() -> None:
    result = ecldb_eligibility(formed(formed_on=None), FORMED)
    assert not result.eligible
    assert result.reasons[0].code is ReasonCode.FORMATION_DATE_UNKNOWN


@given(facts=facts_drawn, as_of=days)
def test_eligible_exactly_when_formed_subordinated_and_over_sixty_months_remain(
    facts: FundFacts, as_of: date
) -> None:
    result = ecldb_eligibility(facts, as_of)
    expected = (
        facts.status is FundStatus.CLOSED_SUCCEEDED
        and facts.formed_on is not None
        and facts.formed_on <= as_of
        and facts.subordinated
        and remaining_term_months(facts.formed_on, facts.term_months, as_of)
        > ECLDB_MIN_REMAINING_MONTHS
    )
    assert result.eligible is expected
    assert result.eligible is all(r.met for r in result.reasons)
    found = [r.code for r in result.reasons]
    assert len(found) == len(set(found)) == 4 + (result.remaining_months is not None)
    assert {ReasonCode.PERFORMANCE_LINKED, ReasonCode.NO_COLLATERAL} <= set(found)
    met = [r.met for r in result.reasons]
    assert met == sorted(met), "the unmet reasons come first"
    assert all(r.japanese for r in result.reasons)


@given(facts=facts_drawn, as_of=days, more=st.integers(min_value=0, max_value=600))
def test_a_longer_term_never_makes_an_eligible_fund_ineligible(
    facts: FundFacts, as_of: date, more: int
) -> None:
    longer = formed(
        term_months=facts.term_months + more,
        formed_on=facts.formed_on,
        status=facts.status,
        subordinated=facts.subordinated,
    )
    if ecldb_eligibility(facts, as_of).eligible:
        assert ecldb_eligibility(longer, as_of).eligible


def _stored(**terms: Any) -> SimpleNamespace:
    base: dict[str, Any] = {"term_months": 72, "subordinated": True}
    base.update(terms)
    return SimpleNamespace(
        status="closed_succeeded",
        terms=base,
        closed_at=datetime(2026, 10, 14, 16, 0, tzinfo=UTC),
    )


@given(
    name=st.text(max_size=30),
    unit_price=st.integers(min_value=10_000, max_value=50_000),
    rate=st.integers(min_value=1, max_value=1_000_000),
    units=st.integers(min_value=1, max_value=10_000),
    as_of=days,
)
def test_eligibility_depends_on_nothing_but_the_facts(
    name: str, unit_price: int, rate: int, units: int, as_of: date
) -> None:
    plain = facts_of(_stored())
    other = facts_of(
        _stored(
            name=name,
            unit_price=unit_price,
            units_offered=units,
            revenue_share={"rate_before_recoup_ppm": rate, "rate_after_recoup_ppm": 0},
        )
    )
    assert other == plain
    assert ecldb_eligibility(other, as_of) == ecldb_eligibility(plain, as_of)


def test_a_fund_forms_on_the_day_in_japan_its_offering_closed() -> None:
    # 16:00 UTC on 14 October is 01:00 on 15 October in Japan.
    assert facts_of(_stored()).formed_on == FORMED
    failed = SimpleNamespace(**{**vars(_stored()), "status": "closed_failed"})
    assert facts_of(failed).formed_on is None
    assert facts_of(_stored(subordinated=False)).subordinated is False


def test_eligibility_says_it_is_a_screening_aid_not_legal_advice() -> None:
    assert "not legal advice" in (ecldb_eligibility.__doc__ or "")


# -- who reads a bank's list -----------------------------------------------------------


def test_a_bank_reads_its_own_referrals_and_staff_any() -> None:
    check_may_read_bank(
        Principal(subject="u", role=Role.BANK, tenant="hokkaido-bank"), "hokkaido-bank"
    )
    check_may_read_bank(Principal(subject="s", role=Role.STAFF, tenant="platform"), "other-bank")


@pytest.mark.parametrize(
    "principal",
    [
        Principal(subject="u", role=Role.BANK, tenant="other-bank"),
        Principal(subject="m", role=Role.MUNICIPALITY, tenant="hokkaido-bank"),
        Principal(subject="b", role=Role.MSME, tenant="hokkaido-bank"),
    ],
)
def test_another_banks_list_does_not_exist_for_the_caller(principal: Principal) -> None:
    with pytest.raises(UnknownBank) as refused:
        check_may_read_bank(principal, "hokkaido-bank")
    assert refused.value.status == 404
    assert str(refused.value.detail) == "no bank hokkaido-bank"


# -- the CSV ---------------------------------------------------------------------------


def _referral(name: str, funds: list[ReferredFundOut]) -> ReferralOut:
    return ReferralOut(
        msme_id=uuid.UUID(int=1),
        company_name=name,
        corporate_number="7000012050002",
        municipality_code="012025",
        latest_application=LatestApplicationOut(
            id=uuid.UUID(int=2),
            step=Step.READY,
            step_entered_at=datetime(2026, 8, 31, 20, 0, tzinfo=UTC),
        ),
        funds=funds,
    )


def _fund(name: str, term: int) -> ReferredFundOut:
    facts = formed(term)
    result = ecldb_eligibility(facts, FORMED)
    return ReferredFundOut(
        id=uuid.uuid4(),
        name=name,
        status=facts.status,
        amount_raised=4_000_000,
        currency="JPY",
        term_months=term,
        formed_on=facts.formed_on,
        term_ends_on=result.term_ends_on,
        remaining_term_months=result.remaining_months,
        subordinated=facts.subordinated,
        ecldb=ecldb_out(result),
    )


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_csv_has_a_row_per_fund_and_one_for_a_business_without_a_fund() -> None:
    content = referrals_csv(
        [
            _referral("函館クラフト醸造", [_fund("タンク", 72), _fund("=HYPERLINK(1)", 48)]),
            _referral("+Plain, Ltd.", []),
        ],
        FORMED,
    )
    assert content.startswith(BYTE_ORDER_MARK.encode())
    assert content.count(b"\r\n") == 4
    assert b"\n" not in content.replace(b"\r\n", b"")
    header, long, short, empty = _rows(content)
    assert tuple(header) == REFERRALS_CSV_HEADER
    column = {name: n for n, name in enumerate(header)}
    assert long[column["会社名"]] == "函館クラフト醸造"
    assert long[column["審査段階"]] == STEP_JAPANESE[Step.READY]
    assert long[column["段階開始日"]] == "2026-09-01", "the day in Japan"
    assert long[column["ファンド状態"]] == STATUS_JAPANESE[FundStatus.CLOSED_SUCCEEDED]
    assert (long[column["資本性借入金"]], long[column["残存期間（月）"]]) == ("該当", "72")  # noqa: RUF001
    assert long[column["調達額"]] == "4000000"
    assert short[column["ファンド名"]] == "'=HYPERLINK(1)"
    assert short[column["資本性借入金"]] == "非該当"
    assert short[column["理由コード"]].split()[0] == "term_too_short"
    assert short[column["理由"]].startswith(JAPANESE[ReasonCode.TERM_TOO_SHORT])
    assert empty[column["会社名"]] == "'+Plain, Ltd."
    assert empty[column["ファンドID"]] == ""
    assert empty[column["資本性借入金"]] == ""
    assert len(empty) == len(header)
    assert {row[column["基準日"]] for row in (long, short, empty)} == {"2026-10-15"}


def test_the_csv_file_name_is_the_bank_and_the_date() -> None:
    assert (
        referrals_csv_filename("hokkaido-bank", FORMED) == "referrals-hokkaido-bank-2026-10-15.csv"
    )
    with pytest.raises(ValueError, match="not a partner id"):
        referrals_csv_filename('x"; filename=evil', FORMED)


def test_the_published_example_is_what_the_rule_says() -> None:
    example = ReferralOut.model_validate(REFERRAL_EXAMPLE)
    [fund] = example.funds
    assert fund.formed_on is not None
    facts = formed(fund.term_months, fund.formed_on, subordinated=fund.subordinated)
    result = ecldb_eligibility(facts, EXAMPLE_DATE)
    assert fund.ecldb == ecldb_out(result)
    assert (fund.term_ends_on, fund.remaining_term_months) == (
        result.term_ends_on,
        result.remaining_months,
    )
