"""The fees a business owes the operator over its fund's term (pure; DOMAIN.md, "Fees").

Two fees fall due per fiscal year of the fund (``kumiai.fund_calendar.fiscal_years``:
the first from the day the fund formed, the last ending with its term), in arrears:
a fiscal year's fees are charged with the declaration of the settlement period that
ends with it (every fiscal year ends with a settlement period), or with the fund's
last declaration when it matures early.

- Operation fee: a rate per year on the amount raised (units in the register x unit
  price), pro rata to the days of the fiscal year the fund lived:
  ``floor(raised x rate x days lived / (1,000,000 x days in that fiscal year))``
  (365 or 366), fractions of a yen dropped.
- Audit fee: a fixed amount for the first fiscal year, another for each later one,
  whole whatever the length of the year.

Fees of zero are not charged. Each fee is charged once: the declarations keep what
they charged, and what was charged is never charged again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kumiai.contracts.subscription import FeeDue, FeeKind
from kumiai.fund_calendar import Span, fiscal_years, month_end

PPM = 1_000_000


@dataclass(frozen=True)
class FeeTerms:
    """What the fee rules read of a fund's frozen terms."""

    operation_fee_rate_ppm: int
    audit_fee_first_year: int
    audit_fee_later_years: int
    term_months: int
    fiscal_year_end_month: int


def fee_terms_from(published: Mapping[str, Any]) -> FeeTerms:
    """The fee terms of a fund's published terms (``FundOpened`` v2 and later)."""
    fees = published["fees"]
    return FeeTerms(
        operation_fee_rate_ppm=fees["operation_fee_rate_ppm"],
        audit_fee_first_year=fees["audit_fee_first_year"],
        audit_fee_later_years=fees["audit_fee_later_years"],
        term_months=published["term_months"],
        fiscal_year_end_month=published["settlement"]["fiscal_year_end_month"],
    )


def days_in_fiscal_year(terms: FeeTerms, year: Span) -> int:
    """The days of the whole fiscal year ``year`` belongs to (365 or 366), whatever part
    of it the fund lived."""
    end = month_end(year.number, terms.fiscal_year_end_month)
    return (end - month_end(year.number - 1, terms.fiscal_year_end_month)).days


def operation_fee(
    terms: FeeTerms, *, raised: int, lived_from: date, lived_to: date, year: Span
) -> int:
    """The operation fee of the days ``lived_from`` to ``lived_to`` (both included) of
    fiscal year ``year``."""
    days = (lived_to - lived_from).days + 1
    return raised * terms.operation_fee_rate_ppm * days // (PPM * days_in_fiscal_year(terms, year))


def fees_due(
    terms: FeeTerms,
    *,
    formed_on: date,
    raised: int,
    period_end: date,
    last: bool,
    charged: Collection[tuple[FeeKind, int]],
) -> list[FeeDue]:
    """The fees to charge with the declaration of a period ending ``period_end``: those of
    every fiscal year that ended by then (and, when ``last``, of the one it ends early),
    not ``charged`` before, in fiscal-year order, operation before audit."""
    due: list[FeeDue] = []
    years = fiscal_years(
        formed_on=formed_on,
        term_months=terms.term_months,
        fiscal_year_end_month=terms.fiscal_year_end_month,
    )
    for index, year in enumerate(years):
        if year.ends_on > period_end and not (last and year.starts_on <= period_end):
            continue
        lived_to = min(year.ends_on, period_end)
        amounts = {
            FeeKind.OPERATION: operation_fee(
                terms, raised=raised, lived_from=year.starts_on, lived_to=lived_to, year=year
            ),
            FeeKind.AUDIT: terms.audit_fee_first_year
            if index == 0
            else terms.audit_fee_later_years,
        }
        for kind, amount in amounts.items():
            if amount > 0 and (kind, year.number) not in charged:
                due.append(
                    FeeDue(
                        kind=kind,
                        fiscal_year=year.number,
                        fiscal_year_start=year.starts_on,
                        fiscal_year_end=lived_to,
                        amount=amount,
                    )
                )
    return due
