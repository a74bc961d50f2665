"""Events onboarding handles: each maps an event to one service function.

Onboarding hears every service (its own events too) for partners' webhooks: each
event a partner may see becomes a delivery in the transaction that handles it.
"""

from __future__ import annotations

from kumiai.contracts.disclosure import DisclosureOverdue
from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayoutsInstructed,
    FundsReleased,
    PaymentReceived,
    PayoutInstructed,
    SubsidyPaid,
)
from kumiai.contracts.onboarding import FundCancelled, FundOpened
from kumiai.contracts.subscription import FundClosed
from kumiai.contracts.subsidy import SubsidyGranted, SubsidyRevoked
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from onboarding.funds import service as funds
from onboarding.webhooks import service as webhooks


async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    """A fund's offering closed: record its outcome and tell the partners following it."""
    assert isinstance(payload, FundClosed)
    await funds.record_closing(uow, event=payload)
    await webhooks.announce(uow, payload, envelope)


HANDLERS: dict[str, Handler] = {
    FundClosed.event_type: on_fund_closed,
    **{
        event.event_type: webhooks.announce
        for event in (
            FundOpened,
            FundCancelled,
            FundsReleased,
            PaymentReceived,
            PayoutInstructed,
            DistributionPayoutsInstructed,
            DistributionPaid,
            SubsidyPaid,
            SubsidyGranted,
            SubsidyRevoked,
            DisclosureOverdue,
        )
    },
}
