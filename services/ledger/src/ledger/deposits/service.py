"""Deposits reported by partner banks, expected payments, and the suspense list.

A deposit and the payment it pays may reach the ledger in either order: a bank's
report before the ledger consumed ``SubscriptionPlaced`` (or ``FundOpened``) waits
in suspense and is matched the moment the payment becomes known. Both sides take
the same advisory lock on the normalised payment reference, so whichever commits
second sees the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from kumiai.contracts.ledger import PaymentReceived
from kumiai.contracts.subscription import SubscriptionPlaced
from kumiai.db import UnitOfWork
from kumiai.idempotency import request_fingerprint
from kumiai.pagination import Page, keyset_page
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import Conflict
from kumiai.references import normalise_reference
from ledger.books import service as books
from ledger.books.rules import FLOW_AUTHOR, SUSPENSE, EntryDraft, PaymentStatus, clearing_account
from ledger.db.models import Deposit, ExpectedPayment
from ledger.deposits import store
from ledger.deposits.rules import (
    DepositStatus,
    NotInSuspense,
    after_return,
    can_be_paid,
    check_in_suspense,
    check_same_report,
    check_staff_match,
    check_value_date,
    deposit_key,
    match_key,
    payment_entry,
    payment_facts,
    suspense_entry,
    why_suspense,
)
from ledger.deposits.schemas import DepositIn, DepositOut
from ledger.distributions import service as distributions
from ledger.grants import service as grants


def _deposit_out(deposit: Deposit) -> DepositOut:
    return DepositOut(
        id=deposit.id,
        bank_id=deposit.bank_id,
        bank_transaction_id=deposit.bank_transaction_id,
        amount=deposit.amount,
        currency=deposit.currency,
        value_date=deposit.value_date,
        payment_reference=deposit.payment_reference,
        status=DepositStatus(deposit.status),
        reason=deposit.reason,
        subscription_id=deposit.subscription_id,
        entry_id=deposit.entry_id,
        created_at=deposit.created_at,
    )


def _match_fingerprint(subscription_id: UUID) -> str:
    return request_fingerprint({"subscription": str(subscription_id)})


async def expect_payments(uow: UnitOfWork, *, events: Sequence[SubscriptionPlaced]) -> None:
    """Await each placed subscription's amount due under its payment reference; a deposit
    that already waits in suspense for one (same reference, amount and currency) pays it
    now. Set-based for a batch of events: one statement locks the references, one
    records the payments, one finds those a deposit waits for; only these are matched
    one by one."""
    session = uow.session
    rows = [
        {
            "subscription_id": event.subscription_id,
            "fund_id": event.fund_id,
            "investor_id": event.investor_id,
            "amount": event.amount_due,
            "fee_amount": event.units * event.handling_fee_per_unit,
            "currency": event.currency,
            "payment_reference": normalise_reference(event.payment_reference),
            "payment_deadline": event.payment_deadline,
        }
        for event in events
    ]
    references = [str(row["payment_reference"]) for row in rows]
    await store.lock_references(session, references)
    payments = await store.await_payments(session, rows)
    waiting = await store.references_waiting(session, [p.payment_reference for p in payments])
    if waiting:
        await _match_waiting_deposits(uow, [p for p in payments if p.payment_reference in waiting])


async def match_early_deposits(uow: UnitOfWork, *, fund_id: UUID) -> None:
    """Pay a newly opened fund's awaited payments with the deposits that arrived before it
    opened and wait in suspense."""
    session = uow.session
    references = await store.awaited_references(session, fund_id)
    if not references:
        return
    await store.lock_references(session, references)
    payments = await store.awaited_payments_for_update(session, fund_id)
    await _match_waiting_deposits(uow, payments)


async def _match_waiting_deposits(uow: UnitOfWork, payments: Sequence[ExpectedPayment]) -> None:
    """Pay each awaited payment with the earliest suspense deposit that quotes its reference
    with the exact amount and currency; later ones stay in suspense for staff.

    The caller holds the references' advisory locks and the payments' rows.
    """
    session = uow.session
    today = japan_date(datetime.now(UTC))
    matches: list[tuple[ExpectedPayment, Deposit, EntryDraft]] = []
    for payment in payments:
        facts = payment_facts(payment)
        if facts.status is not PaymentStatus.EXPECTED:
            continue
        fund = await books.fund_facts(uow, fund_id=payment.fund_id)
        if not can_be_paid(facts, fund):
            continue  # matched when the fund opens (match_early_deposits)
        deposit = await store.earliest_waiting_deposit(
            session,
            reference=payment.payment_reference,
            amount=payment.amount,
            currency=payment.currency,
        )
        if deposit is None:
            continue
        draft = payment_entry(
            facts,
            fund,
            source=SUSPENSE,
            description=(
                f"Deposit {deposit.bank_transaction_id} from bank {deposit.bank_id}, held in "
                f"suspense, pays subscription {payment.subscription_id} now that it is known"
            ),
            idempotency_key=match_key(deposit.id),
            request_hash=_match_fingerprint(payment.subscription_id),
            created_by=FLOW_AUTHOR,
            effective_date=today,
        )
        matches.append((payment, deposit, draft))
    if not matches:
        return
    written = await books.write_flow_entries(uow, drafts=[draft for _, _, draft in matches])
    if written is None:
        raise RuntimeError("a deposit waiting in suspense was matched at the same time")
    for payment, deposit, _ in matches:
        deposit.status = DepositStatus.MATCHED.value
        deposit.subscription_id = payment.subscription_id
        await _mark_paid(uow, payment, deposit)
    await session.flush()


async def record_deposit(
    uow: UnitOfWork, *, deposit: DepositIn, principal: Principal
) -> tuple[DepositOut, bool]:
    """Book a bank's reported credit: into the fund's escrow if it pays a subscription the
    fund awaits, else into suspense.

    Idempotent on the bank's transaction id. Nothing is ever dropped: an unknown
    reference, a wrong amount or a payment already made goes to the suspense
    account and the staff's exception list.
    """
    check_value_date(deposit.value_date, now=datetime.now(UTC))
    session = uow.session
    bank_id = principal.tenant
    fingerprint = request_fingerprint(deposit)
    reference = normalise_reference(deposit.payment_reference)
    # Taken before looking: the same report sent twice at once waits here, then replays.
    await store.lock_references(session, [reference])
    known = await store.reported(session, bank_id, deposit.bank_transaction_id)
    if known is not None:
        check_same_report(known.request_hash, fingerprint, transaction_id=known.bank_transaction_id)
        return _deposit_out(known), False
    expected = await store.payment_by_reference_for_update(session, reference)
    owed = await distributions.payment_for(uow, reference=reference) if expected is None else None
    grant = (
        await grants.payment_for(uow, reference=reference)
        if expected is None and owed is None
        else None
    )
    payment = payment_facts(expected) if expected is not None else None
    fund = await books.fund_facts(uow, fund_id=expected.fund_id) if expected is not None else None
    if owed is not None:
        reason = distributions.why_suspense(owed, amount=deposit.amount, currency=deposit.currency)
    elif grant is not None:
        reason = grants.why_suspense(grant, amount=deposit.amount, currency=deposit.currency)
    else:
        reason = why_suspense(payment, fund, amount=deposit.amount, currency=deposit.currency)
    deposit_id = uuid.uuid4()
    description = f"Deposit {deposit.bank_transaction_id} from bank {bank_id}"
    key = deposit_key(bank_id, deposit.bank_transaction_id)
    if reason is None and owed is not None:
        draft = distributions.payment_draft(
            owed,
            source=clearing_account(bank_id),
            description=f"{description} pays distribution {owed.fund_id}/{owed.period_number}",
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            effective_date=deposit.value_date,
        )
    elif reason is None and grant is not None:
        draft = grants.payment_draft(
            grant,
            source=clearing_account(bank_id),
            description=f"{description} pays grant {grant.award_id}",
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            effective_date=deposit.value_date,
        )
    elif reason is None:
        assert payment is not None
        draft = payment_entry(
            payment,
            fund,
            source=clearing_account(bank_id),
            description=description,
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            effective_date=deposit.value_date,
        )
    else:
        draft = suspense_entry(
            bank_id=bank_id,
            deposit_id=deposit_id,
            amount=deposit.amount,
            currency=deposit.currency,
            description=f"{description} held in suspense: {reason}",
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            effective_date=deposit.value_date,
        )
    written = await books.write_flow_entries(uow, drafts=[draft])
    if written is None:
        raise Conflict("this deposit is being recorded by another request; retry")
    row = Deposit(
        id=deposit_id,
        bank_id=bank_id,
        bank_transaction_id=deposit.bank_transaction_id,
        request_hash=fingerprint,
        amount=deposit.amount,
        currency=deposit.currency,
        value_date=deposit.value_date,
        payment_reference=deposit.payment_reference,
        reference_normalised=reference,
        status=(DepositStatus.SUSPENSE if reason else DepositStatus.MATCHED).value,
        reason=reason,
        subscription_id=expected.subscription_id if expected is not None and not reason else None,
        entry_id=written[0],
        created_at=datetime.now(UTC),
    )
    session.add(row)
    if owed is not None and not reason:
        distributions.mark_funded(owed, row)
    elif grant is not None and not reason:
        await grants.mark_paid(uow, grant, row, entry_id=written[0])
    elif expected is not None and not reason:
        await _mark_paid(uow, expected, row)
    await session.flush()
    return _deposit_out(row), True


async def _mark_paid(uow: UnitOfWork, expected: ExpectedPayment, deposit: Deposit) -> None:
    expected.status = PaymentStatus.PAID.value
    expected.deposit_id = deposit.id
    await uow.emit(
        PaymentReceived(
            deposit_id=deposit.id,
            subscription_id=expected.subscription_id,
            fund_id=expected.fund_id,
            investor_id=expected.investor_id,
            amount=deposit.amount,
            currency=deposit.currency,
            value_date=deposit.value_date,
            bank_id=deposit.bank_id,
            received_at=datetime.now(UTC),
        ),
        subject=str(expected.fund_id),
    )


async def get_deposit(uow: UnitOfWork, *, deposit_id: UUID, principal: Principal) -> DepositOut:
    """One deposit; a bank sees only those it reported (another's is not found)."""
    return _deposit_out(await store.readable_deposit(uow.session, principal, deposit_id))


async def list_deposits(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: DepositStatus | None,
    bank_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[DepositOut]:
    """Deposits oldest first, one page; a bank sees only its own."""
    query = store.readable_deposits(principal, bank_id=bank_id, status=status)
    return await keyset_page(uow.session, query, Deposit, cursor, limit, _deposit_out)


async def match_suspense(
    uow: UnitOfWork, *, deposit_id: UUID, subscription_id: UUID, note: str, principal: Principal
) -> DepositOut:
    """Staff match a suspense deposit to a subscription whose amount it pays exactly."""
    session = uow.session
    reference = await store.reference_of(session, subscription_id)
    if reference is not None:
        await store.lock_references(session, [reference])
    deposit = await store.readable_deposit(session, principal, deposit_id, for_update=True)
    check_in_suspense(DepositStatus(deposit.status))
    expected = await store.payment_for_update(session, subscription_id)
    payment = payment_facts(expected) if expected is not None else None
    fund = await books.fund_facts(uow, fund_id=expected.fund_id) if expected is not None else None
    check_staff_match(
        subscription_id, payment, fund, amount=deposit.amount, currency=deposit.currency
    )
    assert expected is not None
    assert payment is not None
    draft = payment_entry(
        payment,
        fund,
        source=SUSPENSE,
        description=f"Suspense deposit {deposit.id} matched by staff: {note}",
        idempotency_key=match_key(deposit.id),
        request_hash=_match_fingerprint(subscription_id),
        created_by=principal.subject,
        effective_date=japan_date(datetime.now(UTC)),
    )
    if await books.write_flow_entries(uow, drafts=[draft]) is None:
        raise NotInSuspense("the deposit was already matched")
    deposit.status = DepositStatus.MATCHED.value
    deposit.subscription_id = subscription_id
    await _mark_paid(uow, expected, deposit)
    await session.flush()
    return _deposit_out(deposit)


# -- for the other flows (payouts, closing) ------------------------------------------------


async def start_return(uow: UnitOfWork, *, deposit_id: UUID, principal: Principal) -> Deposit:
    """Mark a suspense deposit as being returned to its payer (the payout follows)."""
    deposit = await store.readable_deposit(uow.session, principal, deposit_id, for_update=True)
    check_in_suspense(DepositStatus(deposit.status))
    deposit.status = DepositStatus.RETURNING.value
    return deposit


async def finish_return(uow: UnitOfWork, *, deposit_id: UUID, confirmed: bool) -> None:
    """The bank's answer to a returned deposit's payout: gone, or back in suspense."""
    deposit = await store.deposit(uow.session, deposit_id, for_update=True)
    if deposit is not None:
        deposit.status = after_return(confirmed=confirmed).value


async def receiving_bank(uow: UnitOfWork, *, deposit_id: UUID | None) -> str | None:
    """The partner bank that received the deposit which paid a subscription."""
    deposit = await store.deposit(uow.session, deposit_id) if deposit_id else None
    return deposit.bank_id if deposit is not None else None


async def payment_for_update(uow: UnitOfWork, *, subscription_id: UUID) -> ExpectedPayment | None:
    """The payment the ledger awaits or received for a subscription, locked."""
    return await store.payment_for_update(uow.session, subscription_id)


async def paid_payments(uow: UnitOfWork, *, fund_id: UUID) -> list[ExpectedPayment]:
    """A fund's paid subscriptions, locked, in subscription order."""
    return await store.paid_payments_for_update(uow.session, fund_id)
