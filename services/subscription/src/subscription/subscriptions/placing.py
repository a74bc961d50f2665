"""Group placement: the first orders of investors in a fund, placed together.

At a popular fund's opening every order waits for the offering's row: each held it
for its ``TAKE_UNITS``, its event and its commit, three round trips that a busy
process stretches to several milliseconds each, so a fund sold ~150 orders a
second however many investors were waiting. A process's ``OrderWriter`` instead
places the orders that arrive while its previous groups are written as one group
(``kumiai.group_commit``), in one transaction per fund: the keys with their answers,
the positions and issuer rows, the subscriptions, one ``TAKE_UNITS`` for the whole
group and its events, each one statement, then one commit.

It takes only orders that nothing can replay and whose answer is known before they
are written: an investor's first order in the fund (``rules.refused_before_key``)
that its facts accept (``rules.check_order``). What each order guarantees is
unchanged:

- its Idempotency-Key: an order whose key is taken already (a retry, or the same
  retry in another group) is not placed here, and its request goes the single way,
  which replays the stored answer;
- its refusals: an order over the fund's maximum per investor or the yearly limit
  per issuer, or that finds too few units left, is refused exactly as alone. The
  transaction is rolled back and the others are placed again without it. When the
  group's ``TAKE_UNITS`` finds too few units, the offering's row is locked and
  what is left is shared out in the orders' arrival order (``rules.share_out``);
- no overselling, one position per investor and fund, and decision 0007's lock
  order: the group's rows are taken in that order, each table's in investor order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from kumiai.contracts.subscription import SubscriptionPlaced
from kumiai.db import UnitOfWork
from kumiai.group_commit import GroupWriter
from kumiai.idempotency import Answer, store_answers
from kumiai.problems import ProblemError
from subscription.offerings.rules import OfferingStatus
from subscription.subscriptions import rules, store
from subscription.subscriptions.rules import NewSubscription

KEY_TAKEN = None
"""The result of an order whose Idempotency-Key was taken: its request is replayed."""

Outcome = str | ProblemError | None
"""What became of an order: its answer's JSON (placed), its refusal, or ``KEY_TAKEN``."""


@dataclass(frozen=True)
class FirstOrder:
    """An investor's first order in a fund, decided on its facts, ready to be placed."""

    subscription: NewSubscription
    answer: Answer
    most: int
    """The fund's maximum units per investor."""
    issuer_limit: int
    """The yearly limit per issuer (0: none)."""
    commitment: int
    """What the order counts towards the yearly limit per issuer."""
    correlation_id: str | None


class _Crowded(Exception):
    """A group holds one investor or one key twice: it is written in smaller groups."""


class _Refused(Exception):
    def __init__(self, refusals: dict[int, ProblemError]) -> None:
        super().__init__(f"{len(refusals)} order(s) refused")
        self.refusals = refusals


