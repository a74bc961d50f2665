"""Events the subsidy service handles: each maps an event payload to one service function.

It learns businesses' onboarding applications and funds from onboarding
(``ApplicationSubmitted``, ``ApplicationDecided``, ``FundOpened`` of any schema version,
``FundCancelled``), funds' outcomes from subscription (``FundClosed``) and the
municipalities' payments from the ledger (``SubsidyPaid``). Any topic may be ahead of
another; every function takes its event in any order and more than once.
"""

from __future__ import annotations

from kumiai.contracts.ledger import SubsidyPaid
from kumiai.contracts.onboarding import (
    ApplicationDecided,
    ApplicationSubmitted,
    FundCancelled,
    FundOpenedV1,
    FundOpenedV2,
)
from kumiai.contracts.subscription import FundClosed
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from subsidy.awards import service as awards
from subsidy.facts import service as facts


async def on_application_submitted(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, ApplicationSubmitted)
    await facts.record_submission(uow, event=payload)


async def on_application_decided(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, ApplicationDecided)
    await facts.record_decision(uow, event=payload)


async def on_fund_opened(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    # The registry gives the class of the event's schema version: v3 subclasses v2, and v1
    # (no application, no fees) is recorded as nothing.
    assert isinstance(payload, FundOpenedV2 | FundOpenedV1)
    await facts.record_opening(uow, event=payload)


async def on_fund_cancelled(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundCancelled)
    await awards.fund_cancelled(uow, event=payload)


async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundClosed)
    await awards.fund_closed(uow, event=payload)


async def on_subsidy_paid(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, SubsidyPaid)
    await awards.record_payment(uow, event=payload)


HANDLERS: dict[str, Handler] = {
    ApplicationSubmitted.event_type: on_application_submitted,
    ApplicationDecided.event_type: on_application_decided,
    FundOpenedV2.event_type: on_fund_opened,
    FundCancelled.event_type: on_fund_cancelled,
    FundClosed.event_type: on_fund_closed,
    SubsidyPaid.event_type: on_subsidy_paid,
}
