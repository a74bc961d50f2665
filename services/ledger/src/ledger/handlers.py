"""Events the ledger handles: each maps an event payload to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from kumiai.contracts.onboarding import FundOpenedV1, FundOpenedV2
from kumiai.contracts.subscription import (
    DistributionAllocated,
    DividendDeclaredV1,
    FundClosed,
    SubscriptionCancelled,
    SubscriptionPlaced,
)
from kumiai.contracts.subsidy import SubsidyGranted, SubsidyRevoked
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import BatchHandler, Handler
from ledger.closing import service as closing
from ledger.deposits import service as deposits
from ledger.distributions import service as distributions
from ledger.grants import service as grants


async def on_fund_opened(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundOpenedV2 | FundOpenedV1)
    await closing.open_fund(uow, event=payload)


async def on_subscriptions_placed(
    uow: UnitOfWork, events: Sequence[tuple[EventPayload, Envelope]]
) -> None:
    placed = []
    for payload, _ in events:
        assert isinstance(payload, SubscriptionPlaced)
        placed.append(payload)
    await deposits.expect_payments(uow, events=placed)


on_subscription_placed = BatchHandler(on_subscriptions_placed)


async def on_subscription_cancelled(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, SubscriptionCancelled)
    await closing.cancel_subscription(uow, event=payload, causation=envelope.id)


async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundClosed)
    await closing.close_fund(uow, event=payload, causation=envelope.id)


async def on_dividend_declared(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, DividendDeclaredV1)
    await distributions.declare(uow, event=payload)


async def on_distribution_allocated(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, DistributionAllocated)
    await distributions.allocate(uow, event=payload)


async def on_subsidy_granted(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, SubsidyGranted)
    await grants.grant(uow, event=payload)


async def on_subsidy_revoked(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, SubsidyRevoked)
    await grants.revoke(uow, event=payload)


HANDLERS: dict[str, Handler] = {
    FundOpenedV2.event_type: on_fund_opened,
    SubscriptionPlaced.event_type: on_subscription_placed,
    SubscriptionCancelled.event_type: on_subscription_cancelled,
    FundClosed.event_type: on_fund_closed,
    DividendDeclaredV1.event_type: on_dividend_declared,
    DistributionAllocated.event_type: on_distribution_allocated,
    SubsidyGranted.event_type: on_subsidy_granted,
    SubsidyRevoked.event_type: on_subsidy_revoked,
}
