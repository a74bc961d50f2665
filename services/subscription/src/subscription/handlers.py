"""Events the subscription service handles: each payload maps to one service function."""

from __future__ import annotations

from kumiai.contracts.ledger import PaymentReceived, PayoutInstructed
from kumiai.contracts.onboarding import FundOpened, FundOpenedV1
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from subscription.investors import service as investors
from subscription.offerings import service as offerings
from subscription.subscriptions import service as subscriptions


async def on_fund_opened(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundOpened | FundOpenedV1)
    await offerings.open_offering(uow, event=payload, event_id=envelope.id)


async def on_payment_received(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, PaymentReceived)
    await subscriptions.confirm_payment(uow, event=payload)


async def on_payout_instructed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, PayoutInstructed)
    await investors.record_payout_instruction(uow, event=payload)


HANDLERS: dict[str, Handler] = {
    FundOpened.event_type: on_fund_opened,
    PaymentReceived.event_type: on_payment_received,
    PayoutInstructed.event_type: on_payout_instructed,
}
