"""Money math: exact integers, explicit rounding, totals that reconcile to the yen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kumiai.money import CurrencyMismatchError, Money, Rate, allocate

weights = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=50).filter(
    lambda ws: sum(ws) > 0
)


@given(amount=st.integers(min_value=-(10**12), max_value=10**12), ws=weights)
def test_allocation_always_adds_up_to_the_amount(amount: int, ws: list[int]) -> None:
    parts = allocate(amount, ws)
    assert sum(parts) == amount
    assert len(parts) == len(ws)


@given(amount=st.integers(min_value=0, max_value=10**12), ws=weights)
def test_each_part_is_within_one_yen_of_its_exact_share(amount: int, ws: list[int]) -> None:
    total = sum(ws)
    for part, w in zip(allocate(amount, ws), ws, strict=True):
        exact_floor = amount * w // total
        assert exact_floor <= part <= exact_floor + 1
        if w == 0:
            assert part == 0


def test_leftover_yen_go_to_the_largest_remainders_first() -> None:
    # 100 / 3 = 33.33 each: one yen left, to the first of the equal remainders.
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    # 10 split 1:2 -> 3.33 / 6.67: the larger remainder gets the yen.
    assert allocate(10, [1, 2]) == [3, 7]


def test_allocation_refuses_meaningless_weights() -> None:
    with pytest.raises(ValueError, match="empty"):
        allocate(10, [])
    with pytest.raises(ValueError, match="negative"):
        allocate(10, [1, -1])
    with pytest.raises(ValueError, match="zero"):
        allocate(10, [0, 0])


def test_money_refuses_floats_and_booleans() -> None:
    with pytest.raises(ValidationError, match="integer"):
        Money(amount=10.5, currency="JPY")
    with pytest.raises(ValidationError, match="integer"):
        Money(amount=True, currency="JPY")
    with pytest.raises(ValidationError, match="unsupported currency"):
        Money(amount=1, currency="XXX")


def test_money_arithmetic_keeps_currency() -> None:
    price = Money(amount=10_000, currency="JPY")
    fee = Money(amount=500, currency="JPY")
    assert (price + fee).times(3) == Money(amount=31_500, currency="JPY")
    assert price - fee == Money(amount=9_500, currency="JPY")
    assert -fee == Money(amount=-500, currency="JPY")
    assert fee < price
    with pytest.raises(CurrencyMismatchError):
        _ = price + Money(amount=1, currency="USD")
    with pytest.raises(TypeError):
        price.times(1.5)  # type: ignore[arg-type]


def test_money_allocation_keeps_the_total() -> None:
    parts = Money(amount=1_000_001, currency="JPY").allocate([3, 3, 4])
    assert sum(p.amount for p in parts) == 1_000_001
    assert {p.currency for p in parts} == {"JPY"}


def test_withholding_rate_drops_fractions_of_a_yen() -> None:
    withholding = Rate(parts_per_million=204_200)  # 20.42 %
    assert withholding.apply_floor(10_000) == 2_042
    assert withholding.apply_floor(999) == 203  # 203.9958 -> 203
    with pytest.raises(ValueError, match="non-negative"):
        withholding.apply_floor(-1)


@given(amount=st.integers(min_value=0, max_value=10**12))
def test_floored_rate_never_exceeds_the_exact_product(amount: int) -> None:
    taxed = Rate(parts_per_million=204_200).apply_floor(amount)
    assert taxed * 1_000_000 <= amount * 204_200 < (taxed + 1) * 1_000_000
