"""Ledger endpoints: entries (post, hold, resolve, reverse), accounts, balances, statements."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, current_principal, require_roles
from kumiai.errors import Conflict, Forbidden, NotFound, Unauthorized, problems
from kumiai.service import UnitOfWorkDep
from ledger import use_cases
from ledger.books import (
    AlreadyResolved,
    EntryRefused,
    IdempotencyKeyConflict,
    InsufficientBalance,
    SegregationRefused,
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

# Only internal services and staff (with a reason in the description) write entries.
Writer = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Reader = Annotated[Principal, Depends(current_principal)]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
RequiredKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Required: the entry's identity; a retry with the same key posts nothing new",
    ),
]
WRITE_PROBLEMS = problems(
    Unauthorized,
    Forbidden,
    EntryRefused,
    SegregationRefused,
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
    body: EntryIn, principal: Writer, uow: UnitOfWorkDep, idempotency_key: RequiredKey
) -> JSONResponse:
    """Post a balanced journal entry, or hold it pending with ``pending: true``."""
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
    responses=WRITE_PROBLEMS,
)
async def post_entry_batch(
    body: EntryBatchIn, principal: Writer, uow: UnitOfWorkDep, idempotency_key: RequiredKey
) -> EntryBatchOut:
    """Post many entries in one transaction: all of them or none."""
    async with uow:
        ids = await use_cases.post_batch(
            uow, entries=body.entries, idempotency_key=idempotency_key, principal=principal
        )
    return EntryBatchOut(entries=ids)


@router.post(
    "/entries/{entry_id}/post",
    response_model=EntryOut,
    operation_id="post_pending_entry",
    responses=problems(Unauthorized, Forbidden, NotFound, AlreadyResolved, Conflict)
    | WRITE_PROBLEMS,
)
async def post_pending(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Writer,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Post a pending entry: the bank confirmed the money moved."""
    async with uow:
        return await use_cases.resolve_pending(
            uow,
            entry_id=entry_id,
            post=True,
            description=body.description,
            idempotency_key=idempotency_key,
            principal=principal,
        )


@router.post(
    "/entries/{entry_id}/void",
    response_model=EntryOut,
    operation_id="void_pending_entry",
    responses=problems(Unauthorized, Forbidden, NotFound, AlreadyResolved, Conflict)
    | WRITE_PROBLEMS,
)
async def void_pending(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Writer,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Void a pending entry: the money is back where it was."""
    async with uow:
        return await use_cases.resolve_pending(
            uow,
            entry_id=entry_id,
            post=False,
            description=body.description,
            idempotency_key=idempotency_key,
            principal=principal,
        )


@router.post(
    "/entries/{entry_id}/reverse",
    status_code=201,
    response_model=EntryOut,
    operation_id="reverse_entry",
    responses=problems(Unauthorized, Forbidden, NotFound, AlreadyResolved, Conflict)
    | WRITE_PROBLEMS,
)
async def reverse(
    entry_id: UUID,
    body: ResolutionIn,
    principal: Writer,
    uow: UnitOfWorkDep,
    idempotency_key: RequiredKey,
) -> EntryOut:
    """Correct a posted entry with a reversing entry that points at it."""
    async with uow:
        return await use_cases.reverse_entry(
            uow,
            entry_id=entry_id,
            description=body.description,
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
    """Staff and services read every account; investors, banks, MSMEs only their own."""
    if principal.role in (Role.STAFF, Role.SERVICE):
        return
    own = {
        Role.INVESTOR: f"investor/{principal.tenant}/wallet",
        Role.BANK: f"bank/{principal.tenant}/clearing",
        Role.MSME: f"msme/{principal.tenant}/payable",
    }.get(principal.role)
    if own != code:
        # 404, not 403: another tenant's account must not even be confirmed to exist.
        raise NotFound(f"no account {code}")


@router.get(
    "/accounts/{code:path}/balance",
    response_model=BalanceOut,
    operation_id="get_balance",
    responses=problems(Unauthorized, NotFound),
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
    responses=problems(Unauthorized, NotFound),
)
async def get_statement(
    code: str,
    principal: Reader,
    uow: UnitOfWorkDep,
    cursor: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StatementOut:
    """Posted lines with the running balance, oldest first, a page at a time."""
    _may_read(principal, code)
    async with uow:
        return await use_cases.statement(
            uow, code=code, cursor=int(cursor) if cursor else None, limit=limit
        )


@router.get(
    "/accounts/{code:path}",
    response_model=AccountOut,
    operation_id="get_account",
    responses=problems(Unauthorized, NotFound),
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
