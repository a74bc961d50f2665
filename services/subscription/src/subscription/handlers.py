"""Events the subscription service handles: each payload maps to one service function."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from kumiai.contracts.disclosure import SalesReported
from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayoutsInstructed,
    PaymentReceived,
    PayoutInstructed,
)
from kumiai.contracts.onboarding import AnyFundOpened, FundOpenedV1, FundOpenedV2
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.inbox import BatchHandler, Handler
from subscription.distributions import service as distributions
from subscription.investors import service as investors
from subscription.offerings import service as offerings
from subscription.subscriptions import service as subscriptions
from subscription.transfers import service as transfers


async def on_funds_opened(uow: UnitOfWork, events: Sequence[tuple[EventPayload, Envelope]]) -> None:
    await offerings.open_offerings(uow, events=(_opened(p, e) for p, e in events))


def _opened(payload: EventPayload, envelope: Envelope) -> tuple[AnyFundOpened, UUID]:
    assert isinstance(payload, FundOpenedV2 | FundOpenedV1)
    return payload, envelope.id


on_fund_opened = BatchHandler(on_funds_opened)


async def on_payment_received(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, PaymentReceived)
    await subscriptions.confirm_payment(uow, event=payload)


async def on_payout_instructed(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, PayoutInstructed)
    await investors.record_payout_instruction(uow, event=payload)


async def on_distribution_payouts_instructed(
    uow: UnitOfWork, payload: EventPayload, envelope: Envelope
) -> None:
    assert isinstance(payload, DistributionPayoutsInstructed)
    await transfers.record_payouts(uow, event=payload)


async def on_distribution_paid(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    assert isinstance(payload, DistributionPaid)
    await transfers.record_payment(uow, event=payload)


def handlers(*, payment_days: int) -> dict[str, Handler]:
    """The handlers, with the days a business has to pay a declared distribution in."""

    async def on_sales_reported(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
        assert isinstance(payload, SalesReported)
        await distributions.record_sales(uow, event=payload, payment_days=payment_days)

    return {
        FundOpenedV2.event_type: on_fund_opened,
        PaymentReceived.event_type: on_payment_received,
        PayoutInstructed.event_type: on_payout_instructed,
        DistributionPayoutsInstructed.event_type: on_distribution_payouts_instructed,
        DistributionPaid.event_type: on_distribution_paid,
        SalesReported.event_type: on_sales_reported,
    }


HANDLERS: dict[str, Handler] = handlers(payment_days=30)
"""The handlers with the default settings (for tools that need no environment)."""
