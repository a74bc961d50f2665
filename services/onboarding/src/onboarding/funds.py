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

from sqlalchemy import select

from kumiai.auth import Principal, Role
from kumiai.contracts.onboarding import FundCancelled, FundOpened
from kumiai.contracts.subscription import FundClosed, FundOutcome
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.pagination import Page, keyset_page
from onboarding import audit
from onboarding.applications import readable_application
from onboarding.db.models import Application, Fund, Msme
from onboarding.domain.funds import (
    FundStatus,
    FundTerms,
    InvalidFundTerms,
    RaisedFund,
    TermLimits,
    YearlyLimitExceeded,
    capital_like_debt,
    check_yearly_limit,
    opening,
    validate_terms,
    window_too_short,
)
from onboarding.domain.pipeline import Step
from onboarding.schemas import EligibilityOut, FundIn, FundOut


class FundTermsRejected(UnprocessableContent):
    problem = "fund-terms-invalid"
    title = "Fund terms break a rule"


class YearlyLimitRefused(UnprocessableContent):
    problem = "yearly-limit"
    title = "The business would raise too much within a year"


class FundStateConflict(Conflict):
    problem = "fund-state"
    title = "The fund is not in a state that allows this"


class FundExists(Conflict):
    problem = "fund-exists"
    title = "This application already has a fund"


def fund_out(fund: Fund) -> FundOut:
    terms = FundTerms.model_validate(fund.terms)
    eligibility = capital_like_debt(terms)
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


def _validated(terms: FundTerms, limits: TermLimits, now: datetime, *, where: str) -> FundTerms:
    """``terms`` if they keep every rule when published at ``now``; ``where`` prefixes the
    names of the fields at fault (``body.terms.`` for a new fund, say)."""
    try:
        validate_terms(terms, limits, now=now)
    except InvalidFundTerms as exc:
        raise FundTermsRejected(
            str(exc),
            invalid_params=[{"name": f"{where}{k}", "reason": v} for k, v in exc.problems.items()],
        ) from exc
    return terms


def _staff(principal: Principal) -> None:
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff design and publish funds")


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
    _staff(principal)
    application = await readable_application(uow, body.application_id, principal, lock=True)
    if not Step(application.step).approved:
        raise FundStateConflict(
            f"the application is at {application.step}; the committee has not approved it"
        )
    existing = await uow.session.scalar(
        select(Fund.id).where(Fund.application_id == application.id)
    )
    if existing is not None:
        raise FundExists(
            f"fund {existing} belongs to this application", existing=f"/funds/{existing}"
        )
    terms = _validated(body.terms, limits, datetime.now(UTC), where="body.terms.")
    fund = Fund(
        id=uuid.uuid4(),
        application_id=application.id,
        msme_id=application.msme_id,
        status="draft",
        created_by=principal.subject,
    )
    _set_terms(fund, terms)
    uow.session.add(fund)
    await uow.session.flush()
    await uow.session.refresh(fund)
    await audit.record(
        uow, principal, "fund.drafted", "fund", fund.id, application_id=str(application.id)
    )
    return fund_out(fund)


async def _fund(uow: UnitOfWork, fund_id: UUID, *, lock: bool = False) -> Fund:
    fund = await uow.session.get(Fund, fund_id, with_for_update=lock)
    if fund is None:
        raise NotFound(f"no fund {fund_id}")
    return fund


async def update_draft(
    uow: UnitOfWork, *, fund_id: UUID, terms: FundTerms, principal: Principal, limits: TermLimits
) -> FundOut:
    """Replace a draft's terms; published terms are frozen."""
    _staff(principal)
    fund = await _fund(uow, fund_id, lock=True)
    if fund.status != "draft":
        raise FundStateConflict(f"the fund is {fund.status}; its terms are frozen")
    _set_terms(fund, _validated(terms, limits, datetime.now(UTC), where="body."))
    await audit.record(uow, principal, "fund.terms_changed", "fund", fund.id)
    await uow.session.flush()
    return fund_out(fund)


async def _others(uow: UnitOfWork, fund: Fund, now: datetime) -> list[RaisedFund]:
    """The business's other funds that count towards its yearly limit, at their opening."""
    rows = await uow.session.scalars(
        select(Fund).where(
            Fund.msme_id == fund.msme_id,
            Fund.id != fund.id,
            Fund.status.in_(("scheduled", "open", "closed_succeeded")),
        )
    )
    return [
        RaisedFund(
            offering_start=f.opened_at or max(f.offering_start, now),
            amount=f.amount_raised
            if f.status == "closed_succeeded" and f.amount_raised is not None
            else f.target_amount,
        )
        for f in rows
    ]


async def publish(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    principal: Principal,
    limits: TermLimits,
    yearly_limit: int,
) -> FundOut:
    """Freeze the terms and schedule the offering; it opens now if its start has passed."""
    _staff(principal)
    fund = await _fund(uow, fund_id, lock=True)
    if fund.status != "draft":
        raise FundStateConflict(f"the fund is already {fund.status}")
    application = await readable_application(uow, fund.application_id, principal, lock=True)
    if Step(application.step) is not Step.READY:
        raise FundStateConflict(
            f"the application is at {application.step}; the business must confirm first"
        )
    # Serialise publications of one business, so two funds cannot both fit the limit.
    await uow.session.get(Msme, fund.msme_id, with_for_update=True)
    now = datetime.now(UTC)
    # Checked against the moment of publication: a start set in the past opens the
    # offering now, and both the minimum window and the yearly limit count from then.
    terms = _validated(FundTerms.model_validate(fund.terms), limits, now, where="terms.")
    try:
        check_yearly_limit(
            terms, await _others(uow, fund, now), limit=yearly_limit, opens_at=opening(terms, now)
        )
    except YearlyLimitExceeded as exc:
        raise YearlyLimitRefused(
            str(exc), limit=exc.limit, counted=exc.counted, this_fund=exc.this_fund
        ) from exc
    fund.status = "scheduled"
    fund.status_reason = None
    fund.terms_digest = terms.digest()
    fund.published_by = principal.subject
    fund.published_at = now
    await audit.record(
        uow, principal, "fund.published", "fund", fund.id, terms_digest=fund.terms_digest
    )
    if terms.offering_start <= now:
        await _open(uow, fund, application, now)
    await uow.session.flush()
    return fund_out(fund)


