"""Ledger endpoints: manual entries (post, hold, resolve, reverse), accounts, balances,
statements.

Only staff write entries here, by hand, with a reason: adjustments and transfers
that never touch a fund's accounts. Payments, refunds, releases and payouts are
written by their own flows (deposits, fund events, ``/payouts``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import RequiredIdempotencyKey
from kumiai.pagination import BadCursor, Cursor, Limit
from kumiai.service import UnitOfWorkDep, runtime_of
from ledger.books import service
from ledger.books.rules import (
    EntryRefused,
    IdempotencyKeyConflict,
    InsufficientBalance,
    NotManual,
    NotPending,
    NotReversible,
    SegregationRefused,
    UnknownAccount,
)
from ledger.books.schemas import (
    AccountOut,
    BalanceOut,
    EntryBatchIn,
    EntryBatchOut,
    EntryIn,
    EntryOut,
    ResolutionIn,
    StatementOut,
    TrialBalanceOut,
)
from ledger.books.service import AlreadyResolved
from ledger.books.writer import EntryWriter

router = APIRouter(tags=["books"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Everyone with an account of their own; service tokens are refused (403).
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.STAFF, Role.INVESTOR, Role.BANK, Role.MSME, Role.MUNICIPALITY)),
]
RequiredKey = RequiredIdempotencyKey


async def entry_writer(request: Request) -> EntryWriter:
    """Dependency: the process's writer of single entries (group commit), made on first use.

    ``async`` so that FastAPI calls it on the event loop, not in a worker thread.
    """
    state = request.app.state
    writer: EntryWriter | None = getattr(state, "entry_writer", None)
    if writer is None:
        writer = state.entry_writer = EntryWriter(runtime_of(request).unit_of_work)
    return writer


EntryWriterDep = Annotated[EntryWriter, Depends(entry_writer)]

# ResolutionIn's own example posts a pending entry; voiding and reversing give theirs.
VOID_EXAMPLES = {
    "void": {
        "value": {
            "description": "Interest not credited after all",
            "reason": "The bank statement of 30 November does not show it",
        }
    }
}
REVERSAL_EXAMPLES = {
    "reversal": {
        "value": {
            "description": "Interest of November booked twice",
            "reason": "The same interest was already booked on 30 November",
        }
    }
}
WRITE_PROBLEMS = problems(
    Unauthorized,
    Forbidden,
    EntryRefused,
    UnknownAccount,
    SegregationRefused,
    InsufficientBalance,
    IdempotencyKeyConflict,
)
RESOLVE_PROBLEMS = problems(
    Unauthorized,
    Forbidden,
    NotFound,
    AlreadyResolved,
    NotPending,
    NotManual,
    InsufficientBalance,
    IdempotencyKeyConflict,
)


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    summary="Post a manual journal entry",
    operation_id="post_entry",
    responses={**WRITE_PROBLEMS, 200: {"model": EntryOut, "description": "Replayed"}},
)
async def post_entry(
    body: EntryIn, principal: Staff, writer: EntryWriterDep, idempotency_key: RequiredKey
) -> Response:
    """Post a balanced manual entry (staff, with a reason), or hold it with ``pending: true``.

    Manual entries are adjustments and transfers between the platform's non-fund
    accounts; a fund's escrow is moved only by payments, refunds and its release.
    """
    entry, created = await service.post_entry(
        writer, entry=body, idempotency_key=idempotency_key, principal=principal
    )
    return Response(
        entry.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )


@router.post(
    "/entries/batch",
    status_code=201,
    response_model=EntryBatchOut,
    summary="Post a batch of manual journal entries",
    operation_id="post_entry_batch",
    responses=WRITE_PROBLEMS | problems(AlreadyResolved),
)
async def post_entry_batch(
    body: EntryBatchIn, principal: Staff, uow: UnitOfWorkDep, idempotency_key: RequiredKey
) -> EntryBatchOut:
    """Post many manual entries in one transaction: all of them or none."""
    async with uow:
        ids = await service.post_batch(
            uow, entries=body.entries, idempotency_key=idempotency_key, principal=principal
        )
    return EntryBatchOut(entries=ids)


@router.post(
    "/entries/{entry_id}/post",
    response_model=EntryOut,
    summary="Post a pending entry",
    operation_id="post_pending_entry",
    responses=RESOLVE_PROBLEMS,
)
async def post_pending(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Post a pending manual entry. A payout is confirmed by its bank (``/payouts``)."""
    async with uow:
        return await service.resolve_pending(
            uow,
            entry_id=entry_id,
            post=True,
            description=body.description,
            reason=body.reason,
            idempotency_key=idempotency_key,
            principal=principal,
        )


