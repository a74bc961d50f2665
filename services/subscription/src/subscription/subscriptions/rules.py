"""Subscriptions: who may subscribe, within which limits, and what paying, cancelling,
expiring and a fund's failure do to a subscription (pure).

No SQLAlchemy, no web framework, no I/O. Every limit is also one conditional
statement in ``subscriptions.store`` (decision 0007), so that no interleaving
of requests passes it; each rule names its statement and each statement its rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NoReturn
from uuid import UUID

from kumiai.contracts.ledger import RefundReason
from kumiai.contracts.subscription import CancellationReason
from kumiai.periods import end_of_nth_day, in_past_year, one_year_before
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound, UnprocessableContent
from subscription.investors.rules import Standing, VerificationStatus, no_investor, own_id
from subscription.offerings.rules import OfferingStatus, no_offering, takes_subscriptions

STATUTORY_COOLING_OFF_DAYS = 8
"""The shortest cooling-off period the platform may offer (DOMAIN.md), in calendar days."""


class SubscriptionStatus(StrEnum):
    PLACED = "placed"
    """Units reserved; the amount due is awaited by the payment deadline."""
    CONFIRMED = "confirmed"
    """Paid in full; the units count towards the fund."""
    CANCELLED = "cancelled"
    """Withdrawn by the investor or staff, unpaid at the deadline, or its offering withdrawn."""
    REFUNDED = "refunded"
    """Paid, but the fund failed to form: the money goes back and the units never existed."""


LIVE_STATUSES = frozenset({SubscriptionStatus.PLACED, SubscriptionStatus.CONFIRMED})
"""Subscriptions that hold units and count towards the investor's limits."""

_NEXT: dict[SubscriptionStatus, frozenset[SubscriptionStatus]] = {
    SubscriptionStatus.PLACED: frozenset(
        {SubscriptionStatus.CONFIRMED, SubscriptionStatus.CANCELLED}
    ),
    SubscriptionStatus.CONFIRMED: frozenset(
        {SubscriptionStatus.CANCELLED, SubscriptionStatus.REFUNDED}
    ),
    SubscriptionStatus.CANCELLED: frozenset(),
    SubscriptionStatus.REFUNDED: frozenset(),
}


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


class IllegalTransition(ValueError):
    """A change of status the state machine does not have: a bug, never a caller's error."""


def no_subscription() -> SubscriptionNotFound:
    """Absent and not the caller's look the same, and the answer names no id."""
    return SubscriptionNotFound("no such subscription")


def next_status(current: SubscriptionStatus, to: SubscriptionStatus) -> SubscriptionStatus:
    """A subscription is placed, then confirmed (paid) or cancelled; a confirmed one is
    cancelled or, when its fund fails, refunded; cancelled and refunded are final.

    The database accepts only these statuses (``ck_subscriptions_status_known``).
    """
    if to not in _NEXT[current]:
        raise IllegalTransition(f"a {current} subscription does not become {to}")
    return to


# -- Who reads ---------------------------------------------------------------------------


def may_read(principal: Principal, *, investor_id: UUID) -> bool:
    """An investor's subscriptions and "My page" are read by the investor itself and staff."""
    if principal.role is Role.STAFF:
        return True
    return principal.role is Role.INVESTOR and principal.tenant == str(investor_id)


def check_my_page(principal: Principal, *, investor_id: UUID) -> None:
    """Anyone but the investor and staff is told the investor does not exist."""
    if not may_read(principal, investor_id=investor_id):
        raise no_investor()


# -- Placing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """What an investor owes for ``units`` of a fund."""

    units: int
    unit_price: int
    handling_fee_per_unit: int

    @property
    def amount_due(self) -> int:
        """The units' price and handling fees: units x (unit price + handling fee)."""
        return self.units * (self.unit_price + self.handling_fee_per_unit)

    @property
    def commitment(self) -> int:
        """What counts towards the yearly limit per issuer: the units' price, fees excluded."""
        return self.units * self.unit_price


def subscriber_id(principal: Principal) -> UUID:
    """Investors subscribe for themselves, under their token's id."""
    if principal.role is not Role.INVESTOR:
        raise Forbidden("investors subscribe for themselves")
    return own_id(principal)


def check_eligible(standing: Standing | None, *, current_risk_notice: str) -> None:
    """An investor subscribes once registered, its identity verified, and the current risk
    notice acknowledged."""
    if standing is None:
        raise NotEligible("register as an investor first")
    if standing.verification is not VerificationStatus.VERIFIED:
        raise NotEligible(f"identity verification is {standing.verification}")
    if standing.risk_notice_version != current_risk_notice:
        raise NotEligible("acknowledge the current risk notice first", current=current_risk_notice)