async def _open(uow: UnitOfWork, fund: Fund, application: Application, now: datetime) -> None:
    terms = FundTerms.model_validate(fund.terms)
    assert fund.terms_digest is not None
    fund.status = "open"
    fund.opened_at = now
    await uow.emit(
        FundOpened(
            fund_id=fund.id,
            msme_id=fund.msme_id,
            application_id=fund.application_id,
            name=terms.name,
            municipality_code=application.municipality_code,
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
        return await open_due_funds(uow, now, min_offering_days=min_offering_days, grace=grace)

    return run


async def open_due_funds(
    uow: UnitOfWork,
    now: datetime,
    *,
    min_offering_days: int = 0,
    grace: timedelta = timedelta(0),
) -> int:
    """Timer: open every scheduled fund whose offering has started (a batch per pass).

    A fund the timer reaches so late that less than ``min_offering_days`` (less the
    timer's own ``grace``) of its offering remain is not opened: it goes back to
    draft, unannounced, for staff to set a new window and publish again.
    """
    funds = (
        await uow.session.scalars(
            select(Fund)
            .where(Fund.status == "scheduled", Fund.offering_start <= now)
            .order_by(Fund.offering_start)
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for fund in funds:
        terms = FundTerms.model_validate(fund.terms)
        if window_too_short(terms, now, min_days=min_offering_days, grace=grace):
            await _unschedule(uow, fund, terms, now, min_offering_days)
            continue
        application = await uow.session.get(Application, fund.application_id)
        assert application is not None
        await _open(uow, fund, application, now)
    return len(funds)


async def _unschedule(
    uow: UnitOfWork, fund: Fund, terms: FundTerms, now: datetime, min_offering_days: int
) -> None:
    """Take a fund that can no longer open with its minimum window back to draft."""
    remaining = max(terms.offering_end - now, timedelta(0))
    fund.status = FundStatus.DRAFT.value
    fund.terms_digest = None
    fund.published_by = None
    fund.published_at = None
    fund.status_reason = (
        f"not opened: when the offering could open ({now.isoformat(timespec='seconds')}) "
        f"{_days(remaining)} day(s) of it remained, less than the minimum of "
        f"{min_offering_days}; set a new window and publish again"
    )
    await audit.record(
        uow,
        OPENING_TIMER,
        "fund.unscheduled",
        "fund",
        fund.id,
        reason=fund.status_reason,
    )


def _days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):.2f}"


async def cancel(uow: UnitOfWork, *, fund_id: UUID, reason: str, principal: Principal) -> FundOut:
    """Staff cancel a fund before its offering opens (``FundCancelled`` if it was published)."""
    _staff(principal)
    fund = await _fund(uow, fund_id, lock=True)
    if fund.status not in ("draft", "scheduled"):
        raise FundStateConflict(
            f"the fund is {fund.status}; an open offering is cancelled by the subscription service"
        )
    published = fund.status == "scheduled"
    fund.status = "cancelled"
    fund.status_reason = reason
    await audit.record(uow, principal, "fund.cancelled", "fund", fund.id, reason=reason)
    if published:
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


async def readable_fund(uow: UnitOfWork, fund_id: UUID, principal: Principal) -> Fund:
    """Staff; the business itself; the bank that referred it."""
    fund = await uow.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(f"no fund {fund_id}")
    try:
        await readable_application(uow, fund.application_id, principal)
    except NotFound:
        # The same answer as for a fund that does not exist: nothing of its application.
        raise NotFound(f"no fund {fund_id}") from None
    return fund


async def get(uow: UnitOfWork, *, fund_id: UUID, principal: Principal) -> FundOut:
    return fund_out(await readable_fund(uow, fund_id, principal))


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
    query = select(Fund)
    if principal.role is Role.MSME:
        if msme_id not in (None, _uuid_or_none(principal.tenant)):
            raise Forbidden("a business sees only its own funds")
        query = query.where(Fund.msme_id == _uuid_or_none(principal.tenant))
    elif principal.role is Role.BANK:
        query = query.join(Msme, Msme.id == Fund.msme_id).where(
            Msme.referred_by_bank == principal.tenant
        )
    elif not principal.is_staff():
        raise Forbidden("this role does not list funds")
    if status is not None:
        query = query.where(Fund.status == status.value)
    if msme_id is not None:
        query = query.where(Fund.msme_id == msme_id)
    return await keyset_page(uow.session, query, Fund, cursor, limit, fund_out)


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def record_closing(uow: UnitOfWork, event: FundClosed) -> None:
    """The offering ended: remember the outcome and what was raised (for the yearly limit)."""
    fund = await uow.session.get(Fund, event.fund_id, with_for_update=True)
    if fund is None or fund.status.startswith("closed_"):
        return
    succeeded = event.outcome is FundOutcome.SUCCEEDED
    fund.status = "closed_succeeded" if succeeded else "closed_failed"
    fund.amount_raised = event.amount_raised if succeeded else 0
