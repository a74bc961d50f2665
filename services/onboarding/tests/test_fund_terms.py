"""Fund terms rules (pure)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onboarding.domain.funds import FundTerms, InvalidFundTerms, TermLimits, validate_terms

START = datetime(2026, 12, 1, tzinfo=UTC)
TERMS = FundTerms(
    msme_id=uuid.uuid4(),
    name="Farm",
    currency="JPY",
    unit_price=10_000,
    handling_fee_per_unit=500,
    units_offered=1_000,
    formation_threshold_units=300,
    max_units_per_investor=50,
    offering_start=START,
    offering_end=START + timedelta(days=30),
)


def test_good_terms_pass_and_derive_the_target() -> None:
    validate_terms(TERMS, TermLimits())
    assert TERMS.target_amount == 10_000_000


@given(price=st.integers(min_value=-1_000_000, max_value=1_000_000))
def test_unit_price_must_be_within_bounds(price: int) -> None:
    terms = replace(TERMS, unit_price=price)
    if 10_000 <= price <= 50_000:
        validate_terms(terms, TermLimits())
    else:
        with pytest.raises(InvalidFundTerms) as caught:
            validate_terms(terms, TermLimits())
        assert set(caught.value.problems) == {"unit_price"}


def test_every_fault_is_named_at_once() -> None:
    bad = replace(
        TERMS,
        formation_threshold_units=2_000,
        max_units_per_investor=0,
        offering_end=START - timedelta(days=1),
        handling_fee_per_unit=-1,
    )
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(bad, TermLimits())
    assert set(caught.value.problems) == {
        "formation_threshold_units",
        "max_units_per_investor",
        "offering_end",
        "handling_fee_per_unit",
    }


def test_naive_offering_window_is_refused() -> None:
    naive = replace(TERMS, offering_start=datetime(2026, 12, 1))  # noqa: DTZ001
    with pytest.raises(InvalidFundTerms) as caught:
        validate_terms(naive, TermLimits())
    assert "offering_start" in caught.value.problems
