"""Payouts the ledger instructed partner banks to send to investors (refunds)."""

from __future__ import annotations

from uuid import UUID

import structlog
from sqlalchemy.dialects.postgresql import insert

from kumiai.contracts.ledger import PayoutBeneficiary, PayoutInstructed
from kumiai.db import UnitOfWork
from subscription.db.models import Investor, PayoutInstruction

log = structlog.get_logger(__name__)


class PayoutForUnknownInvestor(LookupError):
    """The ledger instructed a payout to an investor never registered here."""


async def record_instruction(uow: UnitOfWork, event: PayoutInstructed) -> None:
    """Remember which bank must pay which investor, so that bank may read the investor's
    payout account; payouts to businesses or back to a payer are not this service's."""
    if event.beneficiary is not PayoutBeneficiary.INVESTOR:
        return
    try:
        investor_id = UUID(event.beneficiary_id)
    except ValueError:
        raise PayoutForUnknownInvestor("the payout's beneficiary is not an investor id") from None
    if await uow.session.get(Investor, investor_id) is None:
        # Dead-lettered after the retries: a bank cannot be told where to send it.
        raise PayoutForUnknownInvestor(f"payout {event.payout_id} to an unregistered investor")
    await uow.session.execute(
        insert(PayoutInstruction)
        .values(
            payout_id=event.payout_id,
            investor_id=investor_id,
            bank_id=event.bank_id,
            fund_id=event.fund_id,
            amount=event.amount,
            currency=event.currency,
            instructed_at=event.instructed_at,
        )
        .on_conflict_do_nothing(index_elements=[PayoutInstruction.payout_id])
    )
    log.info("payout to investor recorded", payout_id=str(event.payout_id), bank_id=event.bank_id)
