"""Subscription endpoints and the investor's "My page"."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kumiai.auth import require_roles
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.idempotency import IdempotencyKeyReused, RequiredIdempotencyKey, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.principal import Principal, Role
from kumiai.service import UnitOfWorkDep, runtime_of
from subscription.investors.rules import InvestorNotFound
from subscription.offerings.rules import OfferingNotFound
from subscription.settings import SettingsDep
from subscription.subscriptions import rules, service
from subscription.subscriptions.placing import OrderWriter
from subscription.subscriptions.rules import (
    CancelNotAllowed,
    NotEligible,
    OfferingNotOpen,
    OverLimit,
    SoldOut,
    SubscriptionNotFound,
    SubscriptionStatus,
)
from subscription.subscriptions.schemas import HoldingOut, SubscriptionIn, SubscriptionOut

Investor = Annotated[Principal, Depends(require_roles(Role.INVESTOR))]
# Whose subscriptions and page a caller may read is decided by subscriptions.rules.
InvestorOrStaff = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF))]

router = APIRouter(tags=["subscriptions"])


def order_writer(request: Request) -> OrderWriter:
    """The process's writer of investors' first orders (group placement), made on first use."""
    state = request.app.state
    writer: OrderWriter | None = getattr(state, "order_writer", None)
    if writer is None:
        writer = state.order_writer = OrderWriter(runtime_of(request).unit_of_work)
    return writer


@router.post(
    "/offerings/{fund_id}/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    summary="Subscribe to an offering",
    operation_id="subscribe",
    responses=problems(
        Unauthorized,
        Forbidden,
        OfferingNotFound,
        NotEligible,
        OfferingNotOpen,
        SoldOut,
        OverLimit,
        IdempotencyKeyReused,
    ),
)
async def subscribe(
    request: Request,
    fund_id: UUID,
    body: SubscriptionIn,
    principal: Investor,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    idempotency_key: RequiredIdempotencyKey,
) -> Response:
    """Reserve units: answered with the amount due, a payment reference and its deadline.

    Within the fund's maximum per investor and the yearly limit per issuer; never
    more units than are left. Repeating the request with its Idempotency-Key is safe.
    """
    facts = await service.screen(
        runtime_of(request).engine,
        fund_id=fund_id,
        body=body,
        principal=principal,
        settings=settings,
    )
    operation = f"subscribe:{fund_id}"
    if rules.refused_before_key(facts):
        # The investor's first order in the fund: placed with the other first orders
        # arriving meanwhile; a key taken already goes the single way and is replayed.
        placed = await service.place_first_order(
            order_writer(request),
            fund_id=fund_id,
            facts=facts,
            body=body,
            principal=principal,
            settings=settings,
            idempotency_key=idempotency_key,
            operation=operation,
        )
        if placed is not None:
            return Response(placed, status_code=201, media_type="application/json")
    placement = service.Placement(
        uow, fund_id=fund_id, facts=facts, body=body, principal=principal, settings=settings
    )
    async with uow:
        answer = await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=operation,
            body=body,
            action=placement.reserve,
        )
        await placement.complete()
        return answer


@router.post(
    "/subscriptions/{subscription_id}/cancel",
    response_model=SubscriptionOut,
    summary="Cancel a subscription",
    operation_id="cancel_subscription",
    responses=problems(Unauthorized, Forbidden, SubscriptionNotFound, CancelNotAllowed),
)
async def cancel_subscription(
    subscription_id: UUID, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> SubscriptionOut:
    """The investor cancels within the cooling-off period (staff: before the fund closes).

    Its units go back on sale; money already paid is refunded by the ledger.
    """
    async with uow:
        return await service.cancel(uow, subscription_id=subscription_id, principal=principal)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Get a subscription",
    operation_id="get_subscription",
    responses=problems(Unauthorized, Forbidden, SubscriptionNotFound),
)
async def get_subscription(
    subscription_id: UUID, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> SubscriptionOut:
    """One subscription: its units, amount due, payment reference and deadline, and status."""
    async with uow:
        return await service.get(uow, subscription_id=subscription_id, principal=principal)


async def _page(
    uow: UnitOfWorkDep,
    investor_id: UUID,
    principal: InvestorOrStaff,
    statuses: list[SubscriptionStatus] | None,
    cursor: str | None,
    limit: int,
) -> Page[SubscriptionOut]:
    async with uow:
        return await service.list_for_investor(
            uow,
            investor_id=investor_id,
            principal=principal,
            statuses=statuses,
            cursor=cursor,
            limit=limit,
        )


MY_PAGE = problems(Unauthorized, Forbidden, InvestorNotFound, BadCursor)


@router.get(
    "/investors/{investor_id}/subscriptions",
    response_model=Page[SubscriptionOut],
    summary="List an investor's subscriptions",
    operation_id="list_investor_subscriptions",
    responses=MY_PAGE,
)
async def list_subscriptions(
    investor_id: UUID,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
    status: Annotated[list[SubscriptionStatus] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[SubscriptionOut]:
    """My page: every subscription, newest first (filter by status; an unknown one is 422)."""
    return await _page(uow, investor_id, principal, status, cursor, limit)


@router.get(
    "/investors/{investor_id}/payments-due",
    response_model=Page[SubscriptionOut],
    summary="List an investor's payments due",
    operation_id="list_investor_payments_due",
    responses=MY_PAGE,
)
async def list_payments_due(
    investor_id: UUID,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[SubscriptionOut]:
    """My page: subscriptions awaiting payment, with reference, amount and deadline."""
    return await _page(uow, investor_id, principal, [SubscriptionStatus.PLACED], cursor, limit)


@router.get(
    "/investors/{investor_id}/cancellations",
    response_model=Page[SubscriptionOut],
    summary="List an investor's cancelled subscriptions",
    operation_id="list_investor_cancellations",
    responses=MY_PAGE,
)
async def list_cancellations(
    investor_id: UUID,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[SubscriptionOut]:
    """My page: cancelled subscriptions and why."""
    return await _page(uow, investor_id, principal, [SubscriptionStatus.CANCELLED], cursor, limit)


@router.get(
    "/investors/{investor_id}/holdings",
    response_model=list[HoldingOut],
    summary="List an investor's holdings",
    operation_id="list_investor_holdings",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound),
)
async def list_holdings(
    investor_id: UUID, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> list[HoldingOut]:
    """My page: units paid for in each fund (one line per fund)."""
    async with uow:
        return await service.holdings(uow, investor_id=investor_id, principal=principal)
