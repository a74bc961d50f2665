"""What investors, staff, the ledger and the clock do to subscriptions: place, pay, cancel,
expire, refund when a fund fails, and read the investor's "My page"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncEngine

from kumiai.context import current_correlation_id
from kumiai.contracts.ledger import PaymentReceived, RefundReason
from kumiai.contracts.subscription import (
    CancellationReason,
    SubscriptionCancelled,
    SubscriptionConfirmed,
)
from kumiai.db import UnitOfWork
from kumiai.idempotency import Answer, answer_scope, json_text, request_fingerprint
from kumiai.pagination import Page, page_of
from kumiai.principal import Principal
from kumiai.problems import ProblemError
from kumiai.references import new_reference
from subscription.db.models import Subscription
from subscription.settings import Settings
from subscription.subscriptions import rules, store
from subscription.subscriptions.placing import FirstOrder, OrderWriter, placed_event
from subscription.subscriptions.rules import NewSubscription, OrderFacts, SubscriptionStatus
from subscription.subscriptions.schemas import HoldingOut, SubscriptionIn, SubscriptionOut


def _placed(sub: Subscription | NewSubscription) -> dict[str, Any]:
    """What a subscription's answer says from its placing on."""
    return {
        "id": sub.id,
        "fund_id": sub.fund_id,
        "investor_id": sub.investor_id,
        "units": sub.units,
        "unit_price": sub.unit_price,
        "handling_fee_per_unit": sub.handling_fee_per_unit,
        "amount_due": sub.amount_due,
        "currency": sub.currency,
        "payment_reference": sub.payment_reference,
        "payment_deadline": sub.payment_deadline,
        "cooling_off_until": sub.cooling_off_until,
        "placed_at": sub.placed_at,
    }


def _out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        **_placed(sub),
        status=SubscriptionStatus(sub.status),
        amount_paid=sub.amount_paid,
        cancel_reason=sub.cancel_reason,
        refund_reason=RefundReason(sub.refund_reason) if sub.refund_reason else None,
        confirmed_at=sub.confirmed_at,
        cancelled_at=sub.cancelled_at,
        refunded_at=sub.refunded_at,
    )


async def screen(
    engine: AsyncEngine,
    *,
    fund_id: UUID,
    body: SubscriptionIn,
    principal: Principal,
    settings: Settings,
) -> OrderFacts:
    """Read what an order is decided on, before its unit of work; an order by an investor
    who never ordered in the fund is refused here if it must be (``rules.refused_before_key``),
    without a transaction."""
    investor_id = rules.subscriber_id(principal)
    facts = await store.order_facts(engine, fund_id=fund_id, investor_id=investor_id)
    if rules.refused_before_key(facts):
        _check(facts, body=body, settings=settings, now=datetime.now(UTC))
    return facts


def _check(
    facts: OrderFacts, *, body: SubscriptionIn, settings: Settings, now: datetime
) -> rules.Offer:
    return rules.check_order(
        facts,
        units=body.units,
        terms_digest=body.terms_digest,
        current_risk_notice=settings.risk_notice_version,
        now=now,
    )