def check_offering_open(
    *, status: OfferingStatus, start: datetime, end: datetime, now: datetime
) -> None:
    """Subscriptions are taken only while the offering is open and within its window
    (``offerings.rules.takes_subscriptions``; ``TAKE_UNITS`` checks it again)."""
    if not takes_subscriptions(status=status, start=start, end=end, now=now):
        raise OfferingNotOpen("the offering is not open")


def check_terms(acknowledged: str | None, *, current: str | None) -> None:
    """The investor acknowledges the fund's current terms by their digest (a fund announced
    without a digest has none to acknowledge)."""
    if current is not None and acknowledged != current:
        raise NotEligible(
            "acknowledge the fund's current terms (terms_digest)", terms_digest=current
        )


@dataclass(frozen=True)
class Offer:
    """An offering as an order reads it, before any lock (``TAKE_UNITS`` decides for certain)."""

    status: OfferingStatus
    start: datetime
    end: datetime
    terms_digest: str | None
    units_sold: int
    units_offered: int
    unit_price: int
    handling_fee_per_unit: int
    currency: str
    msme_id: UUID
    max_units_per_investor: int


@dataclass(frozen=True)
class OrderFacts:
    """What an order is decided on, read together before any lock (``ORDER_FACTS``)."""

    standing: Standing | None
    """None if the investor never registered."""
    offer: Offer | None
    """None if there is no such offering."""
    held: int | None
    """The investor's units in the fund, placed and paid; none if it never ordered in it."""


def check_order(
    facts: OrderFacts,
    *,
    units: int,
    terms_digest: str | None,
    current_risk_notice: str,
    now: datetime,
) -> Offer:
    """An order is taken from an eligible investor (``check_eligible``) for an existing
    offering that is open (``check_offering_open``), on its current terms (``check_terms``),
    while enough units are left (``check_units_left``), in this order. Answers the offering."""
    check_eligible(facts.standing, current_risk_notice=current_risk_notice)
    offer = facts.offer
    if offer is None:
        raise no_offering()
    check_offering_open(status=offer.status, start=offer.start, end=offer.end, now=now)
    check_terms(terms_digest, current=offer.terms_digest)
    check_units_left(units=units, units_sold=offer.units_sold, units_offered=offer.units_offered)
    return offer


@dataclass(frozen=True)
class NewSubscription:
    """A subscription as an order places it: the units reserved, what is due, and by when."""

    id: UUID
    fund_id: UUID
    investor_id: UUID
    msme_id: UUID
    units: int
    unit_price: int
    handling_fee_per_unit: int
    amount_due: int
    currency: str
    payment_reference: str
    payment_deadline: datetime
    cooling_off_until: datetime
    terms_digest: str | None
    status: SubscriptionStatus
    placed_at: datetime


def new_subscription(
    *,
    id: UUID,
    investor_id: UUID,
    fund_id: UUID,
    offer: Offer,
    order: Order,
    payment_reference: str,
    due: Deadlines,
    placed_at: datetime,
) -> NewSubscription:
    """A placed subscription for ``order``, priced and termed as the offering reads."""
    return NewSubscription(
        id=id,
        fund_id=fund_id,
        investor_id=investor_id,
        msme_id=offer.msme_id,
        units=order.units,
        unit_price=order.unit_price,
        handling_fee_per_unit=order.handling_fee_per_unit,
        amount_due=order.amount_due,
        currency=offer.currency,
        payment_reference=payment_reference,
        payment_deadline=due.payment,
        cooling_off_until=due.cooling_off_until,
        terms_digest=offer.terms_digest,
        status=SubscriptionStatus.PLACED,
        placed_at=placed_at,
    )


def refused_before_key(facts: OrderFacts) -> bool:
    """Whether an order refused on its facts is answered before its Idempotency-Key is
    looked up: only when the investor never ordered in the fund.

    A placed order writes the investor's position in the same transaction as its key,
    and positions are never deleted (a cancellation only lowers the units). So with no
    position there is no stored response to replay, and a refusal writes nothing: the
    order is answered without a transaction. With a position, the key is looked up first,
    so that a retried order gets the answer it got the first time.
    """
    return facts.held is None


def check_units_left(*, units: int, units_sold: int, units_offered: int) -> None:
    """No more units are sold than are offered.

    Checked first on what the order read, then for certain by ``TAKE_UNITS``
    (``UPDATE offerings ... WHERE units_sold + :units <= units_offered``) and
    ``ck_offerings_units_within_offer``.
    """
    if units_sold + units > units_offered:
        left = units_offered - units_sold
        raise SoldOut(f"{left} unit(s) left", units_left=left)


