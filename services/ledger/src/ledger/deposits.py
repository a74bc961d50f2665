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
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal, Role
from kumiai.contracts.ledger import PaymentReceived
from kumiai.contracts.onboarding import AnyFundOpened, FundOpened
from kumiai.contracts.subscription import SubscriptionPlaced
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, NotFound, UnprocessableContent
from kumiai.idempotency import request_fingerprint
from kumiai.pagination import Page, keyset_page
from kumiai.references import normalise_reference
from ledger.books import (
    EntryDraft,
    StatusLeg,
    account_spec,
    lock_accounts,
    segregation_problem,
    write_entries,
    write_entry,
)
from ledger.db.models import Account, Deposit, ExpectedPayment, Fund
from ledger.domain.books import (
    Direction,
    EntryType,
    FundFacts,
    Leg,
    Origin,
    PaymentFacts,
    PostingStatus,
    Purpose,
    SegregationError,
    check_segregation,
)
from ledger.domain.deposits import ImplausibleValueDate, check_value_date
from ledger.schemas import DepositIn, DepositOut, DepositStatus
from ledger.use_cases import today_in_japan

SUSPENSE = "suspense"
REFERENCE_LOCKS = 0x4C44
"""First key of the advisory locks taken on a payment reference (the second is its hash)."""


class DepositKeyReused(UnprocessableContent):
    problem = "deposit-reported-differently"
    title = "This bank transaction was already reported with other details"


class ValueDateRefused(UnprocessableContent):
    problem = "implausible-value-date"
    title = "The value date is after tomorrow or more than a year ago (Japan time)"


class NotInSuspense(Conflict):
    problem = "not-in-suspense"
    title = "Only a deposit held in suspense can be matched or returned"


class PaymentNotExpected(Conflict):
    problem = "payment-not-expected"
    title = "No open payment of that amount is expected for this subscription"


def deposit_out(deposit: Deposit) -> DepositOut:
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


async def lock_references(session: AsyncSession, references: Sequence[str]) -> None:
    """Serialise everything that matches deposits and payments of these (normalised)
    references, until commit; keys are taken in one order so that takers never deadlock."""
    if references:
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:ns, h) FROM ("
                " SELECT DISTINCT hashtext(r) AS h FROM unnest(CAST(:refs AS text[])) r"
                " ORDER BY h) keys"
            ),
            {"ns": REFERENCE_LOCKS, "refs": list(references)},
        )


def payment_facts(payment: ExpectedPayment) -> PaymentFacts:
    return PaymentFacts(
        subscription_id=str(payment.subscription_id),
        fund_id=str(payment.fund_id),
        investor_id=str(payment.investor_id),
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
    )


def fund_facts(fund: Fund) -> FundFacts:
    return FundFacts(fund_id=str(fund.fund_id), msme_id=str(fund.msme_id), status=fund.status)


def _payment_draft(
    payment: ExpectedPayment,
    fund: Fund,
    *,
    source: str,
    description: str,
    key: str,
    fingerprint: str,
    by: str,
    effective_date: date | None = None,
) -> EntryDraft:
    """Money into a fund's escrow for a subscription it awaits (checked as the trigger does)."""
    legs = [
        Leg(source, Direction.DEBIT, payment.amount, payment.currency),
        Leg(f"fund/{payment.fund_id}/escrow", Direction.CREDIT, payment.amount, payment.currency),
    ]
    try:
        check_segregation(
            Purpose.DEPOSIT,
            legs,
            reference_id=str(payment.subscription_id),
            payment=payment_facts(payment),
            fund=fund_facts(fund),
        )
    except SegregationError as exc:
        raise segregation_problem(exc) from exc
    return EntryDraft(
        legs=[StatusLeg(leg, PostingStatus.POSTED) for leg in legs],
        entry_type=EntryType.STANDARD,
        purpose=Purpose.DEPOSIT,
        description=description,
        effective_date=effective_date or today_in_japan(),
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=by,
        reference_type="subscription",
        reference_id=str(payment.subscription_id),
        origin=Origin.FLOW,
    )


async def open_fund(uow: UnitOfWork, event: AnyFundOpened) -> None:
    """Remember a newly opened fund and its fees, open its escrow account, and match the
    deposits that already wait in suspense for its subscriptions."""
    session = uow.session
    # v1 events (published before fees were part of the terms) carry none.
    arrangement_fee = event.fees.arrangement_fee if isinstance(event, FundOpened) else 0
    opened = await session.scalar(
        insert(Fund)
        .values(
            fund_id=event.fund_id,
            msme_id=event.msme_id,
            currency=event.currency,
            arrangement_fee=arrangement_fee,
            status="open",
        )
        .on_conflict_do_nothing()
        .returning(Fund.fund_id)
    )
    spec = account_spec(f"fund/{event.fund_id}/escrow")
    await session.execute(
        insert(Account)
        .values(
            id=uuid.uuid4(),
            code=spec.code,
            kind=spec.kind.value,
            currency=event.currency,
            owner_type=spec.owner_type,
            owner_id=spec.owner_id,
            segregated=spec.segregated,
            debits_must_not_exceed_credits=spec.conditions.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=spec.conditions.credits_must_not_exceed_debits,
        )
        .on_conflict_do_nothing()
    )
    if opened is None:
        return
    references = list(
        await session.scalars(
            select(ExpectedPayment.payment_reference).where(
                ExpectedPayment.fund_id == event.fund_id, ExpectedPayment.status == "expected"
            )
        )
    )
    if not references:
        return
    await lock_references(session, references)
    payments = list(
        await session.scalars(
            select(ExpectedPayment)
            .where(ExpectedPayment.fund_id == event.fund_id, ExpectedPayment.status == "expected")
            .order_by(ExpectedPayment.subscription_id)
            .with_for_update()
        )
    )
    await match_waiting_deposits(uow, payments)


