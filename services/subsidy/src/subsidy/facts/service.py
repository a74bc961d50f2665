"""What the service learns from onboarding's and subscription's events: businesses'
onboarding applications (and their municipality) and funds (their arrangement fee, their
outcome and what they raised). Every function is idempotent and takes events in any order."""

from __future__ import annotations

from uuid import UUID

from kumiai.contracts.onboarding import (
    ApplicationDecided,
    ApplicationSubmitted,
    FundCancelled,
    FundOpenedV1,
    FundOpenedV2,
)
from kumiai.contracts.subscription import FundClosed
from kumiai.db import UnitOfWork
from subsidy.db.models import FundFact
from subsidy.facts import rules, store
from subsidy.facts.rules import FundFacts, FundStatus, OnboardingApplication, OnboardingStatus


async def record_submission(uow: UnitOfWork, *, event: ApplicationSubmitted) -> None:
    """Learn a business's onboarding application and the municipality it names."""
    row = await store.locked_onboarding_application(
        uow.session,
        event.application_id,
        msme_id=event.msme_id,
        municipality_code=event.municipality_code,
        status=OnboardingStatus.SUBMITTED,
    )
    row.status = rules.onboarding_status_after(OnboardingStatus(row.status), None).value
    row.submitted_at = event.submitted_at


async def record_decision(uow: UnitOfWork, *, event: ApplicationDecided) -> None:
    """Learn that an onboarding application was approved, rejected or withdrawn."""
    row = await store.locked_onboarding_application(
        uow.session,
        event.application_id,
        msme_id=event.msme_id,
        municipality_code=event.municipality_code,
        status=rules.onboarding_status_after(None, event.outcome),
    )
    row.status = rules.onboarding_status_after(OnboardingStatus(row.status), event.outcome).value
    row.municipality_code = event.municipality_code
    row.decided_at = event.decided_at


async def record_opening(uow: UnitOfWork, *, event: FundOpenedV2 | FundOpenedV1) -> None:
    """Learn a fund's onboarding application and arrangement fee (``FundOpened`` v2 or
    later; v1 names no application, so no programme could pay into it: ignored)."""
    if not isinstance(event, FundOpenedV2):
        return
    row = await store.locked_fund(uow.session, event.fund_id, status=FundStatus.OPEN)
    row.status = rules.fund_status_after(FundStatus(row.status), FundStatus.OPEN).value
    row.application_id = event.application_id
    row.msme_id = event.msme_id
    row.name = event.name
    row.municipality_code = event.municipality_code
    row.arrangement_fee = event.fees.arrangement_fee
    row.currency = event.currency
    row.opened_at = event.offering_start


async def record_cancellation(uow: UnitOfWork, *, event: FundCancelled) -> FundFacts:
    """Learn that staff cancelled a fund before its offering opened."""
    row = await store.locked_fund(uow.session, event.fund_id, status=FundStatus.CANCELLED)
    row.status = rules.fund_status_after(FundStatus(row.status), FundStatus.CANCELLED).value
    row.application_id = row.application_id or event.application_id
    row.msme_id = row.msme_id or event.msme_id
    row.cancelled_at = event.cancelled_at
    return facts_of(row)


async def record_closing(uow: UnitOfWork, *, event: FundClosed) -> FundFacts:
    """Learn that a fund formed (and what it raised) or failed."""
    told = rules.closed_status(event.outcome)
    row = await store.locked_fund(uow.session, event.fund_id, status=told)
    row.status = rules.fund_status_after(FundStatus(row.status), told).value
    row.msme_id = row.msme_id or event.msme_id
    row.amount_raised = event.amount_raised
    row.closed_at = event.closed_at
    return facts_of(row)


async def onboarding_application(
    uow: UnitOfWork, application_id: UUID
) -> OnboardingApplication | None:
    """The onboarding application as its events told it, if any was heard."""
    row = await store.onboarding_application(uow.session, application_id)
    if row is None:
        return None
    return OnboardingApplication(
        application_id=row.application_id,
        msme_id=row.msme_id,
        municipality_code=row.municipality_code,
        status=OnboardingStatus(row.status),
    )


async def funds_of_application(uow: UnitOfWork, application_id: UUID) -> list[FundFacts]:
    """The funds opened for the onboarding application, as their events told them."""
    return [facts_of(row) for row in await store.funds_of_application(uow.session, application_id)]


def facts_of(row: FundFact) -> FundFacts:
    return FundFacts(
        fund_id=row.fund_id,
        application_id=row.application_id,
        msme_id=row.msme_id,
        name=row.name,
        arrangement_fee=row.arrangement_fee,
        currency=row.currency,
        status=FundStatus(row.status),
        amount_raised=row.amount_raised,
        opened_at=row.opened_at,
    )
