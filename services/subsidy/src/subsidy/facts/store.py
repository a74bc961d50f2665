"""What events told of onboarding applications and funds, in the database: each row is
created by the first event that names it and locked while an event changes it."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.db.models import FundFact, OnboardingApplicationFact
from subsidy.facts.rules import FundStatus, OnboardingStatus


async def locked_onboarding_application(
    session: AsyncSession,
    application_id: UUID,
    *,
    msme_id: UUID,
    municipality_code: str,
    status: OnboardingStatus,
) -> OnboardingApplicationFact:
    """The application's row, created with what the event says if it is the first to name
    it, and locked until the transaction ends (two deliveries take turns)."""
    await session.execute(
        insert(OnboardingApplicationFact)
        .values(
            application_id=application_id,
            msme_id=msme_id,
            municipality_code=municipality_code,
            status=status.value,
        )
        .on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(OnboardingApplicationFact)
        .where(OnboardingApplicationFact.application_id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def onboarding_application(
    session: AsyncSession, application_id: UUID
) -> OnboardingApplicationFact | None:
    return await session.get(OnboardingApplicationFact, application_id)


async def locked_fund(session: AsyncSession, fund_id: UUID, *, status: FundStatus) -> FundFact:
    """The fund's row, created with ``status`` if this event is the first to name it, and
    locked until the transaction ends."""
    await session.execute(
        insert(FundFact).values(fund_id=fund_id, status=status.value).on_conflict_do_nothing()
    )
    row = await session.scalar(
        select(FundFact)
        .where(FundFact.fund_id == fund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def funds_of_application(session: AsyncSession, application_id: UUID) -> list[FundFact]:
    """Every fund opened for the onboarding application (usually one)."""
    rows = await session.scalars(select(FundFact).where(FundFact.application_id == application_id))
    return list(rows)
