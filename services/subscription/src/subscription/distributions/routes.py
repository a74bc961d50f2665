"""Distributions: the public simulation."""

from __future__ import annotations

from fastapi import APIRouter

from kumiai.errors import UnprocessableContent, problems
from subscription.distributions import service
from subscription.distributions.rules import InvalidDistribution
from subscription.distributions.schemas import SimulationIn, SimulationOut

router = APIRouter(tags=["distributions"])


@router.post(
    "/simulations/distributions",
    response_model=SimulationOut,
    operation_id="simulate_distributions",
    responses=problems(InvalidDistribution, UnprocessableContent),
)
def simulate_distributions(body: SimulationIn) -> SimulationOut:
    """What investors would receive: per period the split at the threshold and at recoup,
    the distributable amount, the amount per unit, what stays with the business, the
    success fee, and per holder gross, tax withheld, net and cumulative gross. No login:
    businesses, municipalities and investors use it before a fund exists. (Computed in a
    worker thread: a large register does not hold up other requests.)"""
    return service.simulate(body)