async def expect_payment(uow: UnitOfWork, event: SubscriptionPlaced) -> None:
    """Await the subscription's amount due under its payment reference; a deposit that
    already waits in suspense for it (same reference, amount and currency) pays it now."""
    session = uow.session
    reference = normalise_reference(event.payment_reference)
    await lock_references(session, [reference])
    created = await session.scalar(
        insert(ExpectedPayment)
        .values(
            subscription_id=event.subscription_id,
            fund_id=event.fund_id,
            investor_id=event.investor_id,
            amount=event.amount_due,
            fee_amount=event.units * event.handling_fee_per_unit,
            currency=event.currency,
            payment_reference=reference,
            payment_deadline=event.payment_deadline,
            status="expected",
        )
        .on_conflict_do_nothing()
        .returning(ExpectedPayment.subscription_id)
    )
    if created is None:
        return
    payment = await session.get(ExpectedPayment, created)
    assert payment is not None
    await match_waiting_deposits(uow, [payment])


async def match_waiting_deposits(uow: UnitOfWork, payments: Sequence[ExpectedPayment]) -> None:
    """Pay each awaited payment with the earliest suspense deposit that quotes its reference
    with the exact amount and currency; later ones stay in suspense for staff.

    The caller holds the references' advisory locks and the payments' rows.
    """
    session = uow.session
    matches: list[tuple[ExpectedPayment, Deposit, EntryDraft]] = []
    for payment in payments:
        if payment.status != "expected":
            continue
        fund = await session.get(Fund, payment.fund_id)
        if fund is None or fund.status != "open":
            continue  # matched when the fund opens (open_fund)
        deposit = await session.scalar(
            select(Deposit)
            .where(
                Deposit.reference_normalised == payment.payment_reference,
                Deposit.status == "suspense",
                Deposit.amount == payment.amount,
                Deposit.currency == payment.currency,
            )
            .order_by(Deposit.created_at, Deposit.id)
            .limit(1)
            .with_for_update()
        )
        if deposit is None:
            continue
        draft = _payment_draft(
            payment,
            fund,
            source=SUSPENSE,
            description=(
                f"Deposit {deposit.bank_transaction_id} from bank {deposit.bank_id}, held in "
                f"suspense, pays subscription {payment.subscription_id} now that it is known"
            ),
            key=f"deposit/{deposit.id}/match",
            fingerprint=request_fingerprint({"subscription": str(payment.subscription_id)}),
            by="service:ledger",
        )
        matches.append((payment, deposit, draft))
    if not matches:
        return
    drafts = [draft for _, _, draft in matches]
    accounts = await lock_accounts(session, [leg for d in drafts for leg in d.legs])
    written = await write_entries(session, drafts, accounts)
    if written is None:
        raise RuntimeError("a deposit waiting in suspense was matched at the same time")
    for payment, deposit, _ in matches:
        deposit.status = "matched"
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
    try:
        check_value_date(deposit.value_date, now=datetime.now(UTC))
    except ImplausibleValueDate as exc:
        raise ValueDateRefused(str(exc)) from exc
    session = uow.session
    bank_id = principal.tenant
    fingerprint = request_fingerprint(deposit)
    reference = normalise_reference(deposit.payment_reference)
    # Taken before looking: the same report sent twice at once waits here, then replays.
    await lock_references(session, [reference])
    known = await _reported(session, bank_id, deposit.bank_transaction_id)
    if known is not None:
        return _replayed(known, fingerprint), False
    expected = await session.scalar(
        select(ExpectedPayment)
        .where(ExpectedPayment.payment_reference == reference)
        .with_for_update()
    )
    fund = await session.get(Fund, expected.fund_id) if expected is not None else None
    reason = _mismatch(expected, fund, deposit)
    deposit_id = uuid.uuid4()
    clearing = f"bank/{bank_id}/clearing"
    description = f"Deposit {deposit.bank_transaction_id} from bank {bank_id}"
    key = f"deposit/{bank_id}/{deposit.bank_transaction_id}"
    if reason is None:
        assert expected is not None
        assert fund is not None
        draft = _payment_draft(
            expected,
            fund,
            source=clearing,
            description=description,
            key=key,
            fingerprint=fingerprint,
            by=principal.subject,
            effective_date=deposit.value_date,
        )
    else:
        draft = EntryDraft(
            legs=[
                StatusLeg(
                    Leg(clearing, Direction.DEBIT, deposit.amount, deposit.currency),
                    PostingStatus.POSTED,
                ),
                StatusLeg(
                    Leg(SUSPENSE, Direction.CREDIT, deposit.amount, deposit.currency),
                    PostingStatus.POSTED,
                ),
            ],
            entry_type=EntryType.STANDARD,
            purpose=Purpose.DEPOSIT,
            description=f"{description} held in suspense: {reason}",
            effective_date=deposit.value_date,
            idempotency_key=key,
            request_hash=fingerprint,
            created_by=principal.subject,
            reference_type="deposit",
            reference_id=str(deposit_id),
            origin=Origin.FLOW,
        )
    accounts = await lock_accounts(session, draft.legs)
    written = await write_entry(session, draft, accounts)
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
        status="suspense" if reason else "matched",
        reason=reason,
        subscription_id=None if reason else expected.subscription_id,  # type: ignore[union-attr]
        entry_id=written.id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    if not reason:
        assert expected is not None
        await _mark_paid(uow, expected, row)
    await session.flush()
    return deposit_out(row), True