class OrderWriter(GroupWriter[FirstOrder, Outcome]):
    """Places first orders of concurrent requests in groups; one per process."""

    stopping = "the subscription service is stopping"
    # One group in flight per process: a fund's groups take its offering's row one after
    # another anyway, and a second one would wait on it holding a pooled connection that
    # the next orders' reads need; the orders that arrive meanwhile form a larger group.
    # Measured at the sell-out (2 processes): p99 152-164 ms with one, 183-188 with two.
    writers = 1

    async def write_together(self, orders: Sequence[FirstOrder]) -> list[Outcome]:
        outcomes: list[Outcome] = [None] * len(orders)
        funds = sorted({o.subscription.fund_id for o in orders})
        for fund in funds:
            indices = [i for i, o in enumerate(orders) if o.subscription.fund_id == fund]
            placed = await self._place_fund([orders[i] for i in indices])
            for i, outcome in zip(indices, placed, strict=True):
                outcomes[i] = outcome
        return outcomes

    async def _place_fund(self, orders: list[FirstOrder]) -> list[Outcome]:
        """One fund's orders: placed together, again without those refused until none is."""
        investors = {o.subscription.investor_id for o in orders}
        keys = {(o.answer.scope, o.answer.key) for o in orders}
        if len(investors) < len(orders) or len(keys) < len(orders):
            raise _Crowded("one investor or one key twice in a group")
        outcomes: dict[int, Outcome] = {}
        pending = list(range(len(orders)))
        while pending:
            try:
                outcomes |= await self._place([orders[i] for i in pending], pending)
            except _Refused as refused:
                outcomes |= refused.refusals
                pending = [i for i in pending if i not in refused.refusals]
                continue
            break
        return [outcomes[i] for i in range(len(orders))]

    async def _place(self, orders: list[FirstOrder], indices: list[int]) -> dict[int, Outcome]:
        """One transaction; raises ``_Refused`` (after rolling back) if any order is."""
        first = orders[0]
        fund, msme, most = first.subscription.fund_id, first.subscription.msme_id, first.most
        limit = first.issuer_limit
        issuer_limit = rules.issuer_limit_applies(limit)
        placed_at = [o.subscription.placed_at for o in orders]
        async with self.unit_of_work() as uow:
            session = uow.session
            taken = await store_answers(session, [o.answer for o in orders])
            live = [
                (i, o)
                for i, o in zip(indices, orders, strict=True)
                if (o.answer.scope, o.answer.key) in taken
            ]
            outcomes: dict[int, Outcome] = dict.fromkeys(indices, KEY_TAKEN)
            if not live:
                return outcomes
            held = await store.reserve_positions(
                session,
                fund_id=fund,
                msme_id=msme,
                units={o.subscription.investor_id: o.subscription.units for _, o in live},
                most=most,
                lock_issuer=issuer_limit,
                now=max(placed_at),
            )
            _refuse_each(
                live,
                lambda o: rules.check_investor_limit(
                    held.get(o.subscription.investor_id), most=most
                ),
            )
            committed = await store.add_subscriptions(
                session,
                [o.subscription for _, o in live],
                issuer_window_starts={
                    o.subscription.investor_id: rules.issuer_limit_window_start(
                        o.subscription.placed_at
                    )
                    for _, o in live
                }
                if issuer_limit
                else None,
            )
            if issuer_limit:
                _refuse_each(
                    live,
                    lambda o: rules.check_issuer_limit(
                        committed=committed.get(o.subscription.investor_id, 0),
                        commitment=o.commitment,
                        limit=limit,
                    ),
                )
            await _take_units_and_record(
                uow, fund, live, held, first=min(placed_at), last=max(placed_at)
            )
        for i, o in live:
            outcomes[i] = o.answer.body
        return outcomes


def _refuse_each(live: list[tuple[int, FirstOrder]], check: Callable[[FirstOrder], object]) -> None:
    """Raise ``_Refused`` with each order that ``check`` refuses, if any."""
    refusals: dict[int, ProblemError] = {}
    for i, order in live:
        try:
            check(order)
        except ProblemError as refusal:
            refusals[i] = refusal
    if refusals:
        raise _Refused(refusals)


async def _take_units_and_record(
    uow: UnitOfWork,
    fund: UUID,
    live: list[tuple[int, FirstOrder]],
    held: dict[UUID, int],
    *,
    first: datetime,
    last: datetime,
) -> None:
    """The group's units from the offering and its events, in one statement; if too few
    units are left, the offering's row is locked and what is left shared out
    (``rules.share_out``): the orders that get nothing are refused (``_Refused``)."""
    guard = store.take_units_guard(
        fund_id=fund,
        units=sum(o.subscription.units for _, o in live),
        new_investors=sum(
            rules.joins_fund(held[o.subscription.investor_id], units=o.subscription.units)
            for _, o in live
        ),
        first=first,
        last=last,
    )
    events = [(placed_event(o.subscription), o.correlation_id) for _, o in live]
    if await uow.emit_many(events, subject=str(fund), guarded=guard) is not None:
        return
    offering = await store.lock_offering(uow.session, fund)
    status = OfferingStatus(offering.status)
    refusals: dict[int, ProblemError] = {}
    takes = rules.share_out(
        offering.units_left,
        [
            o.subscription.units
            if status is OfferingStatus.OPEN
            and offering.offering_start <= o.subscription.placed_at < offering.offering_end
            else None
            for _, o in live
        ],
    )
    for (i, order), take in zip(live, takes, strict=True):
        if not take:
            try:
                rules.refuse_lost_race(
                    status=status,
                    offering_end=offering.offering_end,
                    now=order.subscription.placed_at,
                )
            except ProblemError as refusal:
                refusals[i] = refusal
    if refusals:
        raise _Refused(refusals)
    # Units came back meanwhile: every order fits, and the row is held now.
    written = await uow.emit_many(events, subject=str(fund), guarded=guard)
    assert written is not None


def placed_event(sub: NewSubscription) -> SubscriptionPlaced:
    """The event of a placed subscription."""
    return SubscriptionPlaced(
        subscription_id=sub.id,
        fund_id=sub.fund_id,
        investor_id=sub.investor_id,
        units=sub.units,
        unit_price=sub.unit_price,
        handling_fee_per_unit=sub.handling_fee_per_unit,
        amount_due=sub.amount_due,
        currency=sub.currency,
        payment_reference=sub.payment_reference,
        payment_deadline=sub.payment_deadline,
        placed_at=sub.placed_at,
    )
