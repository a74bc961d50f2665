"""Deposits: partner banks report credits; staff work the suspense list."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Conflict, Forbidden, NotFound, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from ledger.deposits import service
from ledger.deposits.rules import (
    DepositKeyReused,
    DepositStatus,
    NotInSuspense,
    PaymentNotExpected,
    ValueDateRefused,
)
from ledger.deposits.schemas import DepositIn, DepositOut, SuspenseMatchIn

router = APIRouter(tags=["deposits"])
Bank = Annotated[Principal, Depends(require_roles(Role.BANK))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Reader = Annotated[Principal, Depends(require_roles(Role.BANK, Role.STAFF))]


@router.post(
    "/deposits",
    status_code=201,
    response_model=DepositOut,
    summary="Report a deposit",
    operation_id="report_deposit",
    responses={
        **problems(
            Unauthorized,
            Forbidden,
            DepositKeyReused,
            ValueDateRefused,
            Conflict,
        ),
        200: {"model": DepositOut, "description": "Already reported: the same deposit"},
    },
)
async def report_deposit(body: DepositIn, principal: Bank, uow: UnitOfWorkDep) -> JSONResponse:
    """Report money received (as the bank in the token); repeating a transaction id is safe.

    A deposit quoting an expected payment reference with the amount due goes to
    the fund's escrow; anything else is held in suspense, where it pays its
    subscription as soon as the ledger learns of it, or waits for staff. The
    value date lies between a year ago and tomorrow, Japan time.
    """
    async with uow:
        out, created = await service.record_deposit(uow, deposit=body, principal=principal)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/deposits/{deposit_id}",
    response_model=DepositOut,
    summary="Get a deposit",
    operation_id="get_deposit",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_deposit(deposit_id: UUID, principal: Reader, uow: UnitOfWorkDep) -> DepositOut:
    """One deposit; a bank sees only its own."""
    async with uow:
        return await service.get_deposit(uow, deposit_id=deposit_id, principal=principal)


@router.get(
    "/deposits",
    response_model=Page[DepositOut],
    summary="List deposits",
    operation_id="list_deposits",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def list_deposits(
    principal: Reader,
    uow: UnitOfWorkDep,
    status: Annotated[
        DepositStatus | None, Query(description="Only deposits in this state")
    ] = None,
    bank_id: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
            description="One bank's (a bank may name only itself)",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DepositOut]:
    """Deposits oldest first, a page at a time; a bank sees only those it reported."""
    async with uow:
        return await service.list_deposits(
            uow, principal=principal, status=status, bank_id=bank_id, cursor=cursor, limit=limit
        )


@router.get(
    "/suspense",
    response_model=Page[DepositOut],
    summary="List deposits in suspense",
    operation_id="list_suspense",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_suspense(
    principal: Staff, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[DepositOut]:
    """The exception list: deposits held in suspense, oldest first."""
    async with uow:
        return await service.list_deposits(
            uow,
            principal=principal,
            status=DepositStatus.SUSPENSE,
            bank_id=None,
            cursor=cursor,
            limit=limit,
        )


@router.post(
    "/deposits/{deposit_id}/match",
    response_model=DepositOut,
    summary="Match a suspense deposit to a subscription",
    operation_id="match_suspense_deposit",
    responses=problems(Unauthorized, Forbidden, NotFound, NotInSuspense, PaymentNotExpected),
)
async def match(
    deposit_id: UUID, body: SuspenseMatchIn, principal: Staff, uow: UnitOfWorkDep
) -> DepositOut:
    """Move a suspense deposit into escrow against the subscription it pays exactly."""
    async with uow:
        return await service.match_suspense(
            uow,
            deposit_id=deposit_id,
            subscription_id=body.subscription_id,
            note=body.note,
            principal=principal,
        )
