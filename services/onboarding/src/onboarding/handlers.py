"""Events onboarding handles: each maps an event to one service function."""

from __future__ import annotations

from kumiai.contracts.subscription import FundClosed
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from onboarding.funds import service as funds


async def on_fund_closed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    """A fund's offering closed: record its outcome."""
    assert isinstance(payload, FundClosed)
    await funds.record_closing(uow, event=payload)


HANDLERS: dict[str, Handler] = {FundClosed.event_type: on_fund_closed}
