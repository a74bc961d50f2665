"""Investor endpoints: registration, verification, the risk notice, the payout account."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kumiai.auth import require_roles
from kumiai.cipher import FieldCipher
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.principal import Principal, Role
from kumiai.service import UnitOfWorkDep
from subscription.investors import service
from subscription.investors.rules import (
    AlreadyRegistered,
    InvestorNotFound,
    PayoutNotFound,
    StaleRiskNotice,
    UnknownPayoutBank,
    UnknownVerifyingBank,
)
from subscription.investors.schemas import (
    InvestorIn,
    InvestorOut,
    InvestorPayoutAccountOut,
    RiskAcknowledgementIn,
    RiskNoticeOut,
    VerificationIn,
)
from subscription.settings import SettingsDep


async def _cipher(request: Request) -> FieldCipher:
    value: FieldCipher = request.app.state.cipher
    return value


CipherDep = Annotated[FieldCipher, Depends(_cipher)]
Investor = Annotated[Principal, Depends(require_roles(Role.INVESTOR))]
# Which investor a caller may read is decided by investors.rules (through the store).
Reader = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF, Role.BANK))]
Verifier = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.BANK))]

router = APIRouter(tags=["investors"])


@router.post(
    "/investors",
    status_code=201,
    response_model=InvestorOut,
    summary="Register an investor",
    operation_id="register_investor",
    responses=problems(
        Unauthorized,
        Forbidden,
        AlreadyRegistered,
        UnknownVerifyingBank,
        UnknownPayoutBank,
        IdempotencyKeyReused,
    ),
)
async def register_investor(
    body: InvestorIn,
    principal: Investor,
    uow: UnitOfWorkDep,
    cipher: CipherDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register as an investor (the token's tenant is the investor's id).

    Personal details and the payout account are stored encrypted and shown
    only to the investor and staff. ``verifying_bank_id`` names the partner
    bank that checks the investor's identity. The payout account's bank and
    branch codes must be in the Zengin code list.
    """
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation="register_investor",
            body=body,
            action=lambda: service.register(uow, body=body, principal=principal, cipher=cipher),
        )


@router.get(
    "/investors/{investor_id}",
    response_model=InvestorOut,
    summary="Get an investor",
    operation_id="get_investor",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound),
)
async def get_investor(
    investor_id: UUID, principal: Reader, uow: UnitOfWorkDep, cipher: CipherDep
) -> InvestorOut:
    """An investor's status, for the investor, staff and the bank it chose to verify it;
    personal details only for the investor and staff."""
    async with uow:
        return await service.get(uow, investor_id=investor_id, principal=principal, cipher=cipher)


@router.post(
    "/investors/{investor_id}/verification",
    response_model=InvestorOut,
    summary="Record an investor's identity check",
    operation_id="verify_investor",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound),
)
async def verify_investor(
    investor_id: UUID,
    body: VerificationIn,
    principal: Verifier,
    uow: UnitOfWorkDep,
    cipher: CipherDep,
) -> InvestorOut:
    """Staff, or the partner bank the investor chose, record the identity check's result.

    A bank is answered 404 for investors that did not choose it.
    """
    async with uow:
        return await service.verify(
            uow, investor_id=investor_id, body=body, principal=principal, cipher=cipher
        )


@router.get(
    "/risk-notice",
    response_model=RiskNoticeOut,
    summary="Get the current risk notice",
    operation_id="get_risk_notice",
)
async def get_risk_notice(settings: SettingsDep) -> RiskNoticeOut:
    """The risk notice every investor acknowledges before a first subscription."""
    return service.risk_notice(version=settings.risk_notice_version)


@router.post(
    "/investors/{investor_id}/risk-acknowledgements",
    response_model=InvestorOut,
    summary="Acknowledge the risk notice",
    operation_id="acknowledge_risk_notice",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound, StaleRiskNotice),
)
async def acknowledge_risk(
    investor_id: UUID,
    body: RiskAcknowledgementIn,
    principal: Investor,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    cipher: CipherDep,
) -> InvestorOut:
    """Acknowledge the current risk notice (its version is recorded)."""
    async with uow:
        return await service.acknowledge_risk(
            uow,
            investor_id=investor_id,
            version=body.version,
            current=settings.risk_notice_version,
            principal=principal,
            cipher=cipher,
        )


@router.get(
    "/investors/{investor_id}/payout-account",
    response_model=InvestorPayoutAccountOut,
    summary="Get an investor's payout account",
    operation_id="get_investor_payout_account",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound, PayoutNotFound),
)
async def get_payout_account(
    investor_id: UUID,
    principal: Reader,
    uow: UnitOfWorkDep,
    cipher: CipherDep,
    payout_id: Annotated[
        UUID | None,
        Query(description="The payout the account is read for; a bank's latest if omitted"),
    ] = None,
) -> InvestorPayoutAccountOut:
    """The bank account payouts to the investor go to, for the investor, staff, and a
    partner bank instructed to pay the investor. Every read is recorded.
    """
    async with uow:
        return await service.payout_account(
            uow, investor_id=investor_id, payout_id=payout_id, principal=principal, cipher=cipher
        )
