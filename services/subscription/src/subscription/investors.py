"""Investors: registration, identity verification, the risk notice, the payout account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select

from kumiai.auth import Principal, Role
from kumiai.contracts.onboarding import PartnerKind
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.partners import partner_exists
from subscription.crypto import FieldCipher
from subscription.db.models import Investor, PayoutAccountRead, PayoutInstruction
from subscription.domain.subscriptions import RISK_NOTICE
from subscription.schemas import (
    InvestorIn,
    InvestorOut,
    InvestorPayoutAccountOut,
    PersonalDetailsOut,
    RiskNoticeOut,
    VerificationIn,
)


class AlreadyRegistered(Conflict):
    problem = "investor-exists"
    title = "This investor is already registered"


class StaleRiskNotice(UnprocessableContent):
    problem = "risk-notice-version"
    title = "That is not the current risk notice"


class UnknownVerifyingBank(UnprocessableContent):
    problem = "unknown-verifying-bank"
    title = "The verifying bank is not a registered, active partner bank"


class InvestorNotFound(NotFound):
    problem = "investor-not-found"
    title = "No such investor"


class PayoutNotFound(NotFound):
    problem = "payout-not-found"
    title = "No such payout to this investor"


def no_investor() -> InvestorNotFound:
    """The one answer for an investor that is absent or not the caller's to see: the two
    are indistinguishable, and the answer names no id."""
    return InvestorNotFound("no such investor")


def own_id(principal: Principal) -> UUID:
    """An investor's id is its token's tenant."""
    try:
        return UUID(principal.tenant)
    except ValueError:
        raise Forbidden("an investor's token must carry its id as tenant") from None


def _context(investor_id: UUID) -> bytes:
    # Binds the ciphertext to its row: copied to another investor it does not decrypt.
    return f"investor:{investor_id}".encode()


def _is_self(principal: Principal, investor_id: UUID) -> bool:
    return principal.role is Role.INVESTOR and principal.tenant == str(investor_id)


def _personal(investor: Investor, cipher: FieldCipher) -> PersonalDetailsOut:
    return PersonalDetailsOut.model_validate(
        cipher.decrypt_json(investor.personal, context=_context(investor.id))
    )


def investor_out(investor: Investor, principal: Principal, cipher: FieldCipher) -> InvestorOut:
    personal = None
    if principal.role is Role.STAFF or _is_self(principal, investor.id):
        personal = _personal(investor, cipher)
    return InvestorOut(
        id=investor.id,
        verifying_bank_id=investor.verifying_bank_id,
        verification=investor.verification,
        verified_by=investor.verified_by,
        verified_at=investor.verified_at,
        risk_notice_version=investor.risk_notice_version,
        risk_acknowledged_at=investor.risk_acknowledged_at,
        created_at=investor.created_at,
        personal=personal,
    )


async def register(
    uow: UnitOfWork, *, body: InvestorIn, principal: Principal, cipher: FieldCipher
) -> InvestorOut:
    """An investor registers itself, naming the partner bank that checks its identity;
    personal details are stored encrypted."""
    if principal.role is not Role.INVESTOR:
        raise Forbidden("investors register themselves")
    investor_id = own_id(principal)
    if await uow.session.get(Investor, investor_id) is not None:
        raise AlreadyRegistered("this investor is already registered")
    bank = body.verifying_bank_id
    if bank is not None and not await partner_exists(uow.session, PartnerKind.BANK, bank):
        raise UnknownVerifyingBank(f"{bank!r} is not a registered, active partner bank")
    investor = Investor(
        id=investor_id,
        verifying_bank_id=bank,
        verification="unverified",
        personal=cipher.encrypt_json(
            body.personal.model_dump(mode="json"), context=_context(investor_id)
        ),
    )
    uow.session.add(investor)
    await uow.session.flush()
    await uow.session.refresh(investor)
    return investor_out(investor, principal, cipher)


def _bank_verifies(principal: Principal, investor: Investor) -> bool:
    """A partner bank acts on an investor only if the investor chose it to check its identity."""
    return principal.role is Role.BANK and investor.verifying_bank_id == principal.tenant


async def readable(uow: UnitOfWork, investor_id: UUID, principal: Principal) -> Investor:
    """The investor itself, staff, or the partner bank the investor chose (never personal data).

    Anyone else is told the investor does not exist.
    """
    if principal.role is Role.INVESTOR and not _is_self(principal, investor_id):
        raise no_investor()
    if principal.role not in (Role.INVESTOR, Role.STAFF, Role.BANK):
        raise Forbidden("this role does not read investors")
    investor = await uow.session.get(Investor, investor_id)
    if investor is None:
        raise no_investor()
    if principal.role is Role.BANK and not _bank_verifies(principal, investor):
        raise no_investor()
    return investor


async def get(
    uow: UnitOfWork, *, investor_id: UUID, principal: Principal, cipher: FieldCipher
) -> InvestorOut:
    return investor_out(await readable(uow, investor_id, principal), principal, cipher)


async def verify(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    body: VerificationIn,
    principal: Principal,
    cipher: FieldCipher,
) -> InvestorOut:
    """Staff, or the partner bank the investor chose, record the identity check's result."""
    if principal.role not in (Role.STAFF, Role.BANK):
        raise Forbidden("only staff and partner banks verify investors")
    investor = await uow.session.get(Investor, investor_id, with_for_update=True)
    if investor is None:
        raise no_investor()
    if principal.role is Role.BANK and not _bank_verifies(principal, investor):
        raise no_investor()
    investor.verification = body.status
    investor.verified_by = f"{principal.role.value}:{principal.tenant}"
    investor.verified_at = datetime.now(UTC)
    investor.verification_note = body.note
    await uow.session.flush()
    return investor_out(investor, principal, cipher)


