"""Distributions: the public simulation."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, UnprocessableContent, problems
from kumiai.service import UnitOfWorkDep
from subscription.distributions import service
from subscription.distributions.rules import InvalidDistribution
from subscription.distributions.schemas import SimulationIn, SimulationOut, StatementLine
from subscription.investors.rules import InvestorNotFound

InvestorOrStaff = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF))]

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


@router.get(
    "/investors/{investor_id}/distributions",
    response_model=list[StatementLine],
    operation_id="list_investor_distributions",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound),
)
async def list_investor_distributions(
    investor_id: UUID, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> list[StatementLine]:
    """My page: the investor's distribution statement, newest period first: units, amount
    per unit, gross, tax withheld, net, cumulative gross and what is left to recoup."""
    async with uow:
        return await service.statement(uow, investor_id=investor_id, principal=principal)
