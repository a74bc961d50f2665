"""Distributions: from approved sales to each investor's gross, tax and net (pure).

One function, ``distribute``, computes every period of a fund from its frozen terms,
its frozen holdings register and the approved sales of each period in order. Every
amount is an integer of yen; every division says how it rounds. Rates are parts per
million, as in the terms. Per period k (DOMAIN.md, "How distributions are computed"):

1. Investment part per unit P = unit price - donation part (hybrid funds).
2. Distributable sales X_k: per-period threshold T: max(0, S_k - T), S_k the period's
   sales plus its signed adjustment; cumulative threshold: the part of cumulative sales
   above T not distributed before (a high-water mark, so a correction downwards is
   never distributed twice when sales recover).
3. Recoup level R = ceil(N x P x 1,000,000 / A) of cumulative distributable sales
   (N = units in the register, A = rate before recoup, which must be > 0); X_k is split
   at R: below it at rate A, above it at rate B.
4. Distributable amount D = floor((below x A + above x B) / 1,000,000), the fractions
   of a yen carried to the next period rather than dropped: D_k is the increase of
   floor(sum over periods 1..k of (below x A + above x B) / 1,000,000). A single period
   is exactly the formula; over several, no yen is lost to rounding and cumulative
   distributions never fall when sales rise (property-tested).
5. Per unit d = floor(D / N); an investor's gross = d x units; the remainder D - d x N
   stays with the business (retained).
6. Withholding on the profit part only: basis = units x (P + handling fee per unit);
   taxable = max(0, cumulative gross after - basis) - max(0, before - basis);
   tax = floor(taxable x rate / 1,000,000) (20.42 %: 204,200 ppm); net = gross - tax.
7. Success fee charged to the business = floor(above x success rate / 1,000,000).
8. Early termination: when the terms say so and cumulative sales reach plan sales,
   period k is the last (all its sales count) and the fund matures.
9. Perks in kind: units x the perk per unit, recorded per investor; no money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from kumiai.contracts.onboarding import ThresholdBasis
from kumiai.problems import UnprocessableContent

__all__ = ["ThresholdBasis", "distribute"]

PPM = 1_000_000
WITHHOLDING_PPM = 204_200
"""20.42 %: income tax 20 % and the reconstruction surtax 0.42 % (DOMAIN.md, rule 5)."""


class InvalidDistribution(UnprocessableContent):
    problem = "invalid-distribution"
    title = "The distribution cannot be computed from these inputs"


@dataclass(frozen=True)
class DistributionTerms:
    """What the calculation reads of a fund's frozen terms."""

    unit_price: int
    handling_fee_per_unit: int
    rate_before_recoup_ppm: int
    rate_after_recoup_ppm: int
    donation_per_unit: int = 0
    sales_threshold: int = 0
    threshold_basis: ThresholdBasis = ThresholdBasis.PER_PERIOD
    plan_sales: int | None = None
    early_termination_at_plan_sales: bool = False
    success_fee_rate_ppm: int = 0
    withholding_rate_ppm: int = WITHHOLDING_PPM
    perks_per_unit: str | None = None

    @property
    def investment_per_unit(self) -> int:
        """P: the unit price less its donation part."""
        return self.unit_price - self.donation_per_unit

    @property
    def paid_in_per_unit(self) -> int:
        """What an investor paid per unit that counts towards recoup: P plus the fee."""
        return self.investment_per_unit + self.handling_fee_per_unit


@dataclass(frozen=True)
class PeriodSales:
    """A period's approved sales (excluding consumption tax) and its signed adjustment."""

    sales: int
    adjustment: int = 0


class HolderLine(NamedTuple):
    """One investor's distribution of one period (a tuple: a large fund has many)."""

    holder: str
    units: int
    gross: int
    tax: int
    net: int
    cumulative_gross: int
    cumulative_tax: int
    remaining_to_recoup: int
    perk: str | None


@dataclass(frozen=True)
class PeriodResult:
    """Everything one period's distribution is made of, line by line."""

    number: int
    sales: int
    adjustment: int
    cumulative_sales: int
    distributable_sales: int
    below_recoup: int
    above_recoup: int
    distributable_amount: int
    per_unit: int
    retained: int
    success_fee: int
    total_gross: int
    total_tax: int
    total_net: int
    last: bool
    lines: tuple[HolderLine, ...]


@dataclass(frozen=True)
class Schedule:
    """The distributions of a fund's periods so far."""

    units: int
    recoup_sales: int
    periods: tuple[PeriodResult, ...]
    matured_at_period: int | None


