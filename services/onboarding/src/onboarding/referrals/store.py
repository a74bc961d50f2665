"""A bank's referrals in the database: the bank itself, a page of the businesses it
referred, and their latest applications and funds."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.contracts.onboarding import PartnerKind
from kumiai.pagination import Page, keyset_page
from kumiai.platform_tables import partners
from onboarding.db.models import Application, Fund, Msme
from onboarding.referrals import rules

T = TypeVar("T")


async def readable_bank(session: AsyncSession, bank_id: str, principal: Principal) -> str:
    """The bank's id, if it is a registered bank whose referrals ``principal`` may read
    (``rules.check_may_read_bank``); 404 naming only the id asked for."""
    rules.check_may_read_bank(principal, bank_id)
    found = await session.scalar(
        select(partners.c.partner_id).where(
            partners.c.partner_id == bank_id, partners.c.kind == PartnerKind.BANK.value
        )
    )
    if found is None:
        raise rules.UnknownBank(f"no bank {bank_id}")
    return bank_id


async def referred_businesses(
    session: AsyncSession,
    *,
    bank_id: str,
    cursor: str | None,
    limit: int,
    item: Callable[[Msme], T],
) -> Page[T]:
    """One page of the businesses ``bank_id`` referred, oldest first (call ``readable_bank``
    first)."""
    query = select(Msme).where(Msme.referred_by_bank == bank_id)
    return await keyset_page(session, query, Msme, cursor, limit, item)


async def latest_applications(
    session: AsyncSession, msme_ids: Collection[UUID]
) -> Mapping[UUID, Application]:
    """Each business's most recent application, for those that have one."""
    if not msme_ids:
        return {}
    rows = await session.scalars(
        select(Application)
        .where(Application.msme_id.in_(msme_ids))
        .ext(distinct_on(Application.msme_id))
        .order_by(Application.msme_id, Application.created_at.desc(), Application.id.desc())
    )
    return {application.msme_id: application for application in rows}


async def funds_of(
    session: AsyncSession, msme_ids: Collection[UUID]
) -> Mapping[UUID, Sequence[Fund]]:
    """Each business's funds, oldest first."""
    if not msme_ids:
        return {}
    rows = await session.scalars(
        select(Fund).where(Fund.msme_id.in_(msme_ids)).order_by(Fund.created_at, Fund.id)
    )
    found: dict[UUID, list[Fund]] = {}
    for fund in rows:
        found.setdefault(fund.msme_id, []).append(fund)
    return found
