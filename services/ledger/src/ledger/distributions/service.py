"""Distributions: awaited from the business, then booked and paid out batch by batch.

``DividendDeclared`` books the fees that fell due and awaits the business's payment;
``DistributionAllocated`` brings the lines; a deposit quoting the payment reference pays
it in (``record_deposit`` asks ``payment_for``); the ``pay-distributions`` timer then
books the batches as their lines arrive, up to five a pass, and after the last announces
``DistributionPaid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import UUID

import structlog

from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayout,
    DistributionPayoutsInstructed,
)
from kumiai.contracts.subscription import (
    DistributionAllocated,
    DividendDeclared,
    DividendDeclaredV1,
)
from kumiai.db import UnitOfWork
from kumiai.idempotency import request_fingerprint
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import NotFound
from kumiai.references import normalise_reference
from ledger.books import service as books
from ledger.books.rules import (
    FLOW_AUTHOR,
    SUSPENSE,
    DistributionStatus,
    EntryDraft,
    wallet_account,
)
from ledger.db.models import Deposit, Distribution, DistributionFee
from ledger.deposits import store as deposit_store
from ledger.deposits.rules import DepositStatus, match_key
from ledger.distributions import rules, store
from ledger.distributions.rules import Declared
from ledger.distributions.schemas import DistributionOut, FeeBookedOut, FundDistributionsOut
from ledger.payouts.rules import PayoutOrder, PayoutStatus

log = structlog.get_logger(__name__)


def _declared(row: Distribution) -> Declared:
    return Declared(
        fund_id=row.fund_id,
        period_number=row.period_number,
        msme_id=row.msme_id,
        currency=row.currency,
        business_owes=row.business_owes,
        fees_total=row.fees_total,
        success_fee=row.success_fee,
        status=DistributionStatus(row.status),
        bank_id=row.bank_id,
    )


async def declare(uow: UnitOfWork, *, event: DividendDeclaredV1) -> None:
    """Keep a declaration once, book the fees it charges as receivable, and await the
    business's payment; a deposit that already waits in suspense for it pays it now."""
    session = uow.session
    fees = event.fees if isinstance(event, DividendDeclared) else []
    fees_total = event.fees_total if isinstance(event, DividendDeclared) else 0
    reference = normalise_reference(event.payment_reference) if event.payment_reference else None
    if reference is not None:
        await deposit_store.lock_references(session, [reference])
    row = await store.add_declared(
        session,
        {
            "fund_id": event.fund_id,
            "period_number": event.period_number,
            "msme_id": event.msme_id,
            "currency": event.currency,
            "business_owes": event.business_owes,
            "fees_total": fees_total,
            "success_fee": event.success_fee,
            "total_gross": event.total_gross,
            "total_tax": event.total_tax,
            "total_net": event.total_net,
            "investor_count": event.investor_count,
            "batches": event.batches,
            "payment_reference": event.payment_reference,
            "reference_normalised": reference,
            "payment_due": event.payment_due,
            "status": rules.first_status(event.business_owes).value,
            "declared_at": event.declared_at,
            "funded_at": event.declared_at if event.business_owes == 0 else None,
        },
    )
    if row is None:
        return
    declared = _declared(row)
    today = japan_date(datetime.now(UTC))
    booked = await store.booked_fees(session, event.fund_id)
    due = [fee for fee in fees if (fee.kind.value, fee.fiscal_year) not in booked]
    if due:
        drafts = [rules.fee_entry(declared, fee, effective_date=today) for fee in due]
        written = await books.write_flow_entries(uow, drafts=drafts)
        if written is None:
            raise RuntimeError(f"fees of fund {event.fund_id} were booked at the same time")
        session.add_all(
            DistributionFee(
                fund_id=event.fund_id,
                kind=fee.kind.value,
                fiscal_year=fee.fiscal_year,
                period_number=event.period_number,
                amount=fee.amount,
                entry_id=entry_id,
            )
            for fee, entry_id in zip(due, written, strict=True)
        )
    if reference is not None:
        await _pay_from_suspense(uow, row, reference, today=today)
    await session.flush()