def check_terms(terms: DistributionTerms) -> None:
    """Refuse terms the calculation cannot follow (each a problem the caller can fix)."""
    problems: list[dict[str, str]] = []

    def refuse(name: str, reason: str) -> None:
        problems.append({"name": name, "reason": reason})

    if terms.unit_price <= 0:
        refuse("unit_price", "must be positive")
    if not 0 <= terms.donation_per_unit < max(terms.unit_price, 1):
        refuse("donation_per_unit", "must leave an investment part")
    if terms.handling_fee_per_unit < 0:
        refuse("handling_fee_per_unit", "must not be negative")
    if not 0 < terms.rate_before_recoup_ppm <= PPM:
        refuse("rate_before_recoup_ppm", "must be above 0 and at most 1,000,000")
    for name in ("rate_after_recoup_ppm", "success_fee_rate_ppm", "withholding_rate_ppm"):
        if not 0 <= getattr(terms, name) <= PPM:
            refuse(name, "must be between 0 and 1,000,000")
    if terms.sales_threshold < 0:
        refuse("sales_threshold", "must not be negative")
    if terms.early_termination_at_plan_sales and not terms.plan_sales:
        refuse("plan_sales", "early termination needs plan sales")
    if problems:
        raise InvalidDistribution("; ".join(p["name"] for p in problems), invalid_params=problems)


