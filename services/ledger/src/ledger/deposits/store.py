"""Deposits and expected payments in the database, the advisory locks that let a deposit
and its payment meet in either order, and what a caller may read."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.principal import Principal
from kumiai.problems import NotFound
from ledger.books.rules import PaymentStatus
from ledger.db.models import Deposit, ExpectedPayment
from ledger.deposits.rules import DepositStatus, may_read

REFERENCE_LOCKS = 0x4C44
"""First key of the advisory locks taken on a payment reference (the second is its hash)."""


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


async def await_payments(
    session: AsyncSession, payments: Sequence[dict[str, object]]
) -> Sequence[ExpectedPayment]:
    """Record payments the ledger awaits (one statement); returns those not recorded
    before. Each row has ``ExpectedPayment``'s columns but its status."""
    if not payments:
        return []
    rows = [{**row, "status": PaymentStatus.EXPECTED.value} for row in payments]
    created = await session.scalars(
        insert(ExpectedPayment).on_conflict_do_nothing().returning(ExpectedPayment), rows
    )
    return created.all()


async def references_waiting(session: AsyncSession, references: Sequence[str]) -> set[str]:
    """Which of these (normalised) references a deposit in suspense quotes."""
    if not references:
        return set()
    found = await session.scalars(
        select(Deposit.reference_normalised)
        .where(
            Deposit.reference_normalised.in_(set(references)),
            Deposit.status == DepositStatus.SUSPENSE.value,
        )
        .distinct()
    )
    return {reference for reference in found if reference is not None}


async def awaited_references(session: AsyncSession, fund_id: UUID) -> list[str]:
    """The payment references a fund's awaited payments are quoted with."""
    return list(
        await session.scalars(
            select(ExpectedPayment.payment_reference).where(
                ExpectedPayment.fund_id == fund_id,
                ExpectedPayment.status == PaymentStatus.EXPECTED.value,
            )
        )
    )


async def awaited_payments_for_update(
    session: AsyncSession, fund_id: UUID
) -> list[ExpectedPayment]:
    """A fund's awaited payments, locked, in subscription order."""
    return list(
        await session.scalars(
            select(ExpectedPayment)
            .where(
                ExpectedPayment.fund_id == fund_id,
                ExpectedPayment.status == PaymentStatus.EXPECTED.value,
            )
            .order_by(ExpectedPayment.subscription_id)
            .with_for_update()
        )
    )


async def paid_payments_for_update(session: AsyncSession, fund_id: UUID) -> list[ExpectedPayment]:
    """A fund's paid payments, locked, in subscription order."""
    return list(
        await session.scalars(
            select(ExpectedPayment)
            .where(
                ExpectedPayment.fund_id == fund_id,
                ExpectedPayment.status == PaymentStatus.PAID.value,
            )
            .order_by(ExpectedPayment.subscription_id)
            .with_for_update()
        )
    )


async def payment_by_reference_for_update(
    session: AsyncSession, reference: str
) -> ExpectedPayment | None:
    return await session.scalar(
        select(ExpectedPayment)
        .where(ExpectedPayment.payment_reference == reference)
        .with_for_update()
    )


async def payment_for_update(
    session: AsyncSession, subscription_id: UUID
) -> ExpectedPayment | None:
    return await session.get(ExpectedPayment, subscription_id, with_for_update=True)


async def reference_of(session: AsyncSession, subscription_id: UUID) -> str | None:
    return await session.scalar(
        select(ExpectedPayment.payment_reference).where(
            ExpectedPayment.subscription_id == subscription_id
        )
    )


async def earliest_waiting_deposit(
    session: AsyncSession, *, reference: str, amount: int, currency: str
) -> Deposit | None:
    """The oldest suspense deposit quoting ``reference`` for exactly ``amount``, locked.

    Exactly the amount and currency due (rule: ``ledger.deposits.rules.why_suspense``);
    any other waits for staff.
    """
    return await session.scalar(
        select(Deposit)
        .where(
            Deposit.reference_normalised == reference,
            Deposit.status == DepositStatus.SUSPENSE.value,
            Deposit.amount == amount,
            Deposit.currency == currency,
        )
        .order_by(Deposit.created_at, Deposit.id)
        .limit(1)
        .with_for_update()
    )


async def reported(session: AsyncSession, bank_id: str, transaction_id: str) -> Deposit | None:
    """The deposit a bank already reported under this transaction id."""
    return await session.scalar(
        select(Deposit).where(
            Deposit.bank_id == bank_id, Deposit.bank_transaction_id == transaction_id
        )
    )


async def deposit(
    session: AsyncSession, deposit_id: UUID, *, for_update: bool = False
) -> Deposit | None:
    return await session.get(Deposit, deposit_id, with_for_update=for_update)


async def readable_deposit(
    session: AsyncSession, principal: Principal, deposit_id: UUID, *, for_update: bool = False
) -> Deposit:
    """The deposit, if ``principal`` may read it; else "no such deposit".

    Another bank's deposit is answered exactly as one that does not exist.
    """
    found = await session.get(Deposit, deposit_id, with_for_update=for_update)
    if found is None or not may_read(principal, bank_id=found.bank_id):
        raise NotFound("no such deposit")
    return found


def readable_deposits(
    principal: Principal, *, bank_id: str | None, status: DepositStatus | None
) -> Select[Deposit]:
    """The deposits ``principal`` may list: of the bank asked for, else of every bank if it
    may read them all, else its own."""
    bank = bank_id
    if bank is None and not may_read(principal, bank_id=None):
        bank = principal.tenant
    if not may_read(principal, bank_id=bank):
        raise NotFound("no deposits of that bank to show")
    query = select(Deposit)
    if bank is not None:
        query = query.where(Deposit.bank_id == bank)
    if status is not None:
        query = query.where(Deposit.status == status.value)
    return query