async def _pay_from_suspense(
    uow: UnitOfWork, row: Distribution, reference: str, *, today: date
) -> None:
    deposit = await deposit_store.earliest_waiting_deposit(
        uow.session, reference=reference, amount=row.business_owes, currency=row.currency
    )
    if deposit is None:
        return
    draft = payment_draft(
        row,
        source=SUSPENSE,
        description=(
            f"Deposit {deposit.bank_transaction_id} from bank {deposit.bank_id}, held in "
            f"suspense, pays distribution {row.fund_id}/{row.period_number} now that it is known"
        ),
        idempotency_key=match_key(deposit.id),
        request_hash=request_fingerprint({"distribution": f"{row.fund_id}/{row.period_number}"}),
        created_by=FLOW_AUTHOR,
        effective_date=today,
    )
    written = await books.write_flow_entries(uow, drafts=[draft])
    if written is None:
        raise RuntimeError("a deposit waiting in suspense was matched at the same time")
    deposit.status = DepositStatus.MATCHED.value
    mark_funded(row, deposit)


def why_suspense(row: Distribution, *, amount: int, currency: str) -> str | None:
    """Why a deposit quoting this distribution's reference goes to suspense instead."""
    return rules.why_suspense(_declared(row), amount=amount, currency=currency)


def payment_draft(
    row: Distribution,
    *,
    source: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """The entry of the business's payment of ``row`` from ``source``."""
    return rules.payment_entry(
        _declared(row),
        source=source,
        description=description,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        effective_date=effective_date,
    )


def mark_funded(row: Distribution, deposit: Deposit) -> None:
    """The business paid: its bank will send the payouts."""
    row.status = DistributionStatus.FUNDED.value
    row.deposit_id = deposit.id
    row.bank_id = deposit.bank_id
    row.funded_at = datetime.now(UTC)
    deposit.fund_id = row.fund_id
    deposit.period_number = row.period_number


async def payment_for(uow: UnitOfWork, *, reference: str) -> Distribution | None:
    """The distribution a deposit's (normalised) reference names, locked; the caller holds
    the reference's advisory lock."""
    return await store.by_reference_for_update(uow.session, reference)


async def allocate(uow: UnitOfWork, *, event: DistributionAllocated) -> None:
    """Keep a batch of lines once (copied in: a large fund has tens of thousands)."""
    session = uow.session
    if not await store.add_batch(
        session, event.fund_id, event.period_number, event.batch, len(event.lines)
    ):
        return
    # The wallets are opened now, while the business has yet to pay: booking the batch
    # later finds them.
    await books.open_accounts(
        uow,
        codes=sorted({wallet_account(line.investor_id) for line in event.lines if line.net > 0}),
        currency=(await store.currency_of(session, event.fund_id, event.period_number)) or "JPY",
    )
    await store.add_lines(
        session,
        [
            (
                event.fund_id,
                event.period_number,
                line.investor_id,
                event.batch,
                line.units,
                line.gross,
                line.tax,
                line.net,
            )
            for line in event.lines
        ],
    )


BATCHES_PER_PASS = 10
"""Batches booked in one pass (one transaction of at most 10,000 lines)."""


async def pay_next_batches(uow: UnitOfWork, now: datetime) -> int:
    """Book the next batches of a funded distribution as their lines arrive (up to
    ``BATCHES_PER_PASS`` in one transaction), instruct their payouts, and after the last
    batch announce ``DistributionPaid``. Returns how many batches it booked."""
    session = uow.session
    row = await store.next_to_pay(session)
    if row is None:
        return 0
    declared = _declared(row)
    batches = await store.received_after(
        session, row.fund_id, row.period_number, row.batches_posted, BATCHES_PER_PASS
    )
    lines = await store.lines_of(session, row.fund_id, row.period_number, batches)
    today = japan_date(now)
    drafts: list[EntryDraft] = []
    instructed: list[tuple[int, list[PayoutOrder]]] = []
    for batch in batches:
        entry = rules.batch_entry(declared, batch, lines[batch], effective_date=today)
        if entry is None:
            continue
        drafts.append(entry)
        if row.bank_id is not None and (
            orders := rules.payout_orders(declared, lines[batch], bank_id=row.bank_id)
        ):
            drafts.append(rules.payout_batch_entry(declared, batch, orders, effective_date=today))
            instructed.append((batch, orders))
    if drafts:
        written = await books.write_flow_entries(uow, drafts=drafts)
        if written is None:
            raise RuntimeError(f"batches {batches} of {declared.reference} were booked already")
        entry_of = {d.idempotency_key: w for d, w in zip(drafts, written, strict=True)}
        for batch, orders in instructed:
            pending = entry_of[f"payout/distribution/{declared.reference}/{batch}"]
            await _instruct(uow, row, batch, orders, pending_entry_id=pending, now=now)
    row.batches_posted = batches[-1]
    row.payout_count += sum(len(orders) for _, orders in instructed)
    if rules.after_batch(row.batches_posted, row.batches) is DistributionStatus.PAID:
        row.status = DistributionStatus.PAID.value
        row.paid_at = now
        await uow.emit(_paid(row, paid_on=today), subject=str(row.fund_id))
    await session.flush()
    return len(batches)


async def _instruct(
    uow: UnitOfWork,
    row: Distribution,
    batch: int,
    orders: Sequence[PayoutOrder],
    *,
    pending_entry_id: UUID,
    now: datetime,
) -> None:
    """Record a batch's payouts (copied in) and announce them to subscription."""
    assert row.bank_id is not None
    await store.add_payouts(
        uow.session,
        [
            (
                order.id,
                order.key,
                order.bank_id,
                order.account,
                order.amount,
                order.currency,
                PayoutStatus.INSTRUCTED.value,
                order.reference,
                order.beneficiary.value,
                order.beneficiary_id,
                order.fund_id,
                pending_entry_id,
                True,
                order.created_by,
                now,
            )
            for order in orders
        ],
    )
    await uow.emit(
        DistributionPayoutsInstructed(
            fund_id=row.fund_id,
            period_number=row.period_number,
            bank_id=row.bank_id,
            batch=batch,
            # Built from the payouts just written, which the database checked.
            payouts=[
                DistributionPayout.model_construct(
                    payout_id=order.id,
                    investor_id=UUID(order.beneficiary_id),
                    amount=order.amount,
                )
                for order in orders
            ],
            currency=row.currency,
            instructed_at=now,
        ),
        subject=str(row.fund_id),
    )


def _paid(row: Distribution, *, paid_on: date) -> DistributionPaid:
    assert row.paid_at is not None
    return DistributionPaid(
        fund_id=row.fund_id,
        msme_id=row.msme_id,
        period_number=row.period_number,
        bank_id=row.bank_id,
        deposit_id=row.deposit_id,
        investor_count=row.investor_count,
        payout_count=row.payout_count,
        total_gross=row.total_gross,
        total_tax=row.total_tax,
        total_net=row.total_net,
        success_fee=row.success_fee,
        fees_settled=row.fees_total,
        currency=row.currency,
        paid_on=paid_on,
        paid_at=row.paid_at,
    )


async def fund_distributions(
    uow: UnitOfWork, *, fund_id: UUID, principal: Principal
) -> FundDistributionsOut:
    """A fund's distributions and fees booked, for staff and its own business."""
    session = uow.session
    rows = await store.distributions_of(session, fund_id)
    msme = rows[0].msme_id if rows else await store.business_of(session, fund_id)
    if msme is None or not rules.may_read(principal, msme_id=msme):
        raise NotFound("no such fund")
    return FundDistributionsOut(
        fund_id=fund_id,
        distributions=[DistributionOut.model_validate(row, from_attributes=True) for row in rows],
        fees=[
            FeeBookedOut.model_validate(fee, from_attributes=True)
            for fee in await store.fees_of(session, fund_id)
        ],
    )
