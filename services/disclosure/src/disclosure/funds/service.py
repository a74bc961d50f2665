"""Funds and holdings as the other services' events tell them, and the calendar of a
formed fund's reports."""

from __future__ import annotations

from uuid import UUID

from disclosure.db.models import Fund, Investment
from disclosure.deadlines import service as deadlines
from disclosure.deadlines.rules import DueMonths
from disclosure.funds import rules, store
from disclosure.funds.rules import FundOutcome, Span
from kumiai.contracts.onboarding import AnyFundOpened, FundCancelled
from kumiai.contracts.subscription import (
    FundClosed,
    SubscriptionCancelled,
    SubscriptionConfirmed,
)
from kumiai.contracts.subscription import FundOutcome as ClosingOutcome
from kumiai.db import UnitOfWork
from kumiai.periods import japan_date
from kumiai.principal import Principal, Role
from kumiai.problems import NotFound


class UnknownFund(NotFound):
    problem = "unknown-fund"
    title = "No such fund"


async def record_opening(uow: UnitOfWork, *, event: AnyFundOpened, due: DueMonths) -> Fund:
    """Keep the fund's terms as published; make its calendar if it already closed formed."""
    fund = await store.known_fund(uow.session, event.fund_id)
    if fund.terms is None:
        fund.msme_id = event.msme_id
        fund.name = event.name
        fund.terms = event.model_dump(mode="json")
        fund.terms_digest = getattr(event, "terms_digest", None)
    await _schedule_if_ready(uow, fund, due)
    return fund


async def record_closing(uow: UnitOfWork, *, event: FundClosed, due: DueMonths) -> None:
    """Keep how the offering ended; a formed fund gets its calendar of reports."""
    fund = await store.known_fund(uow.session, event.fund_id)
    if fund.outcome is None:
        formed = event.outcome is ClosingOutcome.SUCCEEDED
        fund.outcome = (FundOutcome.FORMED if formed else FundOutcome.FAILED).value
        fund.closed_at = event.closed_at
        fund.units_confirmed = event.units_confirmed
        fund.msme_id = fund.msme_id or event.msme_id
    await _schedule_if_ready(uow, fund, due)


async def record_cancellation(uow: UnitOfWork, *, event: FundCancelled) -> None:
    """A fund cancelled before it opened never reports."""
    fund = await store.known_fund(uow.session, event.fund_id)
    if fund.outcome is None:
        fund.outcome = FundOutcome.CANCELLED.value
        fund.closed_at = event.cancelled_at
        fund.msme_id = fund.msme_id or event.msme_id


async def _schedule_if_ready(uow: UnitOfWork, fund: Fund, due: DueMonths) -> None:
    if fund.scheduled or fund.outcome != FundOutcome.FORMED.value or fund.terms is None:
        return
    periods, years = calendar_of(fund)
    if not periods:  # a v1 opening carries no settlement terms
        return
    assert fund.msme_id is not None
    await deadlines.schedule(
        uow,
        fund_id=fund.fund_id,
        msme_id=fund.msme_id,
        periods=periods,
        fiscal_years=years,
        due=due,
    )
    fund.scheduled = True


def calendar_of(fund: Fund) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """The fund's settlement periods and fiscal years; none until it formed."""
    terms = fund.terms or {}
    settlement = terms.get("settlement")
    if fund.outcome != FundOutcome.FORMED.value or fund.closed_at is None or not settlement:
        return (), ()
    formed_on = japan_date(fund.closed_at)
    periods = rules.settlement_periods(
        formed_on=formed_on,
        term_months=terms["term_months"],
        fiscal_year_end_month=settlement["fiscal_year_end_month"],
        periods_per_year=settlement["periods_per_year"],
    )
    years = rules.fiscal_years(
        formed_on=formed_on,
        term_months=terms["term_months"],
        fiscal_year_end_month=settlement["fiscal_year_end_month"],
    )
    return periods, years


async def record_confirmation(uow: UnitOfWork, *, event: SubscriptionConfirmed) -> None:
    """The investor paid: it holds units of the fund from now on."""
    row = await _investment(uow, event)
    row.confirmed_at = row.confirmed_at or event.confirmed_at


async def record_cancellation_of_subscription(
    uow: UnitOfWork, *, event: SubscriptionCancelled
) -> None:
    """A cancelled subscription stops holding; one that was confirmed still counts as held."""
    row = await _investment(uow, event)
    row.cancelled_at = row.cancelled_at or event.cancelled_at


async def _investment(
    uow: UnitOfWork, event: SubscriptionConfirmed | SubscriptionCancelled
) -> Investment:
    """The subscription's row, made when its first event arrives (either may come first)."""
    row = await store.investment(uow.session, event.subscription_id)
    if row is None:
        row = Investment(
            subscription_id=event.subscription_id,
            fund_id=event.fund_id,
            investor_id=event.investor_id,
            units=event.units,
        )
        store.add_investment(uow.session, row)
    return row


async def fund_of(uow: UnitOfWork, fund_id: UUID, *, lock: bool = False) -> Fund:
    """A fund whose terms are known; 404 otherwise."""
    fund = await store.fund(uow.session, fund_id, lock=lock)
    if fund is None or fund.terms is None:
        raise UnknownFund(f"no fund {fund_id}")
    return fund


async def name_of(uow: UnitOfWork, fund_id: UUID) -> str:
    """The fund's name as its opening told it; empty while its opening has not arrived."""
    fund = await store.fund(uow.session, fund_id)
    if fund is None:
        return ""
    return fund.name or ""


async def holds(uow: UnitOfWork, *, principal: Principal, fund_id: UUID) -> bool:
    """Whether the caller is an investor who holds or held the fund."""
    investor = investor_id(principal)
    return investor is not None and await store.holds(
        uow.session, investor_id=investor, fund_id=fund_id
    )


async def funds_held(uow: UnitOfWork, *, investor: UUID) -> list[UUID]:
    return await store.funds_held(uow.session, investor)


def investor_id(principal: Principal) -> UUID | None:
    """The investor a token acts for, if it is an investor's (its tenant is the id)."""
    if principal.role is not Role.INVESTOR:
        return None
    try:
        return UUID(principal.tenant)
    except ValueError:
        return None
