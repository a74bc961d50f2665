"""Investors: registration, identity verification, the risk notice."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from kumiai.auth import Principal, Role
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from subscription.crypto import FieldCipher
from subscription.db.models import Investor
from subscription.domain.subscriptions import RISK_NOTICE
from subscription.schemas import (
    InvestorIn,
    InvestorOut,
    PersonalDetails,
    RiskNoticeOut,
    VerificationIn,
)


class AlreadyRegistered(Conflict):
    problem = "investor-exists"
    title = "This investor is already registered"


class StaleRiskNotice(UnprocessableContent):
    problem = "risk-notice-version"
    title = "That is not the current risk notice"


def own_id(principal: Principal) -> UUID:
    """An investor's id is its token's tenant."""
    try:
        return UUID(principal.tenant)
    except ValueError:
        raise Forbidden("an investor's token must carry its id as tenant") from None


def _context(investor_id: UUID) -> bytes:
    # Binds the ciphertext to its row: copied to another investor it does not decrypt.
    return f"investor:{investor_id}".encode()


def investor_out(investor: Investor, principal: Principal, cipher: FieldCipher) -> InvestorOut:
    personal = None
    if principal.role is Role.STAFF or (
        principal.role is Role.INVESTOR and principal.tenant == str(investor.id)
    ):
        personal = PersonalDetails.model_validate(
            cipher.decrypt_json(investor.personal, context=_context(investor.id))
        )
    return InvestorOut(
        id=investor.id,
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
    """An investor registers itself; personal details are stored encrypted."""
    if principal.role is not Role.INVESTOR:
        raise Forbidden("investors register themselves")
    investor_id = own_id(principal)
    if await uow.session.get(Investor, investor_id) is not None:
        raise AlreadyRegistered(f"investor {investor_id} is already registered")
    investor = Investor(
        id=investor_id,
        verification="unverified",
        personal=cipher.encrypt_json(
            body.personal.model_dump(mode="json"), context=_context(investor_id)
        ),
    )
    uow.session.add(investor)
    await uow.session.flush()
    await uow.session.refresh(investor)
    return investor_out(investor, principal, cipher)


async def readable(uow: UnitOfWork, investor_id: UUID, principal: Principal) -> Investor:
    """The investor itself, staff, or a partner bank (which never sees personal data)."""
    if principal.role is Role.INVESTOR and principal.tenant != str(investor_id):
        raise NotFound(f"no investor {investor_id}")
    if principal.role not in (Role.INVESTOR, Role.STAFF, Role.BANK, Role.SERVICE):
        raise Forbidden("this role does not read investors")
    investor = await uow.session.get(Investor, investor_id)
    if investor is None:
        raise NotFound(f"no investor {investor_id}")
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
    """Staff, or a partner bank that checked the investor's identity, set its verification."""
    if principal.role not in (Role.STAFF, Role.BANK):
        raise Forbidden("only staff and partner banks verify investors")
    investor = await uow.session.get(Investor, investor_id, with_for_update=True)
    if investor is None:
        raise NotFound(f"no investor {investor_id}")
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
    if principal.role is not Role.INVESTOR or principal.tenant != str(investor_id):
        raise Forbidden("investors acknowledge the risk notice themselves")
    if version != current:
        raise StaleRiskNotice(f"the current risk notice is version {current}", current=current)
    investor = await uow.session.get(Investor, investor_id, with_for_update=True)
    if investor is None:
        raise NotFound(f"no investor {investor_id}")
    investor.risk_notice_version = version
    investor.risk_acknowledged_at = datetime.now(UTC)
    await uow.session.flush()
    return investor_out(investor, principal, cipher)
