"""Leverage: how much money the funds a programme subsidised raised for each yen of
subsidy actually paid (pure).

A programme's figures come summed from the store (``LeverageFacts``): its live awards
(granted or paid) whose fund formed, the money those funds raised, the subsidy granted
and the subsidy paid. The ratio is raised / paid rounded down to one decimal, so the
report never overstates what public money leveraged; it is null while nothing was paid.
K City's FY2015 programme: JPY 11,900,000 raised for JPY 1,600,000 paid reads 7.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from kumiai.money import CurrencyMismatchError

LEVERAGE_CURRENCY = "JPY"
"""Subsidies are paid in yen by Japanese local governments: every figure is in yen."""


def leverage_ratio(raised: int, subsidy_paid: int) -> Decimal | None:
    """Money raised per yen of subsidy paid, rounded down to one decimal (11,900,000 /
    1,600,000 = 7.4375 -> 7.4); None while no subsidy was paid."""
    if raised < 0 or subsidy_paid < 0:
        raise ValueError("money raised and subsidy paid are never negative")
    if subsidy_paid == 0:
        return None
    # Floor division in whole tenths, then written with exactly one decimal place (74 ->
    # 7.4, 70 -> 7.0); constructing a Decimal from text is exact, whatever its size.
    tenths = raised * 10 // subsidy_paid
    return Decimal(f"{tenths}E-1")


@dataclass(frozen=True)
class LeverageFacts:
    """One programme's figures as the store sums them: funds subsidised that formed, the
    money they raised, the subsidy granted (granted or paid awards) and the subsidy paid."""

    programme_id: UUID
    municipality_code: str
    name: str
    fiscal_year: int
    currency: str
    funds: int
    raised: int
    subsidy_granted: int
    subsidy_paid: int


@dataclass(frozen=True)
class LeverageLine:
    """One programme's row of the leverage report: its figures and their ratio."""

    programme_id: UUID
    municipality_code: str
    name: str
    fiscal_year: int
    currency: str
    funds: int
    raised: int
    subsidy_granted: int
    subsidy_paid: int
    ratio: Decimal | None

    @classmethod
    def of(cls, facts: LeverageFacts) -> LeverageLine:
        """A programme's row: its figures as summed, and their ratio rounded down."""
        return cls(
            programme_id=facts.programme_id,
            municipality_code=facts.municipality_code,
            name=facts.name,
            fiscal_year=facts.fiscal_year,
            currency=facts.currency,
            funds=facts.funds,
            raised=facts.raised,
            subsidy_granted=facts.subsidy_granted,
            subsidy_paid=facts.subsidy_paid,
            ratio=leverage_ratio(facts.raised, facts.subsidy_paid),
        )


@dataclass(frozen=True)
class LeverageTotal:
    """The total row: every programme's figures added up, and the ratio of the sums (not
    an average of the programmes' ratios, which would weigh a small programme like a
    large one)."""

    programmes: int
    funds: int
    raised: int
    subsidy_granted: int
    subsidy_paid: int
    ratio: Decimal | None


@dataclass(frozen=True)
class LeverageTable:
    """The leverage report of a fiscal year: one line per programme, then the total."""

    fiscal_year: int
    currency: str
    lines: tuple[LeverageLine, ...]
    total: LeverageTotal


def _check_facts(facts: LeverageFacts, fiscal_year: int) -> None:
    if facts.currency != LEVERAGE_CURRENCY:
        raise CurrencyMismatchError(
            f"programme {facts.programme_id} reports {facts.currency}, "
            f"the report {LEVERAGE_CURRENCY}"
        )
    if facts.fiscal_year != fiscal_year:
        raise ValueError(
            f"programme {facts.programme_id} is of fiscal year {facts.fiscal_year}, "
            f"the report of {fiscal_year}"
        )
    if min(facts.funds, facts.raised, facts.subsidy_granted, facts.subsidy_paid) < 0:
        raise ValueError(f"programme {facts.programme_id} has a negative figure")


def leverage_table(facts: Sequence[LeverageFacts], *, fiscal_year: int) -> LeverageTable:
    """The fiscal year's leverage report: a line per programme (by local government code,
    then name, then id) and a total whose ratio is computed on the summed figures."""
    seen: set[UUID] = set()
    for item in facts:
        _check_facts(item, fiscal_year)
        if item.programme_id in seen:
            raise ValueError(f"programme {item.programme_id} is reported twice")
        seen.add(item.programme_id)
    lines = tuple(
        LeverageLine.of(item)
        for item in sorted(facts, key=lambda f: (f.municipality_code, f.name, f.programme_id))
    )
    raised = sum(line.raised for line in lines)
    paid = sum(line.subsidy_paid for line in lines)
    total = LeverageTotal(
        programmes=len(lines),
        funds=sum(line.funds for line in lines),
        raised=raised,
        subsidy_granted=sum(line.subsidy_granted for line in lines),
        subsidy_paid=paid,
        ratio=leverage_ratio(raised, paid),
    )
    return LeverageTable(
        fiscal_year=fiscal_year, currency=LEVERAGE_CURRENCY, lines=lines, total=total
    )
