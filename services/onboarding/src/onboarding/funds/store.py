"""Funds in the database: lookups, the timer's due funds, and what a caller may read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.pagination import Page, keyset_page
from kumiai.problems import NotFound
from onboarding.db.models import Application, Fund, Msme
from onboarding.funds import rules
from onboarding.funds.rules import FundStatus

T = TypeVar("T")

DUE_BATCH = 100
"""How many due funds one pass of the opening timer takes."""


async def find(session: AsyncSession, fund_id: UUID, *, lock: bool = False) -> Fund | None:
    """The fund, if there is one (``lock``: for the change that follows)."""
    return await session.get(Fund, fund_id, with_for_update=lock)


async def fund_of_application(session: AsyncSession, application_id: UUID) -> UUID | None:
    """The fund designed for an application, if any."""
    return await session.scalar(select(Fund.id).where(Fund.application_id == application_id))


async def insert(session: AsyncSession, new: Fund) -> None:
    """Write a new fund; ``uq_funds_application_id`` refuses a second one for its application."""
    session.add(new)
    await session.flush()
    await session.refresh(new)


async def lock_business(session: AsyncSession, msme_id: UUID) -> None:
    """Make publications of one business take turns (``rules.check_yearly_limit``)."""
    # rules.check_yearly_limit: the business's row is held until the commit, so two funds
    # published at once cannot both fit the same room under the limit.
    await session.get(Msme, msme_id, with_for_update=True)


async def counted_funds(
    session: AsyncSession, *, msme_id: UUID, other_than: UUID
) -> Sequence[Fund]:
    """The business's other funds that count towards its yearly limit."""
    return (
        await session.scalars(
            select(Fund).where(
                Fund.msme_id == msme_id,
                Fund.id != other_than,
                Fund.status.in_([s.value for s in rules.COUNTED_TOWARDS_LIMIT]),
            )
        )
    ).all()


async def due_funds(session: AsyncSession, now: datetime) -> Sequence[Fund]:
    """Scheduled funds whose offering has started, claimed for this pass of the opening timer.

    Rows another pass holds are skipped, so a fund opens once however many timers run.
    """
    return (
        await session.scalars(
            select(Fund)
            .where(Fund.status == FundStatus.SCHEDULED.value, Fund.offering_start <= now)
            .order_by(Fund.offering_start)
            .limit(DUE_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def readable_fund(
    session: AsyncSession, fund_id: UUID, principal: Principal, *, lock: bool = False
) -> Fund:
    """The fund, if ``principal`` may read it (``rules.may_read``); 404 naming only its id.

    Nothing of its application is told: a fund the caller may not see does not exist.
    ``lock`` holds the fund's row for the change that follows.
    """
    found = await find(session, fund_id, lock=lock)
    if found is None:
        raise NotFound(f"no fund {fund_id}")
    application = await session.get(Application, found.application_id)
    assert application is not None
    msme = await session.get(Msme, application.msme_id)
    assert msme is not None
    if not rules.may_read(principal, application, msme):
        raise NotFound(f"no fund {fund_id}")
    return found


async def readable_funds(
    session: AsyncSession,
    *,
    principal: Principal,
    status: FundStatus | None,
    msme_id: UUID | None,
    cursor: str | None,
    limit: int,
    item: Callable[[Fund], T],
) -> Page[T]:
    """One page of the funds ``principal`` may list (``rules.listing``), oldest first."""
    scope = rules.listing(principal, msme_id=msme_id)
    query = select(Fund)
    if scope.only_business:
        query = query.where(false() if scope.msme_id is None else Fund.msme_id == scope.msme_id)
    if scope.referring_bank is not None:
        query = query.join(Msme, Msme.id == Fund.msme_id).where(
            Msme.referred_by_bank == scope.referring_bank
        )
    if status is not None:
        query = query.where(Fund.status == status.value)
    if msme_id is not None:
        query = query.where(Fund.msme_id == msme_id)
    return await keyset_page(session, query, Fund, cursor, limit, item)
