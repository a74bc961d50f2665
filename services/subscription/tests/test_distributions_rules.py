"""The distribution calculation: hand-worked cases for each rule, and its invariants."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumiai_tools.testing import sample_fund_opened
from subscription.distributions.rules import (
    PPM,
    DistributionTerms,
    InvalidDistribution,
    PeriodSales,
    ThresholdBasis,
    batches,
    distribute,
    next_to_declare,
    recoup_sales,
    split_at,
    tax_on,
    terms_from,
)

# JPY 10,000 a unit plus a JPY 500 fee; 3 % of sales until recoup, 1 % after; nothing
# below JPY 1,000,000 of sales a period; a 2 % success fee on sales after recoup.
TERMS = DistributionTerms(
    unit_price=10_000,
    handling_fee_per_unit=500,
    rate_before_recoup_ppm=30_000,
    rate_after_recoup_ppm=10_000,
    sales_threshold=1_000_000,
    success_fee_rate_ppm=20_000,
)
REGISTER = {"a": 3, "b": 7}


def test_the_recoup_level_is_rounded_up() -> None:
    # R = ceil(10 units x 10,000 x 1,000,000 / 30,000) = ceil(3,333,333.3...) = 3,333,334
    assert recoup_sales(10, TERMS) == 3_333_334
    # 30 units: 30 x 10,000 x 1,000,000 / 30,000 = 10,000,000 exactly
    assert recoup_sales(30, TERMS) == 10_000_000


def test_a_period_below_the_threshold_distributes_nothing() -> None:
    [period] = distribute(TERMS, REGISTER, [PeriodSales(800_000)]).periods
    # max(0, 800,000 - 1,000,000) = 0
    assert period.distributable_sales == 0
    assert period.distributable_amount == 0
    assert [line.gross for line in period.lines] == [0, 0]


def test_a_period_below_recoup_pays_at_the_first_rate() -> None:
    schedule = distribute(TERMS, REGISTER, [PeriodSales(800_000), PeriodSales(3_000_000)])
    period = schedule.periods[1]
    # X = 3,000,000 - 1,000,000 = 2,000,000, all below R = 3,333,334
    assert (period.below_recoup, period.above_recoup) == (2_000_000, 0)
    # D = floor(2,000,000 x 30,000 / 1,000,000) = 60,000; d = 60,000 / 10 = 6,000
    assert (period.distributable_amount, period.per_unit, period.retained) == (60_000, 6_000, 0)
    a, b = period.lines
    # a: 3 x 6,000 = 18,000, below its basis 3 x 10,500 = 31,500: no tax
    assert (a.gross, a.tax, a.net, a.remaining_to_recoup) == (18_000, 0, 18_000, 13_500)
    # b: 7 x 6,000 = 42,000, below 7 x 10,500 = 73,500
    assert (b.gross, b.tax, b.net, b.remaining_to_recoup) == (42_000, 0, 42_000, 31_500)
    assert period.success_fee == 0


def test_a_period_crossing_recoup_is_split_between_the_rates_and_taxes_the_profit() -> None:
    sales = [PeriodSales(800_000), PeriodSales(3_000_000), PeriodSales(5_000_000)]
    period = distribute(TERMS, REGISTER, sales).periods[2]
    # X = 4,000,000; 2,000,000 distributed before, so below R: 3,333,334 - 2,000,000
    assert (period.below_recoup, period.above_recoup) == (1_333_334, 2_666_666)
    # D = floor((1,333,334 x 30,000 + 2,666,666 x 10,000) / 1,000,000)
    #   = floor(66,666,680,000 / 1,000,000) = 66,666
    assert period.distributable_amount == 66_666
    # d = floor(66,666 / 10) = 6,666; retained 66,666 - 66,660 = 6
    assert (period.per_unit, period.retained) == (6_666, 6)
    a, b = period.lines
    # a: gross 19,998, cumulative 37,998; taxable 37,998 - 31,500 = 6,498;
    #    tax = floor(6,498 x 204,200 / 1,000,000) = floor(1,326.89) = 1,326
    assert (a.gross, a.cumulative_gross, a.tax, a.net) == (19_998, 37_998, 1_326, 18_672)
    # b: gross 46,662, cumulative 88,662; taxable 88,662 - 73,500 = 15,162;
    #    tax = floor(15,162 x 204,200 / 1,000,000) = floor(3,096.08) = 3,096
    assert (b.gross, b.cumulative_gross, b.tax, b.net) == (46_662, 88_662, 3_096, 43_566)
    # success fee = floor(2,666,666 x 20,000 / 1,000,000) = floor(53,333.32) = 53,333
    assert period.success_fee == 53_333
    assert (period.total_gross, period.total_tax, period.total_net) == (66_660, 4_422, 62_238)


def test_a_cumulative_threshold_distributes_only_sales_above_it_never_twice() -> None:
    terms = DistributionTerms(
        unit_price=10_000,
        handling_fee_per_unit=0,
        rate_before_recoup_ppm=100_000,
        rate_after_recoup_ppm=100_000,
        sales_threshold=1_000_000,
        threshold_basis=ThresholdBasis.CUMULATIVE,
    )
    periods = [
        PeriodSales(600_000),  # C = 600,000: below T, X = 0
        PeriodSales(600_000),  # C = 1,200,000: X = 200,000
        PeriodSales(100_000, adjustment=-300_000),  # C = 1,000,000: back to T, X = 0
        PeriodSales(500_000),  # C = 1,500,000: 500,000 above T, 200,000 done: X = 300,000
    ]
    result = distribute(terms, {"a": 10}, periods).periods
    assert [p.cumulative_sales for p in result] == [600_000, 1_200_000, 1_000_000, 1_500_000]
    assert [p.distributable_sales for p in result] == [0, 200_000, 0, 300_000]
    # D = 10 % of X
    assert [p.distributable_amount for p in result] == [0, 20_000, 0, 30_000]


def test_a_per_period_threshold_applies_to_sales_plus_adjustment() -> None:
    result = distribute(TERMS, REGISTER, [PeriodSales(1_500_000, adjustment=-200_000)]).periods
    # 1,500,000 - 200,000 - 1,000,000 = 300,000
    assert result[0].distributable_sales == 300_000


def test_the_fund_matures_in_the_period_cumulative_sales_reach_the_plan() -> None:
    terms = DistributionTerms(
        unit_price=10_000,
        handling_fee_per_unit=0,
        rate_before_recoup_ppm=30_000,
        rate_after_recoup_ppm=10_000,
        plan_sales=5_000_000,
        early_termination_at_plan_sales=True,
    )
    sales = [PeriodSales(3_000_000), PeriodSales(2_500_000), PeriodSales(9_000_000)]
    schedule = distribute(terms, {"a": 100}, sales)
    # C_2 = 5,500,000 >= 5,000,000: period 2 is the last and all its sales count
    assert schedule.matured_at_period == 2
    assert [p.last for p in schedule.periods] == [False, True]
    assert schedule.periods[1].distributable_sales == 2_500_000


def test_a_hybrid_fund_recoups_its_investment_part_only() -> None:
    # JPY 10,500 = 5,000 investment + 5,000 donation + 500 fee (DOMAIN.md, "Subscribing")
    terms = DistributionTerms(
        unit_price=10_000,
        donation_per_unit=5_000,
        handling_fee_per_unit=500,
        rate_before_recoup_ppm=30_000,
        rate_after_recoup_ppm=10_000,
    )
    # R = ceil(1 x 5,000 x 1,000,000 / 30,000) = ceil(166,666.6...) = 166,667
    assert recoup_sales(1, terms) == 166_667
    [period] = distribute(terms, {"a": 1}, [PeriodSales(1_000_000)]).periods
    # below 166,667 at 3 % + 833,333 at 1 % = floor(5,000.01 + 8,333.33) = 13,333
    assert period.distributable_amount == 13_333
    # basis 5,500; taxable 7,833; tax = floor(7,833 x 0.2042) = floor(1,599.49) = 1,599
    assert (period.lines[0].tax, period.lines[0].net) == (1_599, 11_734)


def test_perks_are_recorded_per_holder_without_money() -> None:
    terms = DistributionTerms(
        unit_price=10_000,
        handling_fee_per_unit=0,
        rate_before_recoup_ppm=30_000,
        rate_after_recoup_ppm=10_000,
        perks_per_unit="one bottle of sake",
    )
    [period] = distribute(terms, {"a": 2}, [PeriodSales(0)]).periods
    assert period.lines[0].perk == "2 x one bottle of sake"
    assert period.lines[0].gross == 0


def test_doubtful_inputs_are_refused_with_the_field_at_fault() -> None:
    with pytest.raises(InvalidDistribution) as refused:
        distribute(
            DistributionTerms(
                unit_price=10_000,
                handling_fee_per_unit=0,
                rate_before_recoup_ppm=0,
                rate_after_recoup_ppm=10_000,
            ),
            {"a": 1},
            [],
        )
    assert refused.value.extra["invalid_params"][0]["name"] == "rate_before_recoup_ppm"
    with pytest.raises(InvalidDistribution):
        distribute(TERMS, {}, [])
    with pytest.raises(InvalidDistribution):
        distribute(TERMS, {"a": 0}, [])
    with pytest.raises(InvalidDistribution):
        distribute(TERMS, REGISTER, [PeriodSales(100, adjustment=-101)])


def test_split_and_tax_helpers() -> None:
    assert split_at(100, 0, 30) == (30, 0)
    assert split_at(100, 90, 30) == (10, 20)
    assert split_at(100, 120, 30) == (0, 30)
    # 1,000 of profit at 20.42 %: 204.2 -> 204
    assert tax_on(10_000, 11_000, 10_000, 204_200) == 204
    assert tax_on(0, 9_999, 10_000, 204_200) == 0


# -- invariants ------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**9)
registers = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.integers(min_value=1, max_value=500),
    min_size=1,
    max_size=12,
)
terms_strategy = st.builds(
    DistributionTerms,
    unit_price=st.integers(min_value=1_000, max_value=50_000),
    handling_fee_per_unit=st.integers(min_value=0, max_value=1_000),
    rate_before_recoup_ppm=st.integers(min_value=1, max_value=200_000),
    rate_after_recoup_ppm=st.integers(min_value=0, max_value=200_000),
    sales_threshold=st.integers(min_value=0, max_value=10**7),
    threshold_basis=st.sampled_from(ThresholdBasis),
    success_fee_rate_ppm=st.integers(min_value=0, max_value=100_000),
)


@settings(max_examples=200, deadline=None)
@given(terms_strategy, registers, st.lists(amounts, min_size=1, max_size=6))
def test_gross_and_retained_add_up_to_the_distributable_amount(
    terms: DistributionTerms, register: dict[str, int], sales: list[int]
) -> None:
    schedule = distribute(terms, register, [PeriodSales(s) for s in sales])
    for period in schedule.periods:
        assert sum(line.gross for line in period.lines) + period.retained == (
            period.distributable_amount
        )
        assert 0 <= period.retained < schedule.units
        assert period.total_net == sum(line.net for line in period.lines)


@settings(max_examples=200, deadline=None)
@given(terms_strategy, registers, st.lists(amounts, min_size=1, max_size=6))
def test_no_tax_exceeds_the_rate_on_cumulative_profit(
    terms: DistributionTerms, register: dict[str, int], sales: list[int]
) -> None:
    schedule = distribute(terms, register, [PeriodSales(s) for s in sales])
    last = schedule.periods[-1]
    for line in last.lines:
        profit = max(0, line.cumulative_gross - line.units * terms.paid_in_per_unit)
        assert line.cumulative_tax <= profit * terms.withholding_rate_ppm // PPM
        assert line.cumulative_tax >= 0


@settings(max_examples=200, deadline=None)
@given(
    terms_strategy,
    registers,
    st.lists(amounts, min_size=1, max_size=6),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=1, max_value=10**8),
)
def test_cumulative_distributions_are_monotone_in_sales(
    terms: DistributionTerms, register: dict[str, int], sales: list[int], at: int, more: int
) -> None:
    def total(values: list[int]) -> int:
        return sum(
            p.distributable_amount
            for p in distribute(terms, register, [PeriodSales(s) for s in values]).periods
        )

    higher = list(sales)
    higher[at % len(sales)] += more
    assert total(higher) >= total(sales)


@settings(max_examples=100, deadline=None)
@given(terms_strategy, registers, st.lists(amounts, min_size=1, max_size=4), st.randoms())
def test_results_do_not_depend_on_the_order_of_the_register(
    terms: DistributionTerms,
    register: dict[str, int],
    sales: list[int],
    shuffle: random.Random,
) -> None:
    items = list(register.items())
    shuffle.shuffle(items)
    periods = [PeriodSales(s) for s in sales]
    assert distribute(terms, dict(items), periods) == distribute(terms, register, periods)


def test_periods_are_declared_in_order_and_a_gap_waits() -> None:
    assert next_to_declare(0, [2]) == []
    assert next_to_declare(0, [2, 1, 3]) == [1, 2, 3]
    assert next_to_declare(1, [1, 2, 4]) == [2]
    assert next_to_declare(3, [1, 2, 3]) == []


def test_lines_travel_in_batches_of_at_most_the_size() -> None:
    assert [batches(n, 1_000) for n in (0, 1, 999, 1_000, 1_001, 70_000)] == [1, 1, 1, 1, 2, 70]


def test_a_v2_funds_threshold_applies_per_period() -> None:
    published = sample_fund_opened().model_dump(mode="json")
    del published["revenue_share"]["threshold_basis"]
    terms = terms_from(published)
    assert terms.threshold_basis is ThresholdBasis.PER_PERIOD
    assert terms.sales_threshold == 0
    assert (terms.unit_price, terms.success_fee_rate_ppm) == (10_000, 20_000)
    cumulative = sample_fund_opened().model_dump(mode="json")
    cumulative["revenue_share"]["threshold_basis"] = "cumulative"
    assert terms_from(cumulative).threshold_basis is ThresholdBasis.CUMULATIVE


def test_fractions_of_a_yen_are_carried_to_the_next_period() -> None:
    terms = DistributionTerms(
        unit_price=10_000,
        handling_fee_per_unit=0,
        rate_before_recoup_ppm=500_000,
        rate_after_recoup_ppm=500_000,
    )
    # 1 yen of sales at 50 % is half a yen: nothing in period 1, carried; period 2's half
    # makes a whole yen. Dropping fractions each period would pay nothing at all.
    schedule = distribute(terms, {"a": 1}, [PeriodSales(1), PeriodSales(1)])
    assert [p.distributable_amount for p in schedule.periods] == [0, 1]
    # Sales moved from period 2 to period 1 never pay less in all.
    later = distribute(terms, {"a": 1}, [PeriodSales(0), PeriodSales(3)]).periods
    earlier = distribute(terms, {"a": 1}, [PeriodSales(1), PeriodSales(3)]).periods
    assert sum(p.distributable_amount for p in earlier) >= sum(
        p.distributable_amount for p in later
    )
