"""Funds: designed for an approved application, frozen and scheduled when published.

At its offering start (or at once, if that has passed) a published fund opens:
onboarding emits ``FundOpened`` (v2) with every term. The opening is driven
from the database (``open_due_funds``), so a restart misses none and none
opens twice. The minimum offering period counts from when the offering
actually opens: a fund published with a start in the past, or opened late by
the timer, must still have ``min_offering_days`` ahead of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from kumiai.auth import Principal, Role
from kumiai.contracts.onboarding import FundCancelled, FundOpened
from kumiai.contracts.subscription import FundClosed
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from onboarding.applications import service as applications
from onboarding.applications.rules import Step
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.db.models import Fund
from onboarding.funds import rules, store
from onboarding.funds.rules import FundStatus, FundTerms, TermLimits
from onboarding.funds.schemas import EligibilityOut, FundIn, FundOut


def fund_out(fund: Fund) -> FundOut:
    """The fund as answered, with what its terms imply (target, ECLDB eligibility)."""
    terms = FundTerms.model_validate(fund.terms)
    eligibility = rules.capital_like_debt(terms)
    return FundOut(
        id=fund.id,
        application_id=fund.application_id,
        msme_id=fund.msme_id,
        status=FundStatus(fund.status),
        terms=terms,
        target_amount=terms.target_amount,
        investment_per_unit=terms.investment_per_unit,
        capital_like_debt=EligibilityOut(
            eligible=eligibility.eligible, reasons=eligibility.reasons
        ),
        terms_digest=fund.terms_digest,
        amount_raised=fund.amount_raised,
        status_reason=fund.status_reason,
        created_at=fund.created_at,
        published_at=fund.published_at,
        opened_at=fund.opened_at,
    )


def _set_terms(fund: Fund, terms: FundTerms) -> None:
    fund.terms = terms.model_dump(mode="json")
    fund.name = terms.name
    fund.currency = terms.currency
    fund.target_amount = terms.target_amount
    fund.offering_start = terms.offering_start
    fund.offering_end = terms.offering_end


async def create_draft(
    uow: UnitOfWork, *, body: FundIn, principal: Principal, limits: TermLimits
) -> FundOut:
    """Staff design the fund of an application the investment committee approved."""
    rules.check_staff(principal)
    application = await applications.readable(
        uow, application_id=body.application_id, principal=principal, lock=True
    )
    rules.check_designable(Step(application.step))
    rules.check_first_fund(await store.fund_of_application(uow.session, application.id))
    terms = rules.validate_terms(body.terms, limits, now=datetime.now(UTC), where="body.terms.")
    fund = Fund(
        id=uuid.uuid4(),
        application_id=application.id,
        msme_id=application.msme_id,
        status=FundStatus.DRAFT.value,
        created_by=principal.subject,
    )
    _set_terms(fund, terms)
    await store.insert(uow.session, fund)
    await audit.record(
        uow,
        principal=principal,
        action="fund.drafted",
        entity=AuditEntity.FUND,
        entity_id=fund.id,
        application_id=str(application.id),
    )
    return fund_out(fund)


async def update_draft(
    uow: UnitOfWork, *, fund_id: UUID, terms: FundTerms, principal: Principal, limits: TermLimits
) -> FundOut:
    """Replace a draft's terms; published terms are frozen."""
    rules.check_staff(principal)
    fund = await store.readable_fund(uow.session, fund_id, principal, lock=True)
    rules.check_editable(FundStatus(fund.status))
    _set_terms(fund, rules.validate_terms(terms, limits, now=datetime.now(UTC), where="body."))
    await audit.record(
        uow,
        principal=principal,
        action="fund.terms_changed",
        entity=AuditEntity.FUND,
        entity_id=fund.id,
    )
    await uow.session.flush()
    return fund_out(fund)


async def publish(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    principal: Principal,
    limits: TermLimits,
    yearly_limit: int,
) -> FundOut:
    """Freeze the terms and schedule the offering; it opens now if its start has passed."""
    rules.check_staff(principal)
    session = uow.session
    fund = await store.readable_fund(session, fund_id, principal, lock=True)
    rules.check_publishable(FundStatus(fund.status))
    application = await applications.readable(
        uow, application_id=fund.application_id, principal=principal, lock=True
    )
    rules.check_ready(Step(application.step))
    await store.lock_business(session, fund.msme_id)
    now = datetime.now(UTC)
    # Checked against the moment of publication: a start set in the past opens the
    # offering now, and both the minimum window and the yearly limit count from then.
    terms = rules.validate_terms(
        FundTerms.model_validate(fund.terms), limits, now=now, where="terms."
    )
    others = await store.counted_funds(session, msme_id=fund.msme_id, other_than=fund.id)
    rules.check_yearly_limit(
        terms,
        [rules.raised_fund(other, now) for other in others],
        limit=yearly_limit,
        opens_at=rules.opening(terms, now),
    )
    fund.status = FundStatus.SCHEDULED.value
    fund.status_reason = None
    fund.terms_digest = terms.digest()
    fund.published_by = principal.subject
    fund.published_at = now
    await audit.record(
        uow,
        principal=principal,
        action="fund.published",
        entity=AuditEntity.FUND,
        entity_id=fund.id,
        terms_digest=fund.terms_digest,
    )
    if rules.opens_at_publication(terms, now):
        await _open(uow, fund, municipality_code=application.municipality_code, now=now)
    await session.flush()
    return fund_out(fund)


