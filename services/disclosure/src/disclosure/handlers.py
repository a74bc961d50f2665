"""Events the disclosure service handles: each payload maps to one service function.

It learns funds from onboarding (``FundOpened``, ``FundCancelled``) and their outcome
and holders from subscription (``FundClosed``, ``SubscriptionConfirmed``,
``SubscriptionCancelled``); distributions from subscription (``DividendDeclared``, either
schema version) and the ledger (``DistributionPaid``). Any topic may be ahead of another.
"""

from __future__ import annotations

from disclosure.deadlines.rules import DueMonths
from disclosure.distributions import service as distributions
from disclosure.documents import service as documents
from disclosure.funds import service as funds
from kumiai.contracts.ledger import DistributionPaid
from kumiai.contracts.onboarding import FundCancelled, FundOpenedV1, FundOpenedV2
from kumiai.contracts.subscription import (
    DividendDeclaredV1,
    FundClosed,
    SubscriptionCancelled,
    SubscriptionConfirmed,
)
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler


def handlers(due: DueMonths) -> dict[str, Handler]:
    """The handlers, with the months after a period each report is due."""

    async def on_fund_opened(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, FundOpenedV2 | FundOpenedV1)
        await funds.record_opening(uow, event=payload, due=due)
        if isinstance(payload, FundOpenedV2):
            await documents.publish_offering_document(uow, event=payload)

    async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, FundClosed)
        await funds.record_closing(uow, event=payload, due=due)

    async def on_fund_cancelled(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, FundCancelled)
        await funds.record_cancellation(uow, event=payload)

    async def on_subscription_confirmed(
        uow: UnitOfWork, payload: EventPayload, envelope: Envelope
    ) -> None:
        assert isinstance(payload, SubscriptionConfirmed)
        await funds.record_confirmation(uow, event=payload)

    async def on_subscription_cancelled(
        uow: UnitOfWork, payload: EventPayload, envelope: Envelope
    ) -> None:
        assert isinstance(payload, SubscriptionCancelled)
        await funds.record_cancellation_of_subscription(uow, event=payload)

    async def on_dividend_declared(
        uow: UnitOfWork, payload: EventPayload, envelope: Envelope
    ) -> None:
        # v2 (with the fees) subclasses v1; what disclosure keeps is in both.
        assert isinstance(payload, DividendDeclaredV1)
        await distributions.record_declaration(uow, event=payload)

    async def on_distribution_paid(
        uow: UnitOfWork, payload: EventPayload, envelope: Envelope
    ) -> None:
        assert isinstance(payload, DistributionPaid)
        await distributions.record_payment(uow, event=payload)

    return {
        DividendDeclaredV1.event_type: on_dividend_declared,
        DistributionPaid.event_type: on_distribution_paid,
        FundOpenedV2.event_type: on_fund_opened,
        FundClosed.event_type: on_fund_closed,
        FundCancelled.event_type: on_fund_cancelled,
        SubscriptionConfirmed.event_type: on_subscription_confirmed,
        SubscriptionCancelled.event_type: on_subscription_cancelled,
    }


HANDLERS: dict[str, Handler] = handlers(DueMonths())
"""The handlers with the default due months (for tools that need no environment)."""
