"""What happens to an offering: it opens from ``FundOpened``, anyone follows its progress,
it closes (the fund forms or fails) or staff withdraw it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import structlog

from kumiai.contracts.onboarding import AnyFundOpened
from kumiai.contracts.subscription import CancellationReason, FundClosed
from kumiai.db import UnitOfWork
from kumiai.pagination import Page, page_of
from kumiai.principal import Principal
from subscription.db.models import Offering
from subscription.offerings import rules, store
from subscription.offerings.rules import Closing, OfferingStatus
from subscription.offerings.schemas import OfferingOut
from subscription.subscriptions import service as subscriptions

log = structlog.get_logger(__name__)


def _out(offering: Offering, now: datetime) -> OfferingOut:
    return OfferingOut(
        fund_id=offering.fund_id,
        msme_id=offering.msme_id,
        name=offering.name,
        currency=offering.currency,
        unit_price=offering.unit_price,
        handling_fee_per_unit=offering.handling_fee_per_unit,
        donation_per_unit=offering.donation_per_unit,
        price_per_unit_with_fee=rules.price_per_unit_with_fee(
            unit_price=offering.unit_price, handling_fee_per_unit=offering.handling_fee_per_unit
        ),
        units_offered=offering.units_offered,
        units_sold=offering.units_sold,
        units_confirmed=offering.units_confirmed,
        investors=offering.investors,
        formation_threshold_units=offering.formation_threshold_units,
        max_units_per_investor=offering.max_units_per_investor,
        offering_start=offering.offering_start,
        offering_end=offering.offering_end,
        terms_digest=offering.terms_digest,
        status=OfferingStatus(offering.status).value,
        phase=rules.offering_phase(
            now=now,
            start=offering.offering_start,
            end=offering.offering_end,
            units_sold=offering.units_sold,
            units_offered=offering.units_offered,
        ),
        days_left=rules.days_left(now=now, end=offering.offering_end),
    )


async def open_offerings(uow: UnitOfWork, *, events: Iterable[tuple[AnyFundOpened, UUID]]) -> None:
    """Put newly opened funds on offer (once each, however often an event is delivered)."""
    # One event's terms at a time: the store copies them into its statement's columns.
    await store.insert_offerings(
        uow.session, ((rules.terms_of(event), event_id) for event, event_id in events)
    )


async def get_offering(uow: UnitOfWork, *, fund_id: UUID) -> OfferingOut:
    """One offering's public progress."""
    offering = await store.readable_offering(uow.session, fund_id)
    return _out(offering, datetime.now(UTC))


async def list_offerings(uow: UnitOfWork, *, limit: int, cursor: str | None) -> Page[OfferingOut]:
    """Offerings in a stable order (by fund id), a page at a time."""
    rows = await store.readable_offerings(uow.session, cursor=cursor, limit=limit)
    now = datetime.now(UTC)
    return page_of(rows, limit=limit, item=lambda o: _out(o, now), key=lambda o: (o.fund_id,))


async def _announce(
    uow: UnitOfWork, offering: Offering, ending: Closing, *, investors: int, now: datetime
) -> None:
    offering.status = rules.next_status(OfferingStatus(offering.status), ending.status).value
    offering.closed_at = now
    await uow.emit(
        FundClosed(
            fund_id=offering.fund_id,
            msme_id=offering.msme_id,
            outcome=ending.outcome,
            units_confirmed=ending.units_confirmed,
            amount_raised=ending.amount_raised,
            handling_fees_collected=ending.handling_fees_collected,
            currency=offering.currency,
            investor_count=investors,
            closed_at=now,
        ),
        subject=str(offering.fund_id),
    )


async def close_due(uow: UnitOfWork, *, now: datetime) -> int:
    """Timer: close one offering that has ended (or sold out, all paid, all past cooling-off):
    the fund forms and its register freezes, or it fails and its paid subscriptions are
    refunded; ``FundClosed`` tells the ledger which."""
    session = uow.session
    fund_id = await store.next_due_to_close(session, now)
    if fund_id is None:
        return 0
    await subscriptions.lock_live(uow, fund_id=fund_id)
    offering = await store.lock_open_offering(session, fund_id)
    if offering is None:
        return 0
    # With the offering's row locked nothing else changes its subscriptions; decide again
    # on a fresh snapshot.
    unpaid, cooling = await store.pending_subscriptions(session, fund_id, now)
    if not rules.may_close(
        now=now,
        offering_end=offering.offering_end,
        sold_out=rules.sold_out(
            units_sold=offering.units_sold, units_offered=offering.units_offered
        ),
        unpaid=unpaid,
        cooling_off_pending=cooling,
    ):
        return 0
    ending = rules.closing(
        units_confirmed=offering.units_confirmed,
        formation_threshold_units=offering.formation_threshold_units,
        unit_price=offering.unit_price,
        handling_fee_per_unit=offering.handling_fee_per_unit,
    )
    investors = await store.paying_investors(session, fund_id)
    if ending.freezes_register:
        await store.freeze_register(session, fund_id)
    else:
        await subscriptions.refund_failed_fund(uow, fund_id=fund_id, now=now)
    await _announce(uow, offering, ending, investors=investors, now=now)
    return 1


async def cancel_offering(
    uow: UnitOfWork, *, fund_id: UUID, reason: str, principal: Principal
) -> OfferingOut:
    """Staff withdraw an open offering: every live subscription is cancelled (the ledger
    refunds what was paid) and the fund is announced closed, failed, with no units."""
    rules.check_may_withdraw(principal)
    session = uow.session
    await store.readable_offering(session, fund_id, principal)
    await subscriptions.lock_for_withdrawal(uow, fund_id=fund_id)
    offering = await store.lock_offering(session, fund_id)
    rules.check_withdrawable(OfferingStatus(offering.status))
    now = datetime.now(UTC)
    # Again under the offering's lock: a subscription placed meanwhile took its units
    # before the lock and is cancelled too; none can be placed after it.
    cancelled = await subscriptions.cancel_live(
        uow, fund_id=fund_id, reason=CancellationReason.OFFERING_CANCELLED, now=now
    )
    await store.reread(session, offering)
    await _announce(uow, offering, rules.withdrawal(), investors=0, now=now)
    await session.flush()
    log.info("offering cancelled", fund_id=str(fund_id), reason=reason, subscriptions=cancelled)
    return _out(offering, now)
