"""Distribution transfers in the database: the payouts and payments the ledger announced,
what is known of a distribution, its payouts with the investors' encrypted details, and the
log of the accounts a transfer file disclosed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.ledger import DistributionPaid, DistributionPayoutsInstructed
from kumiai.principal import Principal
from subscription.db.models import (
    Distribution,
    DistributionPayment,
    Investor,
    PayoutInstruction,
    TransferFileRead,
)
from subscription.transfers.rules import Payment, Progress

PAYOUT_COLUMNS = (
    "payout_id",
    "investor_id",
    "bank_id",
    "fund_id",
    "period_number",
    "amount",
    "currency",
    "instructed_at",
)


async def _driver(session: AsyncSession) -> Any:
    """The session's own database connection (asyncpg), so in its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver


async def _copy(
    session: AsyncSession, table: str, columns: Sequence[str], records: Sequence[Sequence[Any]]
) -> None:
    """Copy rows in (COPY), in the session's transaction."""
    driver = await _driver(session)
    await driver.copy_records_to_table(table, columns=columns, records=records)


async def payout_recorded(session: AsyncSession, payout_id: UUID) -> bool:
    """Whether the payout is already kept."""
    found = await session.scalar(select(exists().where(PayoutInstruction.payout_id == payout_id)))
    return bool(found)


async def unregistered(session: AsyncSession, investor_ids: Sequence[UUID]) -> set[UUID]:
    """Those of ``investor_ids`` that are not registered investors."""
    registered = await session.scalars(select(Investor.id).where(Investor.id.in_(investor_ids)))
    return set(investor_ids) - set(registered)


async def add_payouts(session: AsyncSession, event: DistributionPayoutsInstructed) -> None:
    """Keep a batch of a distribution's payouts (COPY: a fund has tens of thousands); the
    primary key refuses a payout kept before, failing the whole batch."""
    await _copy(
        session,
        PayoutInstruction.__tablename__,
        PAYOUT_COLUMNS,
        [
            (
                payout.payout_id,
                payout.investor_id,
                event.bank_id,
                event.fund_id,
                event.period_number,
                payout.amount,
                event.currency,
                event.instructed_at,
            )
            for payout in event.payouts
        ],
    )


async def add_payment(session: AsyncSession, event: DistributionPaid) -> None:
    """Keep the distribution's payment once, however often the ledger's event is delivered."""
    await session.execute(
        insert(DistributionPayment)
        .values(
            fund_id=event.fund_id,
            period_number=event.period_number,
            bank_id=event.bank_id,
            deposit_id=event.deposit_id,
            payout_count=event.payout_count,
            total_net=event.total_net,
            paid_on=event.paid_on,
            paid_at=event.paid_at,
        )
        .on_conflict_do_nothing(
            index_elements=[DistributionPayment.fund_id, DistributionPayment.period_number]
        )
    )


def _of(fund_id: UUID, period_number: int) -> Any:
    return (PayoutInstruction.fund_id == fund_id) & (
        PayoutInstruction.period_number == period_number
    )


async def progress(session: AsyncSession, fund_id: UUID, period_number: int) -> Progress:
    """What is known of the distribution: declared, paid, and the payouts recorded (their
    number and bank)."""
    declared = await session.scalar(
        select(
            exists().where(
                Distribution.fund_id == fund_id, Distribution.period_number == period_number
            )
        )
    )
    recorded, bank_id = (
        await session.execute(
            select(func.count(), func.min(PayoutInstruction.bank_id)).where(
                _of(fund_id, period_number)
            )
        )
    ).one()
    paid = await session.get(DistributionPayment, (fund_id, period_number))
    return Progress(
        declared=bool(declared),
        payment=None
        if paid is None
        else Payment(bank_id=paid.bank_id, payout_count=paid.payout_count, paid_on=paid.paid_on),
        payouts_recorded=int(recorded),
        payouts_bank_id=bank_id,
    )


# Read through the driver, not the ORM: for 70,000 rows it takes about half the time.
PAYOUTS_WITH_DETAILS = (
    "SELECT p.payout_id, p.investor_id, p.amount, i.personal "
    "FROM payout_instructions p JOIN investors i ON i.id = p.investor_id "
    "WHERE p.fund_id = $1 AND p.period_number = $2 ORDER BY p.payout_id"
)


async def payouts_with_details(
    session: AsyncSession, fund_id: UUID, period_number: int
) -> Sequence[tuple[UUID, UUID, int, bytes]]:
    """Every payout of the distribution with its investor's encrypted personal details, by
    payout id (one query: the file of a large fund has tens of thousands)."""
    driver = await _driver(session)
    rows = await driver.fetch(PAYOUTS_WITH_DETAILS, fund_id, period_number)
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def record_file_read(
    session: AsyncSession,
    *,
    fund_id: UUID,
    period_number: int,
    disclosed: Sequence[tuple[UUID, UUID]],
    sha256: str,
    principal: Principal,
) -> None:
    """Record who was given a transfer file and every payout and investor account it
    disclosed (``(payout_id, investor_id)`` each): one row per file, in the caller's
    transaction (append-only). A file of 70,000 accounts is one row, not 70,000."""
    session.add(
        TransferFileRead(
            id=uuid.uuid4(),
            fund_id=fund_id,
            period_number=period_number,
            reader_role=principal.role.value,
            reader_tenant=principal.tenant,
            reader_subject=principal.subject,
            payout_ids=[payout for payout, _ in disclosed],
            investor_ids=[investor for _, investor in disclosed],
            sha256=sha256,
        )
    )
    await session.flush()
