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

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import RequiredIdempotencyKey
from kumiai.pagination import BadCursor, Cursor, Limit
from kumiai.service import UnitOfWorkDep
from ledger import use_cases
from ledger.books import (
    AlreadyResolved,
    EntryRefused,
    IdempotencyKeyConflict,
    InsufficientBalance,
    SegregationRefused,
    UnknownAccount,
)
from ledger.schemas import (
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

router = APIRouter(tags=["books"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Everyone with an account of their own; service tokens are refused (403).
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.STAFF, Role.INVESTOR, Role.BANK, Role.MSME, Role.MUNICIPALITY)),
]
RequiredKey = RequiredIdempotencyKey
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
    use_cases.NotPending,
    use_cases.NotManual,
    InsufficientBalance,
    IdempotencyKeyConflict,
)


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    operation_id="post_entry",
    responses={**WRITE_PROBLEMS, 200: {"model": EntryOut, "description": "Replayed"}},
)
async def post_entry(
    body: EntryIn, principal: Staff, uow: UnitOfWorkDep, idempotency_key: RequiredKey
) -> JSONResponse:
    """Post a balanced manual entry (staff, with a reason), or hold it with ``pending: true``.

    Manual entries are adjustments and transfers between the platform's non-fund
    accounts; a fund's escrow is moved only by payments, refunds and its release.
    """
    async with uow:
        entry, created = await use_cases.post_entry(
            uow, entry=body, idempotency_key=idempotency_key, principal=principal
        )
    return JSONResponse(entry.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/entries/batch",
    status_code=201,
    response_model=EntryBatchOut,
    operation_id="post_entry_batch",
    responses=WRITE_PROBLEMS | problems(AlreadyResolved),
)
async def post_entry_batch(
    body: EntryBatchIn, principal: Staff, uow: UnitOfWorkDep, idempotency_key: RequiredKey
) -> EntryBatchOut:
    """Post many manual entries in one transaction: all of them or none."""
    async with uow:
        ids = await use_cases.post_batch(
            uow, entries=body.entries, idempotency_key=idempotency_key, principal=principal
        )
    return EntryBatchOut(entries=ids)


@router.post(
    "/entries/{entry_id}/post",
    response_model=EntryOut,
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
        return await use_cases.resolve_pending(
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
    operation_id="void_pending_entry",
    responses=RESOLVE_PROBLEMS,
)
async def void_pending(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Void a pending manual entry: the money is back where it was."""
    async with uow:
        return await use_cases.resolve_pending(
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
    operation_id="reverse_entry",
    responses=RESOLVE_PROBLEMS | problems(use_cases.NotReversible),
)
async def reverse(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Staff,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Correct a posted manual entry with a reversing entry that mirrors it."""
    async with uow:
        return await use_cases.reverse_entry(
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
    operation_id="get_entry",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_entry(entry_id: UUID, principal: Staff, uow: UnitOfWorkDep) -> EntryOut:
    """One journal entry and its postings."""
    async with uow:
        return await use_cases.get_entry(uow, entry_id=entry_id)


def _may_read(principal: Principal, code: str) -> None:
    """Staff read every account; an investor, bank, business or municipality only its own."""
    if principal.role is Role.STAFF:
        return
    own = {
        Role.INVESTOR: f"investor/{principal.tenant}/wallet",
        Role.BANK: f"bank/{principal.tenant}/clearing",
        Role.MSME: f"msme/{principal.tenant}/payable",
        Role.MUNICIPALITY: f"municipality/{principal.tenant}/subsidy",
    }.get(principal.role)
    if own != code:
        # 404, not 403: another tenant's account must not even be confirmed to exist.
        raise NotFound("no such account")


@router.get(
    "/accounts/{code:path}/balance",
    response_model=BalanceOut,
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
    _may_read(principal, code)
    async with uow:
        return await use_cases.get_balance(uow, code=code, as_of=as_of)


@router.get(
    "/accounts/{code:path}/statement",
    response_model=StatementOut,
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
    _may_read(principal, code)
    async with uow:
        return await use_cases.statement(uow, code=code, cursor=cursor, limit=limit)


@router.get(
    "/accounts/{code:path}",
    response_model=AccountOut,
    operation_id="get_account",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_account(code: str, principal: Reader, uow: UnitOfWorkDep) -> AccountOut:
    """An account, its conditions and its balance."""
    _may_read(principal, code)
    async with uow:
        return await use_cases.get_account(uow, code=code)


@router.get(
    "/trial-balance",
    response_model=TrialBalanceOut,
    operation_id="get_trial_balance",
    responses=problems(Unauthorized, Forbidden),
)
async def get_trial_balance(principal: Staff, uow: UnitOfWorkDep) -> TrialBalanceOut:
    """Every currency's debits against its credits, and totals per account kind."""
    async with uow:
        return await use_cases.trial_balance(uow)
