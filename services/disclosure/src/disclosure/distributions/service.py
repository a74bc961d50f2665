"""Distributions as subscription declares them and the ledger pays them, and the notice the
fund's investors read once both are known."""

from __future__ import annotations

from uuid import UUID

from disclosure.db.models import DistributionNotice
from disclosure.distributions import rules, store
from disclosure.distributions.layout import NOTICE, notice_layout
from disclosure.distributions.rules import NoticeFacts
from disclosure.documents import service as documents
from disclosure.documents.layout import plain_text
from disclosure.documents.rules import DocumentKind, Visibility
from disclosure.funds import service as funds
from kumiai.contracts.ledger import DistributionPaid
from kumiai.contracts.subscription import DividendDeclaredV1
from kumiai.db import UnitOfWork


async def record_declaration(uow: UnitOfWork, *, event: DividendDeclaredV1) -> None:
    """Keep a declared distribution (either schema version) for the annual report of the
    year its period ends in, and for its notice once it is paid."""
    await store.lock_period(uow.session, event.fund_id, event.period_number)
    await store.keep_declaration(
        uow.session,
        {
            "fund_id": event.fund_id,
            "period_number": event.period_number,
            "period_start": event.period_start,
            "period_end": event.period_end,
            "distributable_amount": event.distributable_amount,
            "total_gross": event.total_gross,
            "per_unit": event.per_unit,
            "declared_at": event.declared_at,
        },
    )
    await publish_notice_if_due(uow, fund_id=event.fund_id, period_number=event.period_number)


async def record_payment(uow: UnitOfWork, *, event: DistributionPaid) -> None:
    """Keep that a period's distribution was paid out, even before its declaration arrives."""
    await store.lock_period(uow.session, event.fund_id, event.period_number)
    await store.keep_payment(
        uow.session,
        {
            "fund_id": event.fund_id,
            "period_number": event.period_number,
            "msme_id": event.msme_id,
            "paid_on": event.paid_on,
            "investor_count": event.investor_count,
            "total_gross": event.total_gross,
            "total_tax": event.total_tax,
            "total_net": event.total_net,
            "paid_at": event.paid_at,
        },
    )
    await publish_notice_if_due(uow, fund_id=event.fund_id, period_number=event.period_number)


async def publish_notice_if_due(uow: UnitOfWork, *, fund_id: UUID, period_number: int) -> None:
    """Once a period is both declared and paid: the declaration says when it was paid, and
    the fund's investors get the period's distribution notice, once.

    The caller holds the period's lock, so whichever of the two events is handled second
    sees the other and publishes.
    """
    declared = await store.declaration(uow.session, fund_id, period_number)
    paid = await store.payment(uow.session, fund_id, period_number)
    if declared is None or paid is None:
        return
    declared.paid_on = paid.paid_on
    if await store.has_notice(uow.session, fund_id, period_number):
        return
    facts = NoticeFacts(
        fund_name=await funds.name_of(uow, fund_id),
        period_number=period_number,
        period_start=declared.period_start,
        period_end=declared.period_end,
        distributable_amount=declared.distributable_amount,
        per_unit=declared.per_unit,
        total_gross=paid.total_gross,
        total_tax=paid.total_tax,
        total_net=paid.total_net,
        investor_count=paid.investor_count,
        paid_on=paid.paid_on,
    )
    document_id = await documents.publish_made(
        uow,
        fund_id=fund_id,
        kind=DocumentKind.DISTRIBUTION_NOTICE,
        title=rules.notice_title(period_number),
        body=plain_text(notice_layout(facts)),
        visibility=Visibility.INVESTORS,
        data=NOTICE.dump_python(facts, mode="json"),
    )
    await store.add_notice(
        uow.session,
        DistributionNotice(fund_id=fund_id, period_number=period_number, document_id=document_id),
    )