def recoup_sales(units: int, terms: DistributionTerms) -> int:
    """R: the cumulative distributable sales at which investors have their investment back
    at the rate before recoup (rounded up: recoup is reached, never fallen short of)."""
    return -(-units * terms.investment_per_unit * PPM // terms.rate_before_recoup_ppm)


def split_at(level: int, before: int, amount: int) -> tuple[int, int]:
    """``amount`` added to ``before`` split into the part below ``level`` and the rest."""
    below = max(0, min(before + amount, level) - before)
    return below, amount - below


def tax_on(gross_before: int, gross_after: int, basis: int, rate_ppm: int) -> int:
    """Withholding on the part of cumulative gross above ``basis`` first reached now
    (fractions of a yen dropped)."""
    taxable = max(0, gross_after - basis) - max(0, gross_before - basis)
    return taxable * rate_ppm // PPM


def distribute(
    terms: DistributionTerms,
    register: Mapping[str, int],
    periods: Sequence[PeriodSales],
    *,
    lines_of: Collection[int] | None = None,
) -> Schedule:
    """Every period's distribution, from the first; stops at the period the fund matures.

    ``lines_of`` names the periods whose lines are wanted (all when ``None``): a
    declaration needs only its own period's. Holders with the same units get the same
    line, so each line is computed once per distinct number of units.
    """
    check_terms(terms)
    holders = sorted(register.items())
    if not holders or any(units <= 0 for _, units in holders):
        raise InvalidDistribution(
            "the register needs at least one holder, each with units",
            invalid_params=[{"name": "register", "reason": "units must be positive"}],
        )
    units = sum(u for _, u in holders)
    level = recoup_sales(units, terms)
    figures = _periods(terms, units, level, periods)
    held_by = Counter(u for _, u in holders)
    shares = _shares(terms, held_by, [f.per_unit for f in figures])
    results = []
    for index, figure in enumerate(figures):
        wanted = lines_of is None or figure.number in lines_of
        lines = (
            tuple(
                HolderLine(holder, held, *shares[held][index], perk=_perk(terms, held))
                for holder, held in holders
            )
            if wanted
            else ()
        )
        total_gross = figure.per_unit * units
        total_tax = sum(count * shares[held][index][1] for held, count in held_by.items())
        results.append(
            PeriodResult(
                number=figure.number,
                sales=figure.sales,
                adjustment=figure.adjustment,
                cumulative_sales=figure.cumulative_sales,
                distributable_sales=figure.distributable_sales,
                below_recoup=figure.below,
                above_recoup=figure.above,
                distributable_amount=figure.amount,
                per_unit=figure.per_unit,
                retained=figure.amount - total_gross,
                success_fee=figure.above * terms.success_fee_rate_ppm // PPM,
                total_gross=total_gross,
                total_tax=total_tax,
                total_net=total_gross - total_tax,
                last=figure.last,
                lines=lines,
            )
        )
    matured = figures[-1].number if figures and figures[-1].last else None
    return Schedule(
        units=units, recoup_sales=level, periods=tuple(results), matured_at_period=matured
    )


@dataclass(frozen=True)
class _Figures:
    """A period's fund-wide figures (steps 2 to 5 and 8)."""

    number: int
    sales: int
    adjustment: int
    cumulative_sales: int
    distributable_sales: int
    below: int
    above: int
    amount: int
    per_unit: int
    last: bool


def _periods(
    terms: DistributionTerms, units: int, level: int, periods: Sequence[PeriodSales]
) -> list[_Figures]:
    figures: list[_Figures] = []
    cumulative, peak, distributed, weighted = 0, 0, 0, 0
    for number, period in enumerate(periods, start=1):
        if period.sales < 0:
            raise InvalidDistribution(
                f"period {number}: sales are never negative (correct them by an adjustment)"
            )
        effective = period.sales + period.adjustment
        cumulative += effective
        if cumulative < 0:
            raise InvalidDistribution(f"period {number}: cumulative sales fall below zero")
        if terms.threshold_basis is ThresholdBasis.PER_PERIOD:
            above_threshold = max(0, effective - terms.sales_threshold)
        else:
            reached = max(0, cumulative - terms.sales_threshold)
            above_threshold = max(0, reached - peak)
            peak = max(peak, reached)
        below, above = split_at(level, distributed, above_threshold)
        distributed += above_threshold
        # Fractions of a yen are carried to the next period, not dropped: the fund's
        # cumulative D is floor(cumulative weighted sales / 1,000,000), so moving sales
        # between periods never lowers what investors get in all.
        before = weighted
        weighted += below * terms.rate_before_recoup_ppm + above * terms.rate_after_recoup_ppm
        amount = weighted // PPM - before // PPM
        last = bool(
            terms.early_termination_at_plan_sales
            and terms.plan_sales
            and cumulative >= terms.plan_sales
        )
        figures.append(
            _Figures(
                number=number,
                sales=period.sales,
                adjustment=period.adjustment,
                cumulative_sales=cumulative,
                distributable_sales=above_threshold,
                below=below,
                above=above,
                amount=amount,
                per_unit=amount // units,
                last=last,
            )
        )
        if last:
            break
    return figures


Share = tuple[int, int, int, int, int, int]
"""gross, tax, net, cumulative gross, cumulative tax, remaining to recoup."""


def _shares(
    terms: DistributionTerms, holdings: Collection[int], per_unit: Sequence[int]
) -> dict[int, list[Share]]:
    """Each period's share of a holder of ``units``, for every number of units held
    (step 6: the tax depends on nothing but the units and the amounts per unit)."""
    shares: dict[int, list[Share]] = {}
    for units in holdings:
        basis = units * terms.paid_in_per_unit
        cumulative, withheld = 0, 0
        rows: list[Share] = []
        for amount in per_unit:
            gross = amount * units
            tax = tax_on(cumulative, cumulative + gross, basis, terms.withholding_rate_ppm)
            cumulative += gross
            withheld += tax
            rows.append((gross, tax, gross - tax, cumulative, withheld, max(0, basis - cumulative)))
        shares[units] = rows
    return shares


def _perk(terms: DistributionTerms, units: int) -> str | None:
    """Step 9: the perk in kind, units times the perk per unit."""
    return f"{units} x {terms.perks_per_unit}" if terms.perks_per_unit else None


def terms_from(published: Mapping[str, Any]) -> DistributionTerms:
    """What the calculation reads of a fund's published terms (``FundOpened`` v2 and later;
    a v2 fund's threshold applies per period)."""
    share = published["revenue_share"]
    return DistributionTerms(
        unit_price=published["unit_price"],
        handling_fee_per_unit=published["handling_fee_per_unit"],
        donation_per_unit=published.get("donation_per_unit", 0),
        rate_before_recoup_ppm=share["rate_before_recoup_ppm"],
        rate_after_recoup_ppm=share["rate_after_recoup_ppm"],
        sales_threshold=share.get("sales_threshold") or 0,
        threshold_basis=ThresholdBasis(share.get("threshold_basis", ThresholdBasis.PER_PERIOD)),
        plan_sales=share.get("plan_sales"),
        early_termination_at_plan_sales=share.get("early_termination_at_plan_sales", False),
        success_fee_rate_ppm=published["fees"]["success_fee_rate_ppm"],
        perks_per_unit=published.get("perks_per_unit"),
    )


def next_to_declare(last_declared: int, reported: Sequence[int]) -> list[int]:
    """The periods to declare now, in order: each one after the last declared whose sales
    are in, up to the first still missing (a later period waits for the earlier ones)."""
    ready = set(reported)
    periods = []
    number = last_declared + 1
    while number in ready:
        periods.append(number)
        number += 1
    return periods


def batches(count: int, size: int) -> int:
    """How many batches of at most ``size`` lines carry ``count`` lines (at least one)."""
    return max(1, -(-count // size))