def check_investor_limit(held: int | None, *, most: int) -> int:
    """An investor holds at most the fund's maximum units per investor, placed and paid together.

    ``held`` is what ``RESERVE_POSITION`` answered: the investor's units after this order,
    or none when its ``WHERE positions.units + EXCLUDED.units <= :most`` refused to add them
    (a first order is inserted unchecked, so it is compared here). Answers the units held.
    """
    if held is None or held > most:
        raise OverLimit(f"at most {most} unit(s) per investor in this fund", most=most)
    return held


def joins_fund(held: int, *, units: int) -> bool:
    """The order is the investor's only live one in the fund: it counts as a new investor."""
    return held == units


def issuer_limit_window_start(at: datetime) -> datetime:
    """The instant after which subscriptions count towards the per-issuer limit at ``at``.

    The window is the past year of ``kumiai.periods.in_past_year``. The database
    query (the sum of ``ADD_SUBSCRIPTION_COUNTING_ISSUER`` in ``subscriptions.store``,
    formerly ``COMMITTED_TO_ISSUER``) counts every
    live subscription placed after this instant, later ones included: a concurrent
    subscription whose clock ran a moment ahead must count, never slip through.
    """
    return one_year_before(at)


def counts_towards_issuer_limit(
    status: SubscriptionStatus, placed_at: datetime, *, at: datetime
) -> bool:
    """Whether a subscription counts towards its investor's limit for its issuer at ``at``:
    it is live (placed or confirmed) and placed within the past year (or later)."""
    if status not in LIVE_STATUSES:
        return False
    return placed_at > at or in_past_year(placed_at, at=at)


def issuer_limit_applies(limit: int) -> bool:
    """A yearly limit per issuer of 0 means no limit: nothing is locked or summed."""
    return limit != 0


def within_issuer_limit(committed: int, commitment: int, limit: int) -> bool:
    """Whether committing ``commitment`` more to an issuer keeps the investor within ``limit``.

    ``committed`` is summed by ``ADD_SUBSCRIPTION_COUNTING_ISSUER`` under the lock that
    ``RESERVE_POSITION_AND_LOCK_ISSUER`` took on the investor's row for the issuer
    (``subscriptions.store``; formerly ``COMMITTED_TO_ISSUER`` and ``LOCK_ISSUER``), so
    concurrent subscriptions of one investor to one issuer are checked one after another.
    A limit of 0 means no limit.
    """
    return limit == 0 or committed + commitment <= limit


def check_issuer_limit(*, committed: int, commitment: int, limit: int) -> None:
    """An investor commits at most ``issuer_yearly_limit`` to one issuer in the 12 months
    before a subscription (``within_issuer_limit``)."""
    if not within_issuer_limit(committed, commitment, limit):
        raise OverLimit(
            f"at most {limit} per issuer per year (the 12 months before this subscription); "
            f"{committed} already committed, this subscription commits {commitment}",
            limit=limit,
            committed=committed,
        )


def share_out(units_left: int, wanted: Sequence[int | None]) -> list[bool]:
    """Which of a group's orders get their units when the group's ``TAKE_UNITS`` found too
    few left (``subscriptions.placing``): in arrival order, each order the offering still
    takes (``None``: it no longer does) gets its units if that many are left, as it would
    alone; one that wants more than are left leaves them to the orders after it."""
    takes = []
    for units in wanted:
        take = units is not None and units <= units_left
        if units is not None and take:
            units_left -= units
        takes.append(take)
    return takes


def refuse_lost_race(*, status: OfferingStatus, offering_end: datetime, now: datetime) -> NoReturn:
    """Why ``TAKE_UNITS`` took no units after the order's own checks passed: the offering
    was withdrawn, closed or ended while the order waited for its row, or sold out."""
    if status is not OfferingStatus.OPEN or now >= offering_end:
        raise OfferingNotOpen("the offering is not open")
    raise SoldOut("not enough units are left", units_left=0)


def cooling_off_until(
    placed_at: datetime, *, days: int, test_period: timedelta | None = None
) -> datetime:
    """The end of the cooling-off period of a contract made at ``placed_at``.

    The end of the ``days``-th day in Japan, counting the day of the contract;
    ``test_period`` (only ever set in tests and development) replaces the
    calendar rule with a plain duration.
    """
    if test_period is not None:
        return placed_at + test_period
    return end_of_nth_day(placed_at, days)


@dataclass(frozen=True)
class Deadlines:
    """When a new subscription must be paid, and until when it may be cancelled."""

    payment: datetime
    cooling_off_until: datetime


