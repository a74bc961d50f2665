"""Subscribing, paying, cancelling and expiring: the offering's money path.

Every change to an offering's inventory is one conditional statement on its
row, taken after the investor's own rows and before the outbox, in the same
order everywhere: subscription -> position -> issuer commitment -> offering
-> outbox (decision 0007). So no interleaving oversells and none deadlocks.
The yearly limit per issuer is a sum over the investor's live subscriptions,
read while the investor's ``issuer_commitments`` row for that issuer is locked.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select, text

from kumiai.auth import Principal, Role
from kumiai.contracts.ledger import PaymentReceived, RefundReason
from kumiai.contracts.subscription import (
    CancellationReason,
    SubscriptionCancelled,
    SubscriptionConfirmed,
    SubscriptionPlaced,
)
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.references import new_reference
from subscription.db.models import Holding, Investor, Offering, Subscription
from subscription.domain.subscriptions import (
    LIVE_STATUSES,
    CancelRefused,
    Order,
    SubscriptionStatus,
    check_investor_cancel,
    deadlines,
    issuer_limit_window_start,
    within_issuer_limit,
)
from subscription.investors import no_investor, own_id
from subscription.offerings import OfferingNotFound
from subscription.schemas import HoldingOut, SubscriptionIn, SubscriptionOut
from subscription.settings import Settings


class NotEligible(Conflict):
    problem = "investor-not-eligible"
    title = "The investor may not subscribe yet"


class OfferingNotOpen(Conflict):
    problem = "offering-not-open"
    title = "The offering does not take subscriptions now"


class SoldOut(Conflict):
    problem = "sold-out"
    title = "Not enough units are left"


class OverLimit(UnprocessableContent):
    problem = "over-limit"
    title = "The subscription would exceed a limit"


class CancelNotAllowed(Conflict):
    problem = "cancel-refused"
    title = "The subscription cannot be cancelled"


class SubscriptionNotFound(NotFound):
    problem = "subscription-not-found"
    title = "No such subscription"


def no_subscription() -> SubscriptionNotFound:
    """Absent and not the caller's look the same, and the answer names no id."""
    return SubscriptionNotFound("no such subscription")


def subscription_out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        fund_id=sub.fund_id,
        investor_id=sub.investor_id,
        units=sub.units,
        unit_price=sub.unit_price,
        handling_fee_per_unit=sub.handling_fee_per_unit,
        amount_due=sub.amount_due,
        currency=sub.currency,
        payment_reference=sub.payment_reference,
        payment_deadline=sub.payment_deadline,
        cooling_off_until=sub.cooling_off_until,
        status=SubscriptionStatus(sub.status),
        amount_paid=sub.amount_paid,
        cancel_reason=sub.cancel_reason,
        refund_reason=RefundReason(sub.refund_reason) if sub.refund_reason else None,
        placed_at=sub.placed_at,
        confirmed_at=sub.confirmed_at,
        cancelled_at=sub.cancelled_at,
        refunded_at=sub.refunded_at,
    )


_RESERVE_POSITION = text(
    "INSERT INTO positions (fund_id, investor_id, units) VALUES (:fund, :investor, :units) "
    "ON CONFLICT (fund_id, investor_id) DO UPDATE SET units = positions.units + EXCLUDED.units "
    "WHERE positions.units + EXCLUDED.units <= :most RETURNING units"
)
# The yearly limit per issuer (domain.subscriptions.within_issuer_limit), in two statements.
# First the investor's row for the issuer is created or locked, and stays locked until
# commit, so the investor's subscriptions to one issuer are placed one at a time ...
_LOCK_ISSUER = text(
    "INSERT INTO issuer_commitments (investor_id, msme_id, last_placed_at) "
    "VALUES (:investor, :msme, :now) "
    "ON CONFLICT (investor_id, msme_id) DO UPDATE "
    "SET last_placed_at = greatest(issuer_commitments.last_placed_at, EXCLUDED.last_placed_at)"
)
# ... then, in a statement whose snapshot is taken after the lock (so it sees every
# subscription committed before), the live ones of the past year are summed. No upper
# bound on placed_at: one placed by a server whose clock runs ahead still counts.
_COMMITTED_TO_ISSUER = text(
    "SELECT coalesce(sum(units::bigint * unit_price), 0) FROM subscriptions "
    "WHERE investor_id = :investor AND msme_id = :msme "
    "AND status IN ('placed', 'confirmed') AND placed_at > :since"
)
_TAKE_UNITS = text(
    "UPDATE offerings SET units_sold = units_sold + :units, investors = investors + :new "
    "WHERE fund_id = :fund AND status = 'open' AND units_sold + :units <= units_offered "
    "AND offering_start <= :now AND offering_end > :now RETURNING units_sold"
)