class Placement:
    """An investor reserves units of an open fund and is told the amount due, the payment
    reference to quote on the transfer and the payment deadline, in two steps of one unit
    of work: ``reserve`` decides and writes everything but the offering's units and the
    event; ``complete`` then takes the units and records ``SubscriptionPlaced``.

    The route writes the Idempotency-Key's answer between the two, so that the offering's
    row, the one every order of a fund waits for, is held for two statements and the
    commit only (decision 0007). Should ``complete`` refuse, the whole unit of work rolls
    back, the key's answer with it.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        fund_id: UUID,
        facts: OrderFacts,
        body: SubscriptionIn,
        principal: Principal,
        settings: Settings,
    ) -> None:
        self._uow = uow
        self._fund_id = fund_id
        self._facts = facts
        self._body = body
        self._principal = principal
        self._settings = settings
        self._reserved: tuple[NewSubscription, bool] | None = None

    async def reserve(self) -> SubscriptionOut:
        """Check the order (``facts`` from ``screen``), reserve the investor's position and
        issuer commitment, and write the subscription; answers it as it will be placed."""
        settings, units = self._settings, self._body.units
        investor_id = rules.subscriber_id(self._principal)
        session = self._uow.session
        now = datetime.now(UTC)
        offer, order, sub = _decide(
            self._facts,
            fund_id=self._fund_id,
            body=self._body,
            principal=self._principal,
            settings=settings,
            now=now,
        )
        most = offer.max_units_per_investor
        limit = settings.issuer_yearly_limit
        issuer_limit = rules.issuer_limit_applies(limit)
        held = rules.check_investor_limit(
            await store.reserve_position(
                session,
                fund_id=self._fund_id,
                investor_id=investor_id,
                units=units,
                most=most,
                lock_issuer=offer.msme_id if issuer_limit else None,
                now=now,
            ),
            most=most,
        )
        committed = await store.add_subscription(
            session,
            sub,
            issuer_window_start=rules.issuer_limit_window_start(now) if issuer_limit else None,
        )
        if issuer_limit:
            rules.check_issuer_limit(committed=committed, commitment=order.commitment, limit=limit)
        self._reserved = (sub, rules.joins_fund(held, units=units))
        return _placed_out(sub)

    async def complete(self) -> None:
        """Take the reserved units from the offering and record the event; nothing when
        ``reserve`` did not run (the Idempotency-Key replayed an earlier answer)."""
        if self._reserved is None:
            return
        sub, joins = self._reserved
        event = placed_event(sub)
        session = self._uow.session
        # The offering's row is the hot one: taken last, just before the outbox and commit.
        sold = await store.take_units(
            session,
            fund_id=sub.fund_id,
            units=sub.units,
            new_investors=int(joins),
            first=sub.placed_at,
        )
        if sold is None:
            status, end = await store.offering_state(session, sub.fund_id)
            rules.refuse_lost_race(status=status, offering_end=end, now=sub.placed_at)
        await self._uow.emit(event, subject=str(sub.fund_id))


def _decide(
    facts: OrderFacts,
    *,
    fund_id: UUID,
    body: SubscriptionIn,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> tuple[rules.Offer, rules.Order, NewSubscription]:
    """Check an order on its facts (``rules.check_order``) and write out its subscription."""
    offer = _check(facts, body=body, settings=settings, now=now)
    order = rules.Order(body.units, offer.unit_price, offer.handling_fee_per_unit)
    sub = rules.new_subscription(
        id=uuid.uuid4(),
        investor_id=rules.subscriber_id(principal),
        fund_id=fund_id,
        offer=offer,
        order=order,
        payment_reference=new_reference(),
        due=rules.deadlines(
            now,
            payment=settings.payment_period,
            cooling_off_days=settings.cooling_off_days,
            cooling_off_test_period=settings.cooling_off_test_period,
        ),
        placed_at=now,
    )
    return offer, order, sub


async def place_first_order(
    writer: OrderWriter,
    *,
    fund_id: UUID,
    facts: OrderFacts,
    body: SubscriptionIn,
    principal: Principal,
    settings: Settings,
    idempotency_key: str,
    operation: str,
) -> str | None:
    """Place an investor's first order in a fund (``rules.refused_before_key``) with the
    orders other requests place at the same time (``placing.OrderWriter``): answers the
    placed subscription's JSON, committed, or ``None`` if the Idempotency-Key was taken
    (the request then goes the single way, which replays it). Raises its refusal."""
    _, order, sub = _decide(
        facts,
        fund_id=fund_id,
        body=body,
        principal=principal,
        settings=settings,
        now=datetime.now(UTC),
    )
    answer = Answer(
        scope=answer_scope(principal, operation),
        key=idempotency_key,
        request_hash=request_fingerprint(body),
        status_code=201,
        body=json_text(jsonable_encoder(_placed_out(sub))),
    )
    offer = facts.offer
    assert offer is not None  # check_order refused an order for no offering
    outcome = await writer.write(
        FirstOrder(
            subscription=sub,
            answer=answer,
            most=offer.max_units_per_investor,
            issuer_limit=settings.issuer_yearly_limit,
            commitment=order.commitment,
            correlation_id=current_correlation_id(),
        )
    )
    if isinstance(outcome, ProblemError):
        raise outcome
    return outcome


def _placed_out(sub: NewSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        **_placed(sub),
        status=sub.status,
        amount_paid=None,
        cancel_reason=None,
        refund_reason=None,
        confirmed_at=None,
        cancelled_at=None,
        refunded_at=None,
    )


async def _cancel(
    uow: UnitOfWork, sub: Subscription, *, reason: CancellationReason, now: datetime
) -> None:
    """Cancel a live subscription (locked by the caller) and give its units back."""
    status = SubscriptionStatus(sub.status)
    still_held = await store.give_back_position(uow.session, sub)
    await store.give_back_units(
        uow.session,
        fund_id=sub.fund_id,
        release=rules.release(status, units=sub.units, still_held=still_held),
    )
    sub.status = rules.next_status(status, SubscriptionStatus.CANCELLED).value
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
    """The investor cancels within the cooling-off period, staff before the fund closes;
    its units go back on sale and the ledger refunds what was paid when it hears
    ``SubscriptionCancelled``."""
    session = uow.session
    sub = await store.readable_subscription(session, subscription_id, principal, lock=True)
    now = datetime.now(UTC)
    reason = rules.cancellation_reason(
        principal,
        status=SubscriptionStatus(sub.status),
        cooling_off_until=sub.cooling_off_until,
        fund_status=await store.fund_status(session, sub.fund_id),
        now=now,
    )
    await _cancel(uow, sub, reason=reason, now=now)
    return _out(sub)


async def confirm_payment(uow: UnitOfWork, *, event: PaymentReceived) -> None:
    """The ledger received the amount due: the subscription's units are confirmed.

    A payment for a subscription already cancelled changes nothing here: the
    ledger refunds it when it hears the cancellation.
    """
    sub = await store.subscription_for_payment(uow.session, event.subscription_id)
    if sub is None or not rules.payment_applies(SubscriptionStatus(sub.status)):
        return
    rules.check_payment(sub.id, amount=event.amount, amount_due=sub.amount_due)
    now = datetime.now(UTC)
    sub.status = rules.next_status(
        SubscriptionStatus(sub.status), SubscriptionStatus.CONFIRMED
    ).value
    sub.amount_paid = event.amount
    sub.confirmed_at = now
    await store.confirm_units(uow.session, fund_id=sub.fund_id, units=sub.units)
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


async def expire_unpaid(uow: UnitOfWork, *, now: datetime) -> int:
    """Timer: cancel subscriptions unpaid at their payment deadline, one fund per pass;
    their units go back on sale."""
    fund_id = await store.next_fund_with_overdue(uow.session, now)
    if fund_id is None:
        return 0
    expired = 0
    for sub in await store.lock_overdue(uow.session, fund_id, now):
        status = SubscriptionStatus(sub.status)
        if rules.is_overdue(status, payment_deadline=sub.payment_deadline, now=now):
            await _cancel(uow, sub, reason=CancellationReason.UNPAID, now=now)
            expired += 1
    return expired


async def get(uow: UnitOfWork, *, subscription_id: UUID, principal: Principal) -> SubscriptionOut:
    """One subscription, for its investor and staff."""
    return _out(await store.readable_subscription(uow.session, subscription_id, principal))


async def list_for_investor(
    uow: UnitOfWork,
    *,
    investor_id: UUID,
    principal: Principal,
    statuses: list[SubscriptionStatus] | None,
    cursor: str | None,
    limit: int,
) -> Page[SubscriptionOut]:
    """The investor's subscriptions, newest first, for the investor and staff."""
    rows = await store.readable_subscriptions(
        uow.session,
        principal=principal,
        investor_id=investor_id,
        statuses=statuses,
        cursor=cursor,
        limit=limit,
    )
    return page_of(rows, limit=limit, item=_out, key=lambda s: (s.placed_at, s.id))


