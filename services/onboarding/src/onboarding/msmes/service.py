"""Businesses (MSMEs): registering them and reading them."""

from __future__ import annotations

import uuid
from datetime import UTC
from uuid import UUID

from kumiai.auth import Principal
from kumiai.contracts.onboarding import MsmeRegistered
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.db.models import Msme
from onboarding.msmes import rules, store
from onboarding.msmes.schemas import MsmeContactOut, MsmeIn, MsmeOut


def msme_out(msme: Msme, principal: Principal) -> MsmeOut:
    """The business as ``principal`` may see it (contact details: ``rules.may_see_contact``)."""
    return MsmeOut(
        id=msme.id,
        corporate_number=msme.corporate_number,
        company_name=msme.company_name,
        prefecture_code=msme.prefecture_code,
        prefecture_name=rules.PREFECTURES[msme.prefecture_code],
        municipality_code=msme.municipality_code,
        industry=msme.industry,
        head_office_address=msme.head_office_address,
        referred_by_bank=msme.referred_by_bank,
        created_at=msme.created_at,
        contact=MsmeContactOut(
            representative_name=msme.representative_name,
            contact_name=msme.contact_name,
            contact_email=msme.contact_email,
            contact_phone=msme.contact_phone,
        )
        if rules.may_see_contact(principal, msme)
        else None,
    )


async def register(uow: UnitOfWork, *, body: MsmeIn, principal: Principal) -> MsmeOut:
    """Register a business once per Corporate Number; a bank's registration is its referral.

    A registration that loses a race to another of the same number (or id) is
    answered 409 as well (``store.insert_once``).
    """
    rules.check_identity(
        corporate_number=body.corporate_number,
        prefecture_code=body.prefecture_code,
        municipality_code=body.municipality_code,
        industry=body.industry,
    )
    session = uow.session
    existing = await store.holder_of(session, body.corporate_number)
    if existing is not None:
        raise rules.already_registered(body.corporate_number, existing, principal)
    msme_id = rules.registrant_id(principal) or uuid.uuid4()
    if await store.exists(session, msme_id):
        raise rules.id_already_registered(msme_id)
    referred_by_bank = rules.referring_bank(principal)
    msme = Msme(
        id=msme_id,
        referred_by_bank=referred_by_bank,
        registered_by=principal.subject,
        **body.model_dump(),
    )
    if not await store.insert_once(session, msme):
        existing = await store.holder_of(session, body.corporate_number)
        if existing is not None:
            raise rules.already_registered(body.corporate_number, existing, principal)
        raise rules.id_already_registered(msme_id)
    await audit.record(
        uow,
        principal=principal,
        action="msme.registered",
        entity=AuditEntity.MSME,
        entity_id=msme.id,
        corporate_number=msme.corporate_number,
        referred_by_bank=referred_by_bank,
    )
    await uow.emit(
        MsmeRegistered(
            msme_id=msme.id,
            corporate_number=msme.corporate_number,
            company_name=msme.company_name,
            prefecture_code=msme.prefecture_code,
            municipality_code=msme.municipality_code,
            industry=msme.industry,
            referred_by_bank=referred_by_bank,
            registered_at=msme.created_at.astimezone(UTC),
        ),
        subject=str(msme.id),
    )
    return msme_out(msme, principal)


async def readable(uow: UnitOfWork, *, msme_id: UUID, principal: Principal) -> Msme:
    """The business, if ``principal`` may read it; 404 otherwise (its existence stays private)."""
    return await store.readable_msme(uow.session, msme_id, principal)


async def get(uow: UnitOfWork, *, msme_id: UUID, principal: Principal) -> MsmeOut:
    """One business as the caller may see it."""
    return msme_out(await readable(uow, msme_id=msme_id, principal=principal), principal)


async def list_msmes(
    uow: UnitOfWork,
    *,
    principal: Principal,
    prefecture_code: str | None,
    municipality_code: str | None,
    referring_bank: str | None,
    cursor: str | None,
    limit: int,
) -> Page[MsmeOut]:
    """Businesses oldest first; a bank sees only those it referred."""
    return await store.readable_msmes(
        uow.session,
        principal=principal,
        prefecture_code=prefecture_code,
        municipality_code=municipality_code,
        referring_bank=referring_bank,
        cursor=cursor,
        limit=limit,
        item=lambda m: msme_out(m, principal),
    )
