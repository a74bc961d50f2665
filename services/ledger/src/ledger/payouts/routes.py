"""Payouts: instructed by staff or an investor (and by refunds); confirmed or failed by the
bank they were instructed to."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Conflict, Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import RequiredIdempotencyKey
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from ledger.books.rules import InsufficientBalance, UnknownAccount
from ledger.deposits.rules import NotInSuspense
from ledger.payouts import service
from ledger.payouts.rules import (
    NotOneBatch,
    PayoutKeyReused,
    PayoutSettled,
    PayoutSourceRefused,
    PayoutStatus,
    UnknownBank,
)
from ledger.payouts.schemas import (
    PayoutAnswersIn,
    PayoutAnswersOut,
    PayoutIn,
    PayoutOut,
    PayoutResultIn,
    SuspenseReturnIn,
)

router = APIRouter(tags=["payouts"])
Payer = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.INVESTOR))]
# Only the bank a payout was instructed to says whether the money left.
Bank = Annotated[Principal, Depends(require_roles(Role.BANK))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Viewer = Annotated[Principal, Depends(require_roles(Role.BANK, Role.STAFF))]


# The schema's own example is a confirmation's note; a failure gives the bank's reason.
FAILURE_EXAMPLES = {"failed": {"value": {"note": "The account was closed"}}}


@router.post(
    "/payouts",
    status_code=201,
    response_model=PayoutOut,
    summary="Instruct a payout",
    operation_id="instruct_payout",
    responses={
        **problems(
            Unauthorized,
            Forbidden,
            InsufficientBalance,
            PayoutKeyReused,
            PayoutSourceRefused,
            UnknownBank,
            UnknownAccount,
            Conflict,
        ),
        200: {"model": PayoutOut, "description": "Replayed: the same payout"},
    },
)
async def instruct(
    body: PayoutIn, principal: Payer, uow: UnitOfWorkDep, idempotency_key: RequiredIdempotencyKey
) -> JSONResponse:
    """Instruct a payout from a wallet (its investor, or staff) or a business's payable
    (staff) through a registered, active partner bank: the amount is held (pending)
    until that bank confirms or fails it."""
    async with uow:
        out, created = await service.instruct_payout(
            uow, payout=body, idempotency_key=idempotency_key, principal=principal
        )
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/payouts",
    response_model=Page[PayoutOut],
    summary="List payouts",
    operation_id="list_payouts",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_payouts(
    principal: Viewer,
    uow: UnitOfWorkDep,
    status: Annotated[PayoutStatus | None, Query(description="Only payouts in this state")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[PayoutOut]:
    """Payouts oldest first, a page at a time; a bank sees the ones it must send."""
    async with uow:
        return await service.list_payouts(
            uow, principal=principal, status=status, cursor=cursor, limit=limit
        )


@router.post(
    "/payouts/{payout_id}/confirm",
    response_model=PayoutOut,
    summary="Confirm a payout was sent",
    operation_id="confirm_payout",
    responses=problems(Unauthorized, Forbidden, NotFound, PayoutSettled),
)
async def confirm(
    payout_id: UUID, body: PayoutResultIn, principal: Bank, uow: UnitOfWorkDep
) -> PayoutOut:
    """The bank sent the money: the pending entry is posted (that bank only)."""
    async with uow:
        return await service.settle_payout(
            uow, payout_id=payout_id, confirmed=True, note=body.note, principal=principal
        )


@router.post(
    "/payouts/{payout_id}/fail",
    response_model=PayoutOut,
    summary="Record a failed payout",
    operation_id="fail_payout",
    responses=problems(Unauthorized, Forbidden, NotFound, PayoutSettled),
)
async def fail(
    payout_id: UUID,
    body: Annotated[PayoutResultIn, Body(openapi_examples=FAILURE_EXAMPLES)],
    principal: Bank,
    uow: UnitOfWorkDep,
) -> PayoutOut:
    """The transfer failed: the pending entry is voided and the money is back where it was."""
    async with uow:
        return await service.settle_payout(
            uow, payout_id=payout_id, confirmed=False, note=body.note, principal=principal
        )


@router.post(
    "/payouts/answers",
    response_model=PayoutAnswersOut,
    summary="Answer a distribution batch's payouts",
    operation_id="answer_payouts",
    responses=problems(Unauthorized, Forbidden, NotFound, NotOneBatch, PayoutSettled),
)
async def answer(body: PayoutAnswersIn, principal: Bank, uow: UnitOfWorkDep) -> PayoutAnswersOut:
    """The bank's result file for one distribution batch: up to 1,000 answers at once, all
    or none; a retried answer changes nothing. Once every payout of the batch is answered
    the batch is posted, and what failed is back in the investors' wallets (that bank
    only; another's payouts are not found)."""
    async with uow:
        return await service.answer_payouts(uow, body=body, principal=principal)


@router.post(
    "/deposits/{deposit_id}/return",
    status_code=201,
    response_model=PayoutOut,
    summary="Return a suspense deposit to its payer",
    operation_id="return_suspense_deposit",
    responses=problems(Unauthorized, Forbidden, NotFound, NotInSuspense, UnknownBank),
)
async def return_deposit(
    deposit_id: UUID, body: SuspenseReturnIn, principal: Staff, uow: UnitOfWorkDep
) -> PayoutOut:
    """Send a suspense deposit back to its payer through the bank that received it."""
    async with uow:
        return await service.return_deposit(
            uow, deposit_id=deposit_id, note=body.note, principal=principal
        )
