"""What investors do and what is done to them: registration, identity verification, the
risk notice, the payout account, and the payouts the ledger instructs to them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import structlog

from kumiai.cipher import FieldCipher
from kumiai.contracts.ledger import PayoutInstructed
from kumiai.db import UnitOfWork
from kumiai.principal import Principal
from subscription.audit import rules as audit_rules
from subscription.audit import service as audit
from subscription.audit.rules import AuditEntity
from subscription.db.models import Investor
from subscription.investors import rules, store
from subscription.investors.rules import Standing, VerificationStatus
from subscription.investors.schemas import (
    InvestorIn,
    InvestorOut,
    InvestorPayoutAccountOut,
    PersonalDetailsOut,
    RiskNoticeOut,
    VerificationIn,
)

log = structlog.get_logger(__name__)


def _personal(investor: Investor, cipher: FieldCipher) -> PersonalDetailsOut:
    return PersonalDetailsOut.model_validate(
        cipher.decrypt_json(investor.personal, context=rules.personal_data_context(investor.id))
    )


def _out(investor: Investor, principal: Principal, cipher: FieldCipher) -> InvestorOut:
    personal = None
    if rules.may_see_personal(principal, investor_id=investor.id):
        personal = _personal(investor, cipher)
    return InvestorOut(
        id=investor.id,
        verifying_bank_id=investor.verifying_bank_id,
        verification=VerificationStatus(investor.verification).value,
        verified_by=investor.verified_by,
        verified_at=investor.verified_at,
        risk_notice_version=investor.risk_notice_version,
        risk_acknowledged_at=investor.risk_acknowledged_at,
        created_at=investor.created_at,
        personal=personal,
    )


async def standing(uow: UnitOfWork, *, investor_id: UUID) -> Standing | None:
    """Where a registered investor stands for subscribing (none if it never registered)."""
    investor = await store.find(uow.session, investor_id)
    if investor is None:
        return None
    return Standing(
        verification=VerificationStatus(investor.verification),
        risk_notice_version=investor.risk_notice_version,
    )


async def register(
    uow: UnitOfWork, *, body: InvestorIn, principal: Principal, cipher: FieldCipher
) -> InvestorOut:
    """An investor registers itself, naming the partner bank that checks its identity and a
    payout account at a bank and branch the Zengin code list knows; personal details are
    stored encrypted."""
    investor_id = rules.registrant_id(principal)
    session = uow.session
    rules.check_not_registered(registered=await store.find(session, investor_id) is not None)
    account = body.personal.payout_account
    rules.check_payout_bank(account.bank_code, account.branch_code)
    bank = body.verifying_bank_id
    if bank is not None:
        rules.check_verifying_bank(
            bank, active_partner_bank=await store.is_active_partner_bank(session, bank)
        )
    investor = await store.add_investor(
        session,
        Investor(
            id=investor_id,
            verifying_bank_id=bank,
            verification=VerificationStatus.UNVERIFIED.value,
            personal=cipher.encrypt_json(
                body.personal.model_dump(mode="json"),
                context=rules.personal_data_context(investor_id),
            ),
        ),
    )
    return _out(investor, principal, cipher)


async def get(
    uow: UnitOfWork, *, investor_id: UUID, principal: Principal, cipher: FieldCipher
) -> InvestorOut:
    """An investor's status for the investor, staff and the bank it chose to verify it;
    personal details only for the investor and staff (a staff read is audited)."""
    investor = await store.readable_investor(uow.session, investor_id, principal)
    if audit_rules.records_personal_read(principal):
        await audit.record(
            uow,
            principal=principal,
            action="personal_details_read",
            entity=AuditEntity.INVESTOR,
            entity_id=investor_id,
        )
    return _out(investor, principal, cipher)


async def verify(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    body: VerificationIn,
    principal: Principal,
    cipher: FieldCipher,
) -> InvestorOut:
    """Staff, or the partner bank the investor chose, record the identity check's result."""
    rules.check_verifier(principal)
    investor = await store.readable_investor(uow.session, investor_id, principal, lock=True)
    investor.verification = VerificationStatus(body.status).value
    investor.verified_by = rules.verified_by(principal)
    investor.verified_at = datetime.now(UTC)
    investor.verification_note = body.note
    await uow.session.flush()
    return _out(investor, principal, cipher)


def risk_notice(*, version: str) -> RiskNoticeOut:
    """The risk notice every investor acknowledges before a first subscription."""
    return RiskNoticeOut(version=version, text=rules.RISK_NOTICE)


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
    rules.check_acknowledger(principal, investor_id)
    rules.check_risk_notice(version, current=current)
    investor = await store.readable_investor(uow.session, investor_id, principal, lock=True)
    investor.risk_notice_version = version
    investor.risk_acknowledged_at = datetime.now(UTC)
    await uow.session.flush()
    return _out(investor, principal, cipher)


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
    investor, payout = await store.readable_payout_account(
        uow.session, investor_id, payout_id, principal
    )
    read_for = payout.payout_id if payout else None
    # Recorded in the same transaction as the answer: no account leaves unrecorded.
    await store.record_read(
        uow.session, investor_id=investor_id, payout_id=read_for, principal=principal
    )
    account = _personal(investor, cipher).payout_account
    return InvestorPayoutAccountOut(
        **account.model_dump(), investor_id=investor_id, payout_id=read_for
    )


async def record_payout_instruction(uow: UnitOfWork, *, event: PayoutInstructed) -> None:
    """Remember which bank must pay which investor, so that bank may read the investor's
    payout account; payouts to businesses or back to a payer are not this service's."""
    investor_id = rules.payout_beneficiary(event.beneficiary, event.beneficiary_id)
    if investor_id is None:
        return
    registered = await store.find(uow.session, investor_id) is not None
    rules.check_payee_registered(event.payout_id, registered=registered)
    await store.record_instruction(uow.session, event, investor_id=investor_id)
    log.info("payout to investor recorded", payout_id=str(event.payout_id), bank_id=event.bank_id)
