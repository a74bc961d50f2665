"""Events subscription handles: each maps an event to a use case."""

from __future__ import annotations

from kumiai.contracts.onboarding import FundOpened, FundOpenedV1
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import Handler
from subscription import use_cases


async def on_fund_opened(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, FundOpened | FundOpenedV1)
    await use_cases.open_offering(uow, payload, event_id=envelope.id)


HANDLERS: dict[str, Handler] = {FundOpened.event_type: on_fund_opened}
