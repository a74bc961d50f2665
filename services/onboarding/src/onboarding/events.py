"""Events onboarding handles: each maps an event to a use case."""

from __future__ import annotations

from kumiai.contracts.subscription import FundClosed
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from onboarding import funds


async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundClosed)
    await funds.record_closing(uow, payload)


HANDLERS: dict[str, Handler] = {FundClosed.event_type: on_fund_closed}
