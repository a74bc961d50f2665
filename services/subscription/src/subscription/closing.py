"""Closing an offering: the fund forms or fails, and the holdings register freezes.

Closing follows the lock order of decision 0007 (subscription -> position ->
issuer commitment -> offering): the fund's live subscriptions (and, when
they are cancelled, their positions) are locked before the offering's row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import structlog
from sqlalchemy import Exists, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from kumiai.auth import Principal, Role
from kumiai.contracts.ledger import RefundReason
from kumiai.contracts.subscription import CancellationReason, FundClosed, FundOutcome
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden
from subscription.db.models import Holding, Offering, Position, Subscription
from subscription.domain.subscriptions import (
    LIVE_STATUSES,
    SubscriptionStatus,
    may_close,
    outcome,
)
from subscription.offerings import OfferingNotFound, offering_out
from subscription.schemas import OfferingOut
from subscription.subscriptions import cancel_subscription

log = structlog.get_logger(__name__)

_LIVE = [s.value for s in LIVE_STATUSES]


def _unpaid(fund_id: InstrumentedAttribute[UUID]) -> Exists:
    return exists().where(Subscription.fund_id == fund_id, Subscription.status == "placed")


def _cooling_off(fund_id: InstrumentedAttribute[UUID], now: datetime) -> Exists:
    return exists().where(
        Subscription.fund_id == fund_id,
        Subscription.status == "confirmed",
        Subscription.cooling_off_until > now,
    )


async def _lock_live(uow: UnitOfWork, fund_id: UUID) -> list[Subscription]:
    """Lock the fund's live subscriptions (in id order, as every closer takes them)."""
    return list(
        (
            await uow.session.scalars(
                select(Subscription)
                .where(Subscription.fund_id == fund_id, Subscription.status.in_(_LIVE))
                .order_by(Subscription.id)
                .with_for_update()
            )
        ).all()
    )


async def close_due(uow: UnitOfWork, now: datetime) -> int:
    """Timer: close one offering that has ended (or sold out, all paid, all past cooling-off)."""
    session = uow.session
    fund_id = await session.scalar(
        select(Offering.fund_id)
        .where(
            Offering.status == "open",
            or_(Offering.offering_end <= now, Offering.units_sold >= Offering.units_offered),
            ~_unpaid(Offering.fund_id),
            ~_cooling_off(Offering.fund_id, now),
        )
        .order_by(Offering.offering_end)
        .limit(1)
    )
    if fund_id is None:
        return 0
    await _lock_live(uow, fund_id)
    # NO KEY UPDATE, like every writer of the row: orders' foreign-key checks (KEY SHARE)
    # on new positions and subscriptions do not queue behind it.
    offering = await session.scalar(
        select(Offering)
        .where(Offering.fund_id == fund_id, Offering.status == "open")
        .with_for_update(key_share=True, skip_locked=True)
    )
    if offering is None:
        return 0
    # With the offering's row locked nothing else changes its subscriptions; check
    # again with a fresh snapshot before deciding.
    unpaid, cooling = (
        await session.execute(
            select(
                func.count().filter(Subscription.status == "placed"),
                func.count().filter(
                    and_(Subscription.status == "confirmed", Subscription.cooling_off_until > now)
                ),
            ).where(Subscription.fund_id == offering.fund_id)
        )
    ).one()
    if not may_close(
        now=now,
        offering_end=offering.offering_end,
        sold_out=offering.units_sold >= offering.units_offered,
        unpaid=unpaid,
        cooling_off_pending=cooling,
    ):
        return 0
    await close(uow, offering, now)
    return 1


async def close(uow: UnitOfWork, offering: Offering, now: datetime) -> None:
    """Form the fund (freeze its register) or, short of its threshold, mark every paid
    subscription refunded: the ledger refunds them when it hears ``FundClosed``.

    The database holds a refunded subscription to having been paid and to its reason
    and time (``ck_subscriptions_refund_recorded``).
    """
    session = uow.session
    result = outcome(offering.units_confirmed, offering.formation_threshold_units)
    confirmed = select(
        Subscription.fund_id,
        Subscription.investor_id,
        func.sum(Subscription.units).label("units"),
        func.sum(Subscription.amount_paid).label("amount_paid"),
    ).where(Subscription.fund_id == offering.fund_id, Subscription.status == "confirmed")
    confirmed = confirmed.group_by(Subscription.fund_id, Subscription.investor_id)
    investor_count = int(
        await session.scalar(select(func.count()).select_from(confirmed.subquery())) or 0
    )
    if result is FundOutcome.SUCCEEDED:
        await session.execute(
            insert(Holding).from_select(
                ["fund_id", "investor_id", "units", "amount_paid"], confirmed
            )
        )
    else:
        # No longer held and no longer counted against the investors' yearly limit.
        await session.execute(
            update(Subscription)
            .where(
                Subscription.fund_id == offering.fund_id,
                Subscription.status == SubscriptionStatus.CONFIRMED.value,
            )
            .values(
                status=SubscriptionStatus.REFUNDED.value,
                refund_reason=RefundReason.FUND_FAILED.value,
                refunded_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    offering.status = f"closed_{result.value}"
    offering.closed_at = now
    units = offering.units_confirmed
    await uow.emit(
        FundClosed(
            fund_id=offering.fund_id,
            msme_id=offering.msme_id,
            outcome=result,
            units_confirmed=units,
            amount_raised=units * offering.unit_price,
            handling_fees_collected=units * offering.handling_fee_per_unit,
            currency=offering.currency,
            investor_count=investor_count,
            closed_at=now,
        ),
        subject=str(offering.fund_id),
    )


class CancelRefusedClosed(Conflict):
    problem = "offering-closed"
    title = "The offering has already closed"


async def cancel_offering(
    uow: UnitOfWork, *, fund_id: UUID, reason: str, principal: Principal
) -> OfferingOut:
    """Staff withdraw an open offering: every live subscription is cancelled (the ledger
    refunds what was paid) and the fund is announced closed, failed, with no units."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff cancel an offering")
    session = uow.session
    if await session.get(Offering, fund_id) is None:
        raise OfferingNotFound("no such offering")
    await _lock_live(uow, fund_id)
    await session.execute(
        select(Position.investor_id)
        .where(Position.fund_id == fund_id)
        .order_by(Position.investor_id)
        .with_for_update()
    )
    offering = await session.get(
        Offering, fund_id, with_for_update={"key_share": True}, populate_existing=True
    )
    assert offering is not None
    if offering.status != "open":
        raise CancelRefusedClosed(f"the offering is {offering.status}")
    now = datetime.now(UTC)
    # Again under the offering's lock: a subscription placed meanwhile took its units
    # before the lock and is cancelled too; none can be placed after it.
    live = await _lock_live(uow, fund_id)
    for sub in live:
        await cancel_subscription(uow, sub, CancellationReason.OFFERING_CANCELLED, now)
    await session.refresh(offering)
    offering.status = "cancelled"
    offering.closed_at = now
    await uow.emit(
        FundClosed(
            fund_id=offering.fund_id,
            msme_id=offering.msme_id,
            outcome=FundOutcome.FAILED,
            units_confirmed=0,
            amount_raised=0,
            handling_fees_collected=0,
            currency=offering.currency,
            investor_count=0,
            closed_at=now,
        ),
        subject=str(offering.fund_id),
    )
    await session.flush()
    log.info("offering cancelled", fund_id=str(fund_id), reason=reason, subscriptions=len(live))
    return offering_out(offering, now)
