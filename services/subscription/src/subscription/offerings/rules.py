"""Offerings: what is on offer, how far it has got, and how it ends (pure).

No SQLAlchemy, no web framework, no I/O. ``service.py`` acts on what these
functions decide; where the database enforces a rule too, the rule's docstring
names the statement and the statement's comment names the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from kumiai.contracts.onboarding import AnyFundOpened, FundOpenedV2
from kumiai.contracts.subscription import FundOutcome
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound


class OfferingStatus(StrEnum):
    """An offering's state: open until it closes (formed or failed) or staff withdraw it.

    The database accepts only these values (``ck_offerings_status_known``).
    """

    OPEN = "open"
    CLOSED_SUCCEEDED = "closed_succeeded"
    CLOSED_FAILED = "closed_failed"
    CANCELLED = "cancelled"


class IllegalTransition(ValueError):
    """A change of status the state machine does not have: a bug, never a caller's error."""


def next_status(current: OfferingStatus, to: OfferingStatus) -> OfferingStatus:
    """An open offering closes (the fund formed or failed) or is withdrawn, once: every
    status but open is final."""
    if current is not OfferingStatus.OPEN or to is OfferingStatus.OPEN:
        raise IllegalTransition(f"an offering {current} does not become {to}")
    return to


class OfferingPhase(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    SOLD_OUT = "sold_out"
    ENDED = "ended"


class OfferingNotFound(NotFound):
    problem = "offering-not-found"
    title = "No such offering"


class CancelRefusedClosed(Conflict):
    problem = "offering-closed"
    title = "The offering has already closed"


def no_offering() -> OfferingNotFound:
    """The one answer for an offering that does not exist."""
    return OfferingNotFound("no such offering")


def may_read(principal: Principal | None) -> bool:
    """Offerings are public: anyone, with a token or without, reads every offering's progress."""
    return True


@dataclass(frozen=True)
class OfferingTerms:
    """The terms a fund is offered on, as onboarding announced them in ``FundOpened``."""

    fund_id: UUID
    msme_id: UUID
    name: str
    currency: str
    unit_price: int
    handling_fee_per_unit: int
    donation_per_unit: int
    units_offered: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime
    terms_digest: str | None
    terms: dict[str, Any] | None = None
    """Every term as published (v2 and later), for the distributions."""


def terms_of(event: AnyFundOpened) -> OfferingTerms:
    """A fund's terms from its opening event; a version 1 event carried no donation (none
    is part of the price) and no digest of the terms (none for investors to acknowledge)."""
    current = event if isinstance(event, FundOpenedV2) else None
    return OfferingTerms(
        fund_id=event.fund_id,
        msme_id=event.msme_id,
        name=event.name,
        currency=event.currency,
        unit_price=event.unit_price,
        handling_fee_per_unit=event.handling_fee_per_unit,
        donation_per_unit=current.donation_per_unit if current else 0,
        units_offered=event.units_offered,
        formation_threshold_units=event.formation_threshold_units,
        max_units_per_investor=event.max_units_per_investor,
        offering_start=event.offering_start,
        offering_end=event.offering_end,
        terms_digest=current.terms_digest if current else None,
        terms=current.model_dump(mode="json") if current else None,
    )


def price_per_unit_with_fee(*, unit_price: int, handling_fee_per_unit: int) -> int:
    """What one unit costs an investor: its price plus the handling fee."""
    return unit_price + handling_fee_per_unit


def sold_out(*, units_sold: int, units_offered: int) -> bool:
    """Every unit on offer is reserved or paid for.

    The database never lets ``units_sold`` pass ``units_offered``
    (``ck_offerings_units_within_offer``, and ``subscriptions.store.TAKE_UNITS``).
    """
    return units_sold >= units_offered


def takes_subscriptions(
    *, status: OfferingStatus, start: datetime, end: datetime, now: datetime
) -> bool:
    """An offering takes subscriptions while it is open and ``now`` lies in its window.

    ``subscriptions.store.TAKE_UNITS`` checks it again in the statement that takes
    the units, so an offering that closes or ends meanwhile sells nothing more.
    """
    return status is OfferingStatus.OPEN and start <= now < end


def offering_phase(
    *, now: datetime, start: datetime, end: datetime, units_sold: int, units_offered: int
) -> OfferingPhase:
    """Where an offering stands at ``now``: before, during, sold out, or after its window."""
    if now < start:
        return OfferingPhase.SCHEDULED
    if now >= end:
        return OfferingPhase.ENDED
    if sold_out(units_sold=units_sold, units_offered=units_offered):
        return OfferingPhase.SOLD_OUT
    return OfferingPhase.OPEN


def days_left(*, now: datetime, end: datetime) -> int:
    """Whole days until the offering ends (0 once it has ended), rounded up."""
    seconds = (end - now).total_seconds()
    if seconds <= 0:
        return 0
    return int(-(-seconds // 86_400))


def may_close(
    *,
    now: datetime,
    offering_end: datetime,
    sold_out: bool,
    unpaid: int,
    cooling_off_pending: int,
) -> bool:
    """An offering closes at its end, or earlier once sold out, fully paid and past every
    cooling-off period; never while a subscription awaits payment or may still be cancelled.

    ``offerings.store.next_due_to_close`` finds the candidates with the same conditions
    (``unpaid``: placed subscriptions; ``cooling_off_pending``: confirmed ones whose
    cooling-off period has not ended), and the closer decides again under the row's lock.
    """
    if unpaid or cooling_off_pending:
        return False
    return now >= offering_end or sold_out


def outcome(units_confirmed: int, threshold: int) -> FundOutcome:
    """A fund forms when its confirmed units reach the formation threshold."""
    return FundOutcome.SUCCEEDED if units_confirmed >= threshold else FundOutcome.FAILED


@dataclass(frozen=True)
class Closing:
    """How an offering ends: the fund's outcome, the offering's last status, what it raised."""

    outcome: FundOutcome
    status: OfferingStatus
    units_confirmed: int
    amount_raised: int
    handling_fees_collected: int

    @property
    def freezes_register(self) -> bool:
        """A formed fund's holdings register is frozen; a failed fund refunds instead."""
        return self.outcome is FundOutcome.SUCCEEDED


_CLOSED = {
    FundOutcome.SUCCEEDED: OfferingStatus.CLOSED_SUCCEEDED,
    FundOutcome.FAILED: OfferingStatus.CLOSED_FAILED,
}


def closing(
    *,
    units_confirmed: int,
    formation_threshold_units: int,
    unit_price: int,
    handling_fee_per_unit: int,
) -> Closing:
    """The end of an offering at its close: formed or failed by the formation threshold,
    having raised the paid units' price and collected their handling fees."""
    result = outcome(units_confirmed, formation_threshold_units)
    return Closing(
        outcome=result,
        status=_CLOSED[result],
        units_confirmed=units_confirmed,
        amount_raised=units_confirmed * unit_price,
        handling_fees_collected=units_confirmed * handling_fee_per_unit,
    )


def withdrawal() -> Closing:
    """A withdrawn offering ends as a failed fund that raised nothing: its subscriptions
    are cancelled one by one first, so the ledger refunds each of them."""
    return Closing(
        outcome=FundOutcome.FAILED,
        status=OfferingStatus.CANCELLED,
        units_confirmed=0,
        amount_raised=0,
        handling_fees_collected=0,
    )


def check_may_withdraw(principal: Principal) -> None:
    """Only platform staff withdraw an offering."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff cancel an offering")


def check_withdrawable(status: OfferingStatus) -> None:
    """Only an open offering is withdrawn; one that closed or was withdrawn stays as it ended."""
    if status is not OfferingStatus.OPEN:
        raise CancelRefusedClosed(f"the offering is {status}")