async def holdings(uow: UnitOfWork, *, investor_id: UUID, principal: Principal) -> list[HoldingOut]:
    """Units paid for, per fund; ``frozen`` once the fund formed and its register is final."""
    rows = await store.readable_holdings(uow.session, principal=principal, investor_id=investor_id)
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


# -- For closing and withdrawing an offering (decision 0007's lock order) -----------------


async def lock_live(uow: UnitOfWork, *, fund_id: UUID) -> None:
    """Lock a fund's live subscriptions before its offering's row is taken to close it."""
    await store.lock_live(uow.session, fund_id)


async def lock_for_withdrawal(uow: UnitOfWork, *, fund_id: UUID) -> None:
    """Lock a fund's live subscriptions, then its positions, before its offering's row is
    taken to withdraw it."""
    await store.lock_live(uow.session, fund_id)
    await store.lock_positions(uow.session, fund_id)


async def cancel_live(
    uow: UnitOfWork, *, fund_id: UUID, reason: CancellationReason, now: datetime
) -> int:
    """Cancel every live subscription of a fund whose offering is withdrawn; the ledger
    refunds each paid one when it hears ``SubscriptionCancelled``. Answers how many."""
    live = await store.lock_live(uow.session, fund_id)
    for sub in live:
        await _cancel(uow, sub, reason=reason, now=now)
    return len(live)


async def refund_failed_fund(uow: UnitOfWork, *, fund_id: UUID, now: datetime) -> None:
    """Mark the paid subscriptions of a fund that failed to form refunded: they leave the
    holdings and the yearly limit, and the ledger refunds them when it hears ``FundClosed``."""
    await store.refund_paid(uow.session, fund_id=fund_id, refund=rules.failed_fund_refund(now))
