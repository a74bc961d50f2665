"""Grants in the database: what the ledger keeps of municipalities' grants."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.db.models import Grant
from ledger.grants.rules import GrantStatus


async def add_grant(session: AsyncSession, row: dict[str, Any]) -> Grant | None:
    """Keep a grant once; ``None`` if it was kept before (a redelivery).

    A second grant for the same fund is refused by ``uq_grants_fund_id`` (the handler
    fails loudly: the release books one municipality's share).
    """
    inserted = await session.scalar(
        insert(Grant)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[Grant.award_id])
        .returning(Grant.award_id)
    )
    if inserted is None:
        return None
    return await session.get(Grant, row["award_id"])


async def reference_of(session: AsyncSession, *, award_id: UUID) -> str | None:
    """The normalised payment reference of a grant (to take its lock before its row)."""
    return await session.scalar(
        select(Grant.reference_normalised).where(Grant.award_id == award_id)
    )


async def held_reference(session: AsyncSession, *, fund_id: UUID) -> str | None:
    """The reference of the grant held for a fund's release, if there is one."""
    return await session.scalar(
        select(Grant.reference_normalised).where(
            Grant.fund_id == fund_id, Grant.status == GrantStatus.GRANTED.value
        )
    )


async def grant_for_update(session: AsyncSession, *, award_id: UUID) -> Grant | None:
    return await session.get(Grant, award_id, with_for_update=True)


async def held_for_update(session: AsyncSession, *, fund_id: UUID) -> Grant | None:
    """The grant held for a fund's release, locked."""
    return await session.scalar(
        select(Grant)
        .where(Grant.fund_id == fund_id, Grant.status == GrantStatus.GRANTED.value)
        .with_for_update()
    )


async def by_reference_for_update(session: AsyncSession, reference: str) -> Grant | None:
    """The grant whose (normalised) payment reference this is, locked."""
    return await session.scalar(
        select(Grant).where(Grant.reference_normalised == reference).with_for_update()
    )


async def grant_of_fund(session: AsyncSession, *, fund_id: UUID) -> Grant | None:
    """A fund's grant, whatever its status."""
    return await session.scalar(select(Grant).where(Grant.fund_id == fund_id))