async def place(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    body: SubscriptionIn,
    principal: Principal,
    settings: Settings,
) -> SubscriptionOut:
    """Reserve units for the investor; the amount due, reference and deadline come back."""
    if principal.role is not Role.INVESTOR:
        raise Forbidden("investors subscribe for themselves")
    session = uow.session
    now = datetime.now(UTC)
    investor = await session.get(Investor, own_id(principal))
    if investor is None:
        raise NotEligible("register as an investor first")
    if investor.verification != "verified":
        raise NotEligible(f"identity verification is {investor.verification}")
    if investor.risk_notice_version != settings.risk_notice_version:
        raise NotEligible(
            "acknowledge the current risk notice first", current=settings.risk_notice_version
        )
    offering = await session.get(Offering, fund_id)
    if offering is None:
        raise OfferingNotFound("no such offering")
    if offering.status != "open" or not offering.offering_start <= now < offering.offering_end:
        raise OfferingNotOpen("the offering is not open")
    if offering.terms_digest is not None and body.terms_digest != offering.terms_digest:
        raise NotEligible(
            "acknowledge the fund's current terms (terms_digest)",
            terms_digest=offering.terms_digest,
        )
    if offering.units_sold + body.units > offering.units_offered:
        raise SoldOut(
            f"{offering.units_offered - offering.units_sold} unit(s) left",
            units_left=offering.units_offered - offering.units_sold,
        )
    order = Order(body.units, offering.unit_price, offering.handling_fee_per_unit)
    most = offering.max_units_per_investor
    held = await session.scalar(
        _RESERVE_POSITION,
        {"fund": fund_id, "investor": investor.id, "units": body.units, "most": most},
    )
    if held is None or held > most:
        raise OverLimit(f"at most {most} unit(s) per investor in this fund", most=most)
    limit = settings.issuer_yearly_limit
    if limit:
        issuer = {"investor": investor.id, "msme": offering.msme_id}
        await session.execute(_LOCK_ISSUER, {**issuer, "now": now})
        committed = int(
            await session.scalar(
                _COMMITTED_TO_ISSUER, {**issuer, "since": issuer_limit_window_start(now)}
            )
            or 0
        )
        if not within_issuer_limit(committed, order.commitment, limit):
            raise OverLimit(
                f"at most {limit} per issuer per year (the 12 months before this subscription); "
                f"{committed} already committed, this subscription commits {order.commitment}",
                limit=limit,
                committed=committed,
            )
    due = deadlines(
        now,
        payment=settings.payment_period,
        cooling_off_days=settings.cooling_off_days,
        cooling_off_test_period=settings.cooling_off_test_period,
    )
    sub = Subscription(
        id=uuid.uuid4(),
        fund_id=fund_id,
        investor_id=investor.id,
        msme_id=offering.msme_id,
        units=body.units,
        unit_price=offering.unit_price,
        handling_fee_per_unit=offering.handling_fee_per_unit,
        amount_due=order.amount_due,
        currency=offering.currency,
        payment_reference=new_reference(),
        payment_deadline=due.payment,
        cooling_off_until=due.cooling_off_until,
        terms_digest=offering.terms_digest,
        status=SubscriptionStatus.PLACED.value,
        placed_at=now,
    )
    session.add(sub)
    await session.flush()
    # The offering's row is the hot one: take it last, just before the outbox and commit.
    sold = await session.scalar(
        _TAKE_UNITS,
        {"fund": fund_id, "units": body.units, "new": int(held == body.units), "now": now},
    )
    if sold is None:
        # Sold out meanwhile, or withdrawn or ended while this order waited for the row.
        await session.refresh(offering)
        if offering.status != "open" or now >= offering.offering_end:
            raise OfferingNotOpen("the offering is not open")
        raise SoldOut("not enough units are left", units_left=0)
    await uow.emit(
        SubscriptionPlaced(
            subscription_id=sub.id,
            fund_id=fund_id,
            investor_id=investor.id,
            units=sub.units,
            unit_price=sub.unit_price,
            handling_fee_per_unit=sub.handling_fee_per_unit,
            amount_due=sub.amount_due,
            currency=sub.currency,
            payment_reference=sub.payment_reference,
            payment_deadline=sub.payment_deadline,
            placed_at=now,
        ),
        subject=str(fund_id),
    )
    return subscription_out(sub)


