"""Distribution notices: what their figures must satisfy, and what they are called (pure)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from disclosure.db.models import metadata
from disclosure.distributions.rules import NoticeFacts, notice_title

# A fund of 400 units distributes D = 1,200,150 yen: floor(1,200,150 / 400) = 3,000 per unit,
# 400 x 3,000 = 1,200,000 gross (150 stays with the business). 300,000 of it is profit,
# withheld at 20.42 %: 300,000 x 0.2042 = 61,260; net 1,200,000 - 61,260 = 1,138,740.
FACTS = NoticeFacts(
    fund_name="十勝ワイナリー応援ファンド",
    period_number=3,
    period_start=date(2026, 4, 1),
    period_end=date(2027, 3, 31),
    distributable_amount=1_200_150,
    per_unit=3_000,
    total_gross=1_200_000,
    total_tax=61_260,
    total_net=1_138_740,
    investor_count=40,
    paid_on=date(2027, 6, 12),
)


def test_a_notice_whose_net_is_not_gross_less_tax_is_refused() -> None:
    with pytest.raises(ValueError, match="net must be the gross less the tax"):
        replace(FACTS, total_net=1_138_741)
    with pytest.raises(ValueError, match="net must be the gross less the tax"):
        replace(FACTS, total_tax=0)


@given(gross=st.integers(0, 10**12), tax=st.integers(0, 10**12), off_by=st.integers(-2, 2))
def test_the_figures_are_accepted_exactly_when_net_is_gross_less_tax(
    gross: int, tax: int, off_by: int
) -> None:
    net = gross - tax + off_by
    try:
        replace(FACTS, total_gross=gross, total_tax=tax, total_net=net)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert accepted == (off_by == 0 and tax <= gross)


def test_negative_amounts_and_a_period_zero_are_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        replace(FACTS, per_unit=-1)
    with pytest.raises(ValueError, match="not negative"):
        replace(FACTS, investor_count=-1)
    with pytest.raises(ValueError, match="numbered from 1"):
        replace(FACTS, period_number=0)


def test_a_period_with_nothing_to_share_distributed_nothing() -> None:
    assert FACTS.distributed
    nothing = replace(
        FACTS, distributable_amount=0, per_unit=0, total_gross=0, total_tax=0, total_net=0
    )
    assert not nothing.distributed


def test_the_notice_is_titled_by_its_period_in_both_languages() -> None:
    assert notice_title(3) == "分配のお知らせ 第3期 / Distribution notice, period 3"


def test_the_database_holds_net_is_gross_less_tax_and_one_notice_a_period() -> None:
    paid = metadata.tables["paid_distributions"]
    [check] = [c for c in paid.constraints if isinstance(c, CheckConstraint)]
    assert str(check.name).endswith("net_is_gross_less_tax")
    assert re.sub(r"\s+", " ", str(check.sqltext)) == "total_net = total_gross - total_tax"
    notices = metadata.tables["distribution_notices"]
    assert [c.name for c in notices.primary_key.columns] == ["fund_id", "period_number"]