@router.post(
    "/entries/{entry_id}/void",
    response_model=EntryOut,
    summary="Void a pending entry",
    operation_id="void_pending_entry",
    responses=RESOLVE_PROBLEMS,
)
async def void_pending(
    entry_id: UUID,
    body: Annotated[ResolutionIn, Body(openapi_examples=VOID_EXAMPLES)],
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Void a pending manual entry: the money is back where it was."""
    async with uow:
        return await service.resolve_pending(
            uow,
            entry_id=entry_id,
            post=False,
            description=body.description,
            reason=body.reason,
            idempotency_key=idempotency_key,
            principal=principal,
        )


@router.post(
    "/entries/{entry_id}/reverse",
    status_code=201,
    response_model=EntryOut,
    summary="Reverse a posted entry",
    operation_id="reverse_entry",
    responses=RESOLVE_PROBLEMS | problems(NotReversible),
)
async def reverse(
    entry_id: UUID,
    body: Annotated[ResolutionIn, Body(openapi_examples=REVERSAL_EXAMPLES)],
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Correct a posted manual entry with a reversing entry that mirrors it."""
    async with uow:
        return await service.reverse_entry(
            uow,
            entry_id=entry_id,
            description=body.description,
            reason=body.reason,
            idempotency_key=idempotency_key,
            principal=principal,
        )


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Get a journal entry",
    operation_id="get_entry",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_entry(entry_id: UUID, principal: Staff, uow: UnitOfWorkDep) -> EntryOut:
    """One journal entry and its postings."""
    async with uow:
        return await service.get_entry(uow, entry_id=entry_id, principal=principal)


@router.get(
    "/accounts/{code:path}/balance",
    response_model=BalanceOut,
    summary="Get an account's balance",
    operation_id="get_balance",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_balance(
    code: str,
    principal: Reader,
    uow: UnitOfWorkDep,
    as_of: Annotated[date | None, Query(description="End of this day; omit for now")] = None,
) -> BalanceOut:
    """Posted, pending and available balance of an account."""
    async with uow:
        return await service.get_balance(uow, code=code, as_of=as_of, principal=principal)


@router.get(
    "/accounts/{code:path}/statement",
    response_model=StatementOut,
    summary="Get an account's statement",
    operation_id="get_statement",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def get_statement(
    code: str,
    principal: Reader,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> StatementOut:
    """Posted lines with the running balance, oldest first, a page at a time."""
    async with uow:
        return await service.statement(
            uow, code=code, cursor=cursor, limit=limit, principal=principal
        )


@router.get(
    "/accounts/{code:path}",
    response_model=AccountOut,
    summary="Get an account",
    operation_id="get_account",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_account(code: str, principal: Reader, uow: UnitOfWorkDep) -> AccountOut:
    """An account, its conditions and its balance."""
    async with uow:
        return await service.get_account(uow, code=code, principal=principal)


@router.get(
    "/trial-balance",
    response_model=TrialBalanceOut,
    summary="Get the trial balance",
    operation_id="get_trial_balance",
    responses=problems(Unauthorized, Forbidden),
)
async def get_trial_balance(principal: Staff, uow: UnitOfWorkDep) -> TrialBalanceOut:
    """Every currency's debits against its credits, and totals per account kind."""
    async with uow:
        return await service.trial_balance(uow)
