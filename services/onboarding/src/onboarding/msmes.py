"""Registering businesses and reading them; who may see what."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kumiai.auth import Principal, Role
from kumiai.contracts.onboarding import MsmeRegistered
from kumiai.db import UnitOfWork, sqlstate
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.pagination import Page, keyset_page
from onboarding import audit
from onboarding.db.models import Msme
from onboarding.domain.identifiers import (
    PREFECTURES,
    InvalidIdentifier,
    validate_corporate_number,
    validate_industry,
    validate_municipality_code,
    validate_prefecture_code,
)
from onboarding.schemas import MsmeContactOut, MsmeIn, MsmeOut

UNIQUE_VIOLATION = "23505"


class InvalidIdentity(UnprocessableContent):
    problem = "invalid-identity"
    title = "The business's identifiers do not check out"


class AlreadyRegistered(Conflict):
    problem = "already-registered"
    title = "A business with this Corporate Number is already registered"


def check_identity(body: MsmeIn) -> None:
    """Validate every identifier at once, naming each field at fault."""
    checks: dict[str, Callable[[], str]] = {
        "corporate_number": lambda: validate_corporate_number(body.corporate_number),
        "prefecture_code": lambda: validate_prefecture_code(body.prefecture_code),
        "municipality_code": lambda: validate_municipality_code(
            body.municipality_code, prefecture=body.prefecture_code
        ),
        "industry": lambda: validate_industry(body.industry),
    }
    problems = {}
    for field, check in checks.items():
        try:
            check()
        except InvalidIdentifier as exc:
            problems[field] = str(exc)
    if problems:
        raise InvalidIdentity(
            "; ".join(problems.values()),
            invalid_params=[{"name": f"body.{k}", "reason": v} for k, v in problems.items()],
        )


def msme_out(msme: Msme, principal: Principal) -> MsmeOut:
    personal = principal.is_staff() or (
        principal.role is Role.MSME and principal.tenant == str(msme.id)
    )
    return MsmeOut(
        id=msme.id,
        corporate_number=msme.corporate_number,
        company_name=msme.company_name,
        prefecture_code=msme.prefecture_code,
        prefecture_name=PREFECTURES[msme.prefecture_code],
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
        if personal
        else None,
    )


def may_read(principal: Principal, msme: Msme) -> bool:
    """Staff see every business; a business itself; a bank the ones it referred."""
    match principal.role:
        case Role.STAFF:
            return True
        case Role.MSME:
            return principal.tenant == str(msme.id)
        case Role.BANK:
            return msme.referred_by_bank == principal.tenant
        case _:
            return False


async def readable_msme(uow: UnitOfWork, msme_id: UUID, principal: Principal) -> Msme:
    """The business, if ``principal`` may read it; 404 otherwise (its existence stays private)."""
    msme = await uow.session.get(Msme, msme_id)
    if msme is None or not may_read(principal, msme):
        raise NotFound(f"no business {msme_id}")
    return msme


def already_registered(
    corporate_number: str, existing: UUID, principal: Principal
) -> AlreadyRegistered:
    """The 409 for a known Corporate Number: only staff learn which business holds it."""
    if not principal.is_staff():
        return AlreadyRegistered(f"corporate number {corporate_number} is already registered")
    return AlreadyRegistered(
        f"corporate number {corporate_number} is registered as business {existing}",
        existing_id=str(existing),
        existing=f"/msmes/{existing}",
    )


def _new_id(principal: Principal) -> UUID:
    if principal.role is not Role.MSME:
        return uuid.uuid4()
    # A business registering itself: its token's tenant is the id it will have.
    try:
        return UUID(principal.tenant)
    except ValueError:
        raise Forbidden("a business's token must carry its id as tenant") from None


async def register(uow: UnitOfWork, *, body: MsmeIn, principal: Principal) -> MsmeOut:
    """Register a business once per Corporate Number; a bank's registration is its referral.

    The database holds the rule too (``uq_msmes_corporate_number``, and the id's
    primary key): a registration that loses a race to another is answered 409 as well.
    """
    check_identity(body)
    session = uow.session
    existing = await session.scalar(
        select(Msme.id).where(Msme.corporate_number == body.corporate_number)
    )
    if existing is not None:
        raise already_registered(body.corporate_number, existing, principal)
    msme_id = _new_id(principal)
    if await session.get(Msme, msme_id) is not None:
        raise AlreadyRegistered(
            f"business {msme_id} is already registered", existing_id=str(msme_id)
        )
    referred_by_bank = principal.tenant if principal.role is Role.BANK else None
    msme = Msme(
        id=msme_id,
        referred_by_bank=referred_by_bank,
        registered_by=principal.subject,
        **body.model_dump(),
    )
    try:
        async with session.begin_nested():
            session.add(msme)
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != UNIQUE_VIOLATION:
            raise
        # Another registration of the same number (or id) committed first.
        existing = await session.scalar(
            select(Msme.id).where(Msme.corporate_number == body.corporate_number)
        )
        if existing is not None:
            raise already_registered(body.corporate_number, existing, principal) from None
        raise AlreadyRegistered(
            f"business {msme_id} is already registered", existing_id=str(msme_id)
        ) from None
    await session.refresh(msme)
    await audit.record(
        uow,
        principal,
        "msme.registered",
        "msme",
        msme.id,
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


async def get(uow: UnitOfWork, *, msme_id: UUID, principal: Principal) -> MsmeOut:
    return msme_out(await readable_msme(uow, msme_id, principal), principal)


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
    query = select(Msme)
    if principal.role is Role.BANK:
        if referring_bank not in (None, principal.tenant):
            raise Forbidden("a bank sees only the businesses it referred")
        referring_bank = principal.tenant
    elif not principal.is_staff():
        raise Forbidden("only staff and partner banks list businesses")
    if prefecture_code is not None:
        query = query.where(Msme.prefecture_code == prefecture_code)
    if municipality_code is not None:
        query = query.where(Msme.municipality_code == municipality_code)
    if referring_bank is not None:
        query = query.where(Msme.referred_by_bank == referring_bank)
    return await keyset_page(
        uow.session, query, Msme, cursor, limit, lambda m: msme_out(m, principal)
    )