def risk_notice(version: str) -> RiskNoticeOut:
    return RiskNoticeOut(version=version, text=RISK_NOTICE)


async def acknowledge_risk(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    version: str,
    current: str,
    principal: Principal,
    cipher: FieldCipher,
) -> InvestorOut:
    """The investor acknowledges the current risk notice; the version is recorded."""
    if not _is_self(principal, investor_id):
        # Another investor's id: not found, like every other investor-scoped request.
        raise no_investor()
    if version != current:
        raise StaleRiskNotice(f"the current risk notice is version {current}", current=current)
    investor = await uow.session.get(Investor, investor_id, with_for_update=True)
    if investor is None:
        raise no_investor()
    investor.risk_notice_version = version
    investor.risk_acknowledged_at = datetime.now(UTC)
    await uow.session.flush()
    return investor_out(investor, principal, cipher)


async def _payout_for_read(
    uow: UnitOfWork, investor_id: UUID, payout_id: UUID | None, principal: Principal
) -> PayoutInstruction | None:
    """The payout a read is for: the one named (it must be this investor's, and the
    calling bank's), else a bank's most recent payout to the investor."""
    query = select(PayoutInstruction).where(PayoutInstruction.investor_id == investor_id)
    if principal.role is Role.BANK:
        query = query.where(PayoutInstruction.bank_id == principal.tenant)
    if payout_id is not None:
        payout = await uow.session.scalar(query.where(PayoutInstruction.payout_id == payout_id))
        if payout is None:
            if principal.role is Role.BANK:
                raise no_investor()
            raise PayoutNotFound("no such payout to this investor")
        return payout
    if principal.role is not Role.BANK:
        return None
    payout = await uow.session.scalar(
        query.order_by(
            PayoutInstruction.instructed_at.desc(), PayoutInstruction.payout_id.desc()
        ).limit(1)
    )
    if payout is None:
        raise no_investor()
    return payout


async def payout_account(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    payout_id: UUID | None,
    principal: Principal,
    cipher: FieldCipher,
) -> InvestorPayoutAccountOut:
    """The investor's registered payout account, for the investor itself, staff, or a
    partner bank the ledger instructed to pay the investor; every read is recorded."""
    if principal.role is Role.INVESTOR and not _is_self(principal, investor_id):
        raise no_investor()
    if principal.role not in (Role.INVESTOR, Role.STAFF, Role.BANK):
        raise Forbidden("this role does not read payout accounts")
    investor = await uow.session.get(Investor, investor_id)
    if investor is None:
        raise no_investor()
    payout = await _payout_for_read(uow, investor_id, payout_id, principal)
    # Recorded in the same transaction as the answer: no account leaves unrecorded.
    uow.session.add(
        PayoutAccountRead(
            id=uuid.uuid4(),
            investor_id=investor_id,
            payout_id=payout.payout_id if payout else None,
            reader_role=principal.role.value,
            reader_tenant=principal.tenant,
            reader_subject=principal.subject,
        )
    )
    await uow.session.flush()
    account = _personal(investor, cipher).payout_account
    return InvestorPayoutAccountOut(
        **account.model_dump(),
        investor_id=investor_id,
        payout_id=payout.payout_id if payout else None,
    )