async def _open(uow: UnitOfWork, fund: Fund, *, municipality_code: str, now: datetime) -> None:
    terms = FundTerms.model_validate(fund.terms)
    assert fund.terms_digest is not None
    fund.status = FundStatus.OPEN.value
    fund.opened_at = now
    await uow.emit(
        FundOpened(
            fund_id=fund.id,
            msme_id=fund.msme_id,
            application_id=fund.application_id,
            name=terms.name,
            municipality_code=municipality_code,
            currency=terms.currency,
            unit_price=terms.unit_price,
            handling_fee_per_unit=terms.handling_fee_per_unit,
            donation_per_unit=terms.donation_per_unit,
            units_offered=terms.units_offered,
            formation_threshold_units=terms.formation_threshold_units,
            max_units_per_investor=terms.max_units_per_investor,
            offering_start=terms.offering_start,
            offering_end=terms.offering_end,
            term_months=terms.term_months,
            settlement=terms.settlement,
            revenue_share=terms.revenue_share,
            fees=terms.fees,
            perks_per_unit=terms.perks_per_unit,
            subordinated=terms.subordinated,
            terms_digest=fund.terms_digest,
        ),
        subject=str(fund.id),
    )


OPENING_TIMER = Principal(subject="onboarding:open-funds", role=Role.SERVICE, tenant="onboarding")
"""Who the audit trail names for what the opening timer does."""


def fund_opener(
    *, min_offering_days: int, grace: timedelta
) -> Callable[[UnitOfWork, datetime], Awaitable[int]]:
    """The opening timer's pass, with the minimum window it must leave each offering."""

    async def run(uow: UnitOfWork, now: datetime) -> int:
        return await open_due_funds(uow, now=now, min_offering_days=min_offering_days, grace=grace)

    return run


async def open_due_funds(
    uow: UnitOfWork,
    *,
    now: datetime,
    min_offering_days: int = 0,
    grace: timedelta = timedelta(0),
) -> int:
    """Timer: open every scheduled fund whose offering has started (a batch per pass).

    A fund the timer reaches so late that less than ``min_offering_days`` (less the
    timer's own ``grace``) of its offering remain is not opened: it goes back to
    draft, unannounced, for staff to set a new window and publish again.
    """
    funds = await store.due_funds(uow.session, now)
    for fund in funds:
        terms = FundTerms.model_validate(fund.terms)
        if rules.window_too_short(terms, now, min_days=min_offering_days, grace=grace):
            await _unschedule(uow, fund, terms, now, min_offering_days)
            continue
        municipality_code = await applications.municipality_of(
            uow, application_id=fund.application_id
        )
        await _open(uow, fund, municipality_code=municipality_code, now=now)
    return len(funds)


async def _unschedule(
    uow: UnitOfWork, fund: Fund, terms: FundTerms, now: datetime, min_offering_days: int
) -> None:
    """Take a fund that can no longer open with its minimum window back to draft."""
    fund.status = FundStatus.DRAFT.value
    fund.terms_digest = None
    fund.published_by = None
    fund.published_at = None
    fund.status_reason = rules.unscheduled_reason(terms, now, min_offering_days)
    await audit.record(
        uow,
        principal=OPENING_TIMER,
        action="fund.unscheduled",
        entity=AuditEntity.FUND,
        entity_id=fund.id,
        reason=fund.status_reason,
    )


async def cancel(uow: UnitOfWork, *, fund_id: UUID, reason: str, principal: Principal) -> FundOut:
    """Staff cancel a fund before its offering opens (``FundCancelled`` if it was published)."""
    rules.check_staff(principal)
    fund = await store.readable_fund(uow.session, fund_id, principal, lock=True)
    announce = rules.cancellation(FundStatus(fund.status))
    fund.status = FundStatus.CANCELLED.value
    fund.status_reason = reason
    await audit.record(
        uow,
        principal=principal,
        action="fund.cancelled",
        entity=AuditEntity.FUND,
        entity_id=fund.id,
        reason=reason,
    )
    if announce:
        await uow.emit(
            FundCancelled(
                fund_id=fund.id,
                msme_id=fund.msme_id,
                application_id=fund.application_id,
                reason=reason,
                cancelled_at=datetime.now(UTC),
            ),
            subject=str(fund.id),
        )
    await uow.session.flush()
    return fund_out(fund)


async def get(uow: UnitOfWork, *, fund_id: UUID, principal: Principal) -> FundOut:
    """One fund, if the caller may see its application: staff, the business, its bank."""
    return fund_out(await store.readable_fund(uow.session, fund_id, principal))


async def list_funds(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: FundStatus | None,
    msme_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[FundOut]:
    """Funds oldest first; a business sees its own (staff: every fund)."""
    return await store.readable_funds(
        uow.session,
        principal=principal,
        status=status,
        msme_id=msme_id,
        cursor=cursor,
        limit=limit,
        item=fund_out,
    )


async def record_closing(uow: UnitOfWork, *, event: FundClosed) -> None:
    """The offering ended: remember the outcome, what was raised (for the yearly limit) and
    when (a formed fund's term runs from then); a repeated announcement changes nothing."""
    fund = await store.find(uow.session, event.fund_id, lock=True)
    if fund is None:
        return
    closed = rules.closing(FundStatus(fund.status), event.outcome, event.amount_raised)
    if closed is None:
        return
    status, raised = closed
    fund.status = status.value
    fund.amount_raised = raised
    fund.closed_at = event.closed_at
