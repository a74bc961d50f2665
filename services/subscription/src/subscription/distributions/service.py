"""Distributions: the simulation anyone may run before a fund exists."""

from __future__ import annotations

from subscription.distributions import rules
from subscription.distributions.rules import DistributionTerms, PeriodSales
from subscription.distributions.schemas import HolderOut, PeriodOut, SimulationIn, SimulationOut

ONE_HOLDER = "holder"


def simulate(body: SimulationIn) -> SimulationOut:
    """The distributions the terms give for these sales, period by period and per holder."""
    terms = DistributionTerms(**body.terms.model_dump())
    register = (
        {h.holder: h.units for h in body.holders}
        if body.holders is not None
        else {ONE_HOLDER: body.units or 0}
    )
    schedule = rules.distribute(
        terms, register, [PeriodSales(p.sales, p.adjustment) for p in body.periods]
    )
    return SimulationOut(
        units=schedule.units,
        recoup_sales=schedule.recoup_sales,
        matured_at_period=schedule.matured_at_period,
        periods=[
            PeriodOut(
                number=p.number,
                sales=p.sales,
                adjustment=p.adjustment,
                cumulative_sales=p.cumulative_sales,
                distributable_sales=p.distributable_sales,
                below_recoup=p.below_recoup,
                above_recoup=p.above_recoup,
                distributable_amount=p.distributable_amount,
                per_unit=p.per_unit,
                retained=p.retained,
                success_fee=p.success_fee,
                total_gross=p.total_gross,
                total_tax=p.total_tax,
                total_net=p.total_net,
                last=p.last,
                holders=[HolderOut(**vars(line)) for line in p.lines],
            )
            for p in schedule.periods
        ],
    )