async def _release(uow: UnitOfWork, sub: Subscription) -> None:
    """Give a subscription's units back (position -> offering).

    Its commitment to the issuer is freed by its status: the limit sums live ones only.
    """
    session = uow.session
    held = await session.scalar(
        text(
            "UPDATE positions SET units = units - :units "
            "WHERE fund_id = :fund AND investor_id = :investor RETURNING units"
        ),
        {"units": sub.units, "fund": sub.fund_id, "investor": sub.investor_id},
    )
    confirmed = sub.units if sub.status == SubscriptionStatus.CONFIRMED.value else 0
    await session.execute(
        text(
            "UPDATE offerings SET units_sold = units_sold - :units, "
            "units_confirmed = units_confirmed - :confirmed, investors = investors - :gone "
            "WHERE fund_id = :fund"
        ),
        {"units": sub.units, "confirmed": confirmed, "gone": int(held == 0), "fund": sub.fund_id},
    )


async def cancel_subscription(
    uow: UnitOfWork, sub: Subscription, reason: CancellationReason, now: datetime
) -> None:
    """Cancel a live subscription (locked by the caller) and give its units back."""
    await _release(uow, sub)
    sub.status = SubscriptionStatus.CANCELLED.value
    sub.cancel_reason = reason.value
    sub.cancelled_at = now
    await uow.emit(
        SubscriptionCancelled(
            subscription_id=sub.id,
            fund_id=sub.fund_id,
            investor_id=sub.investor_id,
            units=sub.units,
            reason=reason,
            cancelled_at=now,
        ),
        subject=str(sub.fund_id),
    )


async def cancel(
    uow: UnitOfWork, *, subscription_id: UUID, principal: Principal
) -> SubscriptionOut:
    """The investor cancels within the cooling-off period; staff cancel before the fund closes.

    Paid money is refunded by the ledger (it hears ``SubscriptionCancelled``).
    """
    session = uow.session
    sub = await session.get(Subscription, subscription_id, with_for_update=True)
    if sub is None or not _may_read(principal, sub):
        raise no_subscription()
    now = datetime.now(UTC)
    offering = await session.get(Offering, sub.fund_id)
    assert offering is not None
    if offering.status != "open":
        raise CancelNotAllowed(f"the fund is {offering.status}")
    if principal.role is Role.INVESTOR:
        try:
            check_investor_cancel(SubscriptionStatus(sub.status), sub.cooling_off_until, now)
        except CancelRefused as exc:
            raise CancelNotAllowed(str(exc)) from exc
        reason = CancellationReason.COOLING_OFF
    elif principal.role is Role.STAFF:
        if SubscriptionStatus(sub.status) not in LIVE_STATUSES:
            raise CancelNotAllowed(f"the subscription is already {sub.status}")
        reason = CancellationReason.STAFF
    else:
        raise Forbidden("only the investor or staff cancel a subscription")
    await cancel_subscription(uow, sub, reason, now)
    return subscription_out(sub)


async def confirm_payment(uow: UnitOfWork, event: PaymentReceived) -> None:
    """The ledger received the amount due: the subscription's units are confirmed.

    A payment for a subscription already cancelled changes nothing here: the
    ledger refunds it when it hears the cancellation.
    """
    session = uow.session
    sub = await session.get(Subscription, event.subscription_id, with_for_update=True)
    if sub is None or sub.status != SubscriptionStatus.PLACED.value:
        return
    if event.amount != sub.amount_due:
        raise ValueError(
            f"payment of {event.amount} for subscription {sub.id} that owes {sub.amount_due}"
        )
    now = datetime.now(UTC)
    sub.status = SubscriptionStatus.CONFIRMED.value
    sub.amount_paid = event.amount
    sub.confirmed_at = now
    await session.execute(
        text("UPDATE offerings SET units_confirmed = units_confirmed + :units WHERE fund_id = :f"),
        {"units": sub.units, "f": sub.fund_id},
    )
    await uow.emit(
        SubscriptionConfirmed(
            subscription_id=sub.id,
            fund_id=sub.fund_id,
            investor_id=sub.investor_id,
            units=sub.units,
            amount_paid=event.amount,
            currency=sub.currency,
            confirmed_at=now,
        ),
        subject=str(sub.fund_id),
    )