async def _reported(session: AsyncSession, bank_id: str, transaction_id: str) -> Deposit | None:
    return await session.scalar(
        select(Deposit).where(
            Deposit.bank_id == bank_id, Deposit.bank_transaction_id == transaction_id
        )
    )


def _replayed(known: Deposit, fingerprint: str) -> DepositOut:
    if known.request_hash != fingerprint:
        raise DepositKeyReused(f"transaction {known.bank_transaction_id} differs")
    return deposit_out(known)


def _mismatch(
    expected: ExpectedPayment | None, fund: Fund | None, deposit: DepositIn
) -> str | None:
    """Why a deposit cannot pay the payment its reference names (None: it can)."""
    if expected is None:
        return "unknown payment reference"
    if expected.status != "expected":
        return f"subscription is {expected.status}"
    if expected.currency != deposit.currency or expected.amount != deposit.amount:
        paid = f"{deposit.amount} {deposit.currency}"
        return f"amount {paid} differs from {expected.amount} {expected.currency} due"
    if fund is None or fund.status != "open":
        return "the fund is not open for payments"
    return None


async def _mark_paid(uow: UnitOfWork, expected: ExpectedPayment, deposit: Deposit) -> None:
    expected.status = "paid"
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
    deposit = await uow.session.get(Deposit, deposit_id)
    if deposit is None or (principal.role is Role.BANK and deposit.bank_id != principal.tenant):
        raise NotFound("no such deposit")
    return deposit_out(deposit)


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
    if principal.role is Role.BANK:
        if bank_id not in (None, principal.tenant):
            raise NotFound("no deposits of that bank to show")
        bank_id = principal.tenant
    query = select(Deposit)
    if bank_id is not None:
        query = query.where(Deposit.bank_id == bank_id)
    if status is not None:
        query = query.where(Deposit.status == status.value)
    return await keyset_page(uow.session, query, Deposit, cursor, limit, deposit_out)


async def match_suspense(
    uow: UnitOfWork, *, deposit_id: UUID, subscription_id: UUID, note: str, principal: Principal
) -> DepositOut:
    """Staff match a suspense deposit to a subscription whose amount it pays exactly."""
    session = uow.session
    reference = await session.scalar(
        select(ExpectedPayment.payment_reference).where(
            ExpectedPayment.subscription_id == subscription_id
        )
    )
    if reference is not None:
        await lock_references(session, [reference])
    deposit = await session.get(Deposit, deposit_id, with_for_update=True)
    if deposit is None:
        raise NotFound("no such deposit")
    if deposit.status != "suspense":
        raise NotInSuspense(f"the deposit is {deposit.status}")
    expected = await session.get(ExpectedPayment, subscription_id, with_for_update=True)
    if (
        expected is None
        or expected.status != "expected"
        or expected.amount != deposit.amount
        or expected.currency != deposit.currency
    ):
        raise PaymentNotExpected(f"subscription {subscription_id} does not await {deposit.amount}")
    fund = await session.get(Fund, expected.fund_id)
    if fund is None or fund.status != "open":
        raise PaymentNotExpected(f"the fund of subscription {subscription_id} is not open")
    draft = _payment_draft(
        expected,
        fund,
        source=SUSPENSE,
        description=f"Suspense deposit {deposit.id} matched by staff: {note}",
        key=f"deposit/{deposit.id}/match",
        fingerprint=request_fingerprint({"subscription": str(subscription_id)}),
        by=principal.subject,
    )
    accounts = await lock_accounts(session, draft.legs)
    written = await write_entry(session, draft, accounts)
    if written is None:
        raise NotInSuspense("the deposit was already matched")
    deposit.status = "matched"
    deposit.subscription_id = subscription_id
    await _mark_paid(uow, expected, deposit)
    await session.flush()
    return deposit_out(deposit)