def deadlines(
    placed_at: datetime,
    *,
    payment: timedelta,
    cooling_off_days: int,
    cooling_off_test_period: timedelta | None = None,
) -> Deadlines:
    """The payment deadline and the end of the cooling-off period of a new subscription."""
    return Deadlines(
        payment=placed_at + payment,
        cooling_off_until=cooling_off_until(
            placed_at, days=cooling_off_days, test_period=cooling_off_test_period
        ),
    )


# -- Paying, cancelling, expiring, refunding ----------------------------------------------


def payment_applies(status: SubscriptionStatus) -> bool:
    """A payment confirms a placed subscription only; one for a subscription already
    cancelled changes nothing here, as the ledger refunds it on the cancellation."""
    return status is SubscriptionStatus.PLACED


def check_payment(subscription_id: UUID, *, amount: int, amount_due: int) -> None:
    """A subscription is paid by exactly its amount due; anything else is the ledger's bug."""
    if amount != amount_due:
        raise ValueError(
            f"payment of {amount} for subscription {subscription_id} that owes {amount_due}"
        )


def is_overdue(status: SubscriptionStatus, *, payment_deadline: datetime, now: datetime) -> bool:
    """A placed subscription not paid by its deadline expires (is cancelled as unpaid).

    ``subscriptions.store.lock_overdue`` claims exactly these rows.
    """
    return status is SubscriptionStatus.PLACED and payment_deadline <= now


def check_investor_cancel(
    status: SubscriptionStatus, cooling_off_until: datetime, now: datetime
) -> None:
    """An investor cancels a live subscription only within its cooling-off period."""
    if status not in LIVE_STATUSES:
        raise CancelNotAllowed(f"the subscription is already {status.value}")
    if now >= cooling_off_until:
        raise CancelNotAllowed(f"the cooling-off period ended at {cooling_off_until.isoformat()}")


def cancellation_reason(
    principal: Principal,
    *,
    status: SubscriptionStatus,
    cooling_off_until: datetime,
    fund_status: OfferingStatus,
    now: datetime,
) -> CancellationReason:
    """While the fund is open, the investor cancels within the cooling-off period and staff
    cancel any live subscription; nobody else cancels."""
    if fund_status is not OfferingStatus.OPEN:
        raise CancelNotAllowed(f"the fund is {fund_status}")
    if principal.role is Role.INVESTOR:
        check_investor_cancel(status, cooling_off_until, now)
        return CancellationReason.COOLING_OFF
    if principal.role is Role.STAFF:
        if status not in LIVE_STATUSES:
            raise CancelNotAllowed(f"the subscription is already {status.value}")
        return CancellationReason.STAFF
    raise Forbidden("only the investor or staff cancel a subscription")


@dataclass(frozen=True)
class Release:
    """What a cancelled subscription gives back to its offering."""

    units: int
    """Units back on sale."""
    units_confirmed: int
    """Of those, units that had been paid for."""
    investors: int
    """1 when the investor holds nothing more in the fund, else 0."""


def release(status: SubscriptionStatus, *, units: int, still_held: int | None) -> Release:
    """A cancelled subscription's units go back on sale (paid ones leave the confirmed count
    too), and its investor stops counting once it holds nothing in the fund.

    Its commitment to the issuer is freed by its status alone: the limit sums live ones.
    """
    return Release(
        units=units,
        units_confirmed=units if status is SubscriptionStatus.CONFIRMED else 0,
        investors=int(still_held == 0),
    )


@dataclass(frozen=True)
class FailedFundRefund:
    """What a fund's failure does to its subscriptions, applied to all of them in one statement."""

    paid: SubscriptionStatus
    """The status of the subscriptions it refunds."""
    status: SubscriptionStatus
    reason: RefundReason
    at: datetime


def failed_fund_refund(now: datetime) -> FailedFundRefund:
    """When a fund fails to form, its paid subscriptions become refunded (reason
    ``fund_failed``): they leave the holdings and the yearly limit, and the ledger refunds
    them when it hears ``FundClosed`` (no cancellation, so no second refund).

    The database holds a refunded subscription to having been paid, with its reason and
    time (``ck_subscriptions_refund_recorded``, ``ck_subscriptions_refund_reason_known``).
    """
    return FailedFundRefund(
        paid=SubscriptionStatus.CONFIRMED,
        status=next_status(SubscriptionStatus.CONFIRMED, SubscriptionStatus.REFUNDED),
        reason=RefundReason.FUND_FAILED,
        at=now,
    )


def is_held(status: SubscriptionStatus) -> bool:
    """Paid (confirmed) subscriptions are the investor's holdings; a refunded one is not.

    ``subscriptions.store.readable_holdings`` and ``offerings.store.freeze_register``
    sum exactly these.
    """
    return status is SubscriptionStatus.CONFIRMED