async def expire_unpaid(uow: UnitOfWork, now: datetime) -> int:
    """Timer: cancel unpaid subscriptions past their deadline, one fund per pass."""
    session = uow.session
    fund_id = await session.scalar(
        select(Subscription.fund_id)
        .where(Subscription.status == "placed", Subscription.payment_deadline <= now)
        .order_by(Subscription.payment_deadline)
        .limit(1)
    )
    if fund_id is None:
        return 0
    due = (
        await session.scalars(
            select(Subscription)
            .where(
                Subscription.fund_id == fund_id,
                Subscription.status == "placed",
                Subscription.payment_deadline <= now,
            )
            .order_by(Subscription.payment_deadline)
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for sub in due:
        await cancel_subscription(uow, sub, CancellationReason.UNPAID, now)
    return len(due)


def _may_read(principal: Principal, sub: Subscription) -> bool:
    """Staff, and the investor whose subscription it is."""
    if principal.role is Role.STAFF:
        return True
    return principal.role is Role.INVESTOR and principal.tenant == str(sub.investor_id)


async def get(uow: UnitOfWork, *, subscription_id: UUID, principal: Principal) -> SubscriptionOut:
    sub = await uow.session.get(Subscription, subscription_id)
    if sub is None or not _may_read(principal, sub):
        raise no_subscription()
    return subscription_out(sub)


def _investor_scope(principal: Principal, investor_id: UUID) -> None:
    """An investor reads only its own "My page"; staff read anyone's."""
    if principal.role is Role.STAFF:
        return
    if principal.role is Role.INVESTOR and principal.tenant == str(investor_id):
        return
    raise no_investor()


async def list_for_investor(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    principal: Principal,
    statuses: list[SubscriptionStatus] | None,
    cursor: str | None,
    limit: int,
) -> Page[SubscriptionOut]:
    """The investor's subscriptions, newest first."""
    _investor_scope(principal, investor_id)
    query = select(Subscription).where(Subscription.investor_id == investor_id)
    if statuses:
        query = query.where(Subscription.status.in_([s.value for s in statuses]))
    if cursor is not None:
        placed, ident = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(
            func.row(Subscription.placed_at, Subscription.id) < func.row(placed, ident)
        )
    rows = (
        await uow.session.scalars(
            query.order_by(Subscription.placed_at.desc(), Subscription.id.desc()).limit(limit + 1)
        )
    ).all()
    return page_of(rows, limit=limit, item=subscription_out, key=lambda s: (s.placed_at, s.id))


async def holdings(uow: UnitOfWork, *, investor_id: UUID, principal: Principal) -> list[HoldingOut]:
    """Units paid for, per fund; ``frozen`` once the fund formed and its register is final."""
    _investor_scope(principal, investor_id)
    rows = (
        await uow.session.execute(
            select(
                Subscription.fund_id,
                Offering.name,
                func.sum(Subscription.units),
                func.sum(Subscription.amount_paid),
                Holding.fund_id.is_not(None),
            )
            .join(Offering, Offering.fund_id == Subscription.fund_id)
            .outerjoin(
                Holding,
                (Holding.fund_id == Subscription.fund_id)
                & (Holding.investor_id == Subscription.investor_id),
            )
            .where(Subscription.investor_id == investor_id, Subscription.status == "confirmed")
            .group_by(Subscription.fund_id, Offering.name, Holding.fund_id)
            .order_by(Offering.name, Subscription.fund_id)
        )
    ).all()
    return [
        HoldingOut(
            fund_id=fund_id,
            fund_name=name,
            units=int(units),
            amount_paid=int(paid or 0),
            frozen=frozen,
        )
        for fund_id, name, units, paid, frozen in rows
    ]
