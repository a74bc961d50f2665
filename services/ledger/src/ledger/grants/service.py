"""Municipal grants: held until their fund closes, booked as owed by the municipality,
paid by its transfer.

Locks are taken in one order by every path that touches a grant: the fund's row (when
the path needs it), then the grant's payment reference (the advisory lock deposits take
first), then the grant's row. A transfer and the booking it waits for therefore see
each other whichever commits first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import structlog

from kumiai.contracts.ledger import SubsidyPaid
from kumiai.contracts.subsidy import SubsidyGranted, SubsidyRevoked
from kumiai.db import UnitOfWork
from kumiai.idempotency import request_fingerprint
from kumiai.periods import japan_date
from kumiai.references import normalise_reference
from ledger.books import service as books
from ledger.books.rules import (
    FLOW_AUTHOR,
    SUSPENSE,
    EntryDraft,
    FundStatus,
    Purpose,
    municipality_receivable_account,
)
from ledger.closing import store as fund_store
from ledger.closing.rules import Grant as ReleaseGrant
from ledger.db.models import Deposit, Grant
from ledger.deposits import store as deposit_store
from ledger.deposits.rules import DepositStatus, match_key
from ledger.grants import rules, store
from ledger.grants.rules import GrantFacts, GrantStatus, OnGrant, OnRevocation

log = structlog.get_logger(__name__)


def _facts(row: Grant) -> GrantFacts:
    return GrantFacts(
        award_id=row.award_id,
        fund_id=row.fund_id,
        msme_id=row.msme_id,
        municipality_code=row.municipality_code,
        amount=row.amount,
        currency=row.currency,
        lapses_if_fund_fails=row.lapses_if_fund_fails,
        status=GrantStatus(row.status),
    )


def _fingerprint(row: Grant, what: str) -> str:
    return request_fingerprint({"grant": str(row.award_id), "what": what})


def _today() -> date:
    return japan_date(datetime.now(UTC))


async def grant(uow: UnitOfWork, *, event: SubsidyGranted) -> None:
    """Keep a grant once. Held until its fund closes; a fund released or failed already
    books it now (or lets it lapse), and a transfer waiting in suspense then pays it."""
    session = uow.session
    fund = await fund_store.fund_for_update(session, event.fund_id)
    reference = normalise_reference(event.payment_reference)
    await deposit_store.lock_references(session, [reference])
    row = await store.add_grant(
        session,
        {
            "award_id": event.award_id,
            "fund_id": event.fund_id,
            "msme_id": event.msme_id,
            "municipality_code": event.municipality_code,
            "amount": event.amount,
            "currency": event.currency,
            "payment_reference": event.payment_reference,
            "reference_normalised": reference,
            "lapses_if_fund_fails": event.lapses_if_fund_fails,
            "status": GrantStatus.GRANTED.value,
            "granted_at": event.granted_at,
        },
    )
    if row is None:
        return
    status = FundStatus(fund.status) if fund is not None else None
    how = rules.on_grant(status, lapses_if_fund_fails=event.lapses_if_fund_fails)
    if how is OnGrant.HOLD:
        return
    if how is OnGrant.LAPSE:
        row.status = GrantStatus.LAPSED.value
        return
    await _book_alone(uow, row, how)


async def _book_alone(uow: UnitOfWork, row: Grant, how: OnGrant) -> None:
    draft = rules.late_grant_entry(
        _facts(row), how, effective_date=_today(), request_hash=_fingerprint(row, "book")
    )
    written = await books.write_flow_entries(uow, drafts=[draft])
    if written is None:
        raise RuntimeError(f"grant {row.award_id} was booked at the same time")
    await booked(uow, row, entry_id=written[0])


async def held_for_release(uow: UnitOfWork, *, fund_id: UUID) -> Grant | None:
    """The grant its fund's release must book, locked (reference first, then row); the
    caller holds the fund's row."""
    session = uow.session
    reference = await store.held_reference(session, fund_id=fund_id)
    if reference is None:
        return None
    await deposit_store.lock_references(session, [reference])
    return await store.held_for_update(session, fund_id=fund_id)


def release_grant(row: Grant | None) -> ReleaseGrant | None:
    """What a release needs of the grant it books."""
    return ReleaseGrant(row.municipality_code, row.amount) if row is not None else None


async def booked(uow: UnitOfWork, row: Grant, *, entry_id: UUID) -> None:
    """The municipality owes the grant from now; a transfer already waiting in suspense
    for it (same reference, exact amount) pays it now. The caller holds the reference's
    lock."""
    row.status = GrantStatus.BOOKED.value
    row.booked_entry_id = entry_id
    row.booked_at = datetime.now(UTC)
    await uow.session.flush()
    deposit = await deposit_store.earliest_waiting_deposit(
        uow.session, reference=row.reference_normalised, amount=row.amount, currency=row.currency
    )
    if deposit is None:
        return
    draft = payment_draft(
        row,
        source=SUSPENSE,
        description=(
            f"Deposit {deposit.bank_transaction_id} from bank {deposit.bank_id}, held in "
            f"suspense, pays grant {row.award_id} now that it is owed"
        ),
        idempotency_key=match_key(deposit.id),
        request_hash=_fingerprint(row, "pay"),
        created_by=FLOW_AUTHOR,
        effective_date=_today(),
    )
    written = await books.write_flow_entries(uow, drafts=[draft])
    if written is None:
        raise RuntimeError("a deposit waiting in suspense was matched at the same time")
    deposit.status = DepositStatus.MATCHED.value
    await mark_paid(uow, row, deposit, entry_id=written[0])


async def on_fund_failed(uow: UnitOfWork, *, fund_id: UUID) -> None:
    """A failed fund's grant lapses, or, when its programme keeps it, is owed by the
    municipality as its share of the fee. The caller holds the fund's row."""
    row = await held_for_release(uow, fund_id=fund_id)
    if row is None:
        return
    how = rules.on_grant(FundStatus.CLOSED_FAILED, lapses_if_fund_fails=row.lapses_if_fund_fails)
    if how is OnGrant.LAPSE:
        row.status = GrantStatus.LAPSED.value
        return
    await _book_alone(uow, row, how)


async def revoke(uow: UnitOfWork, *, event: SubsidyRevoked) -> None:
    """Forget a grant not yet booked; a booked, unpaid one moves to the business; a paid one
    stays paid (the business repays the municipality)."""
    session = uow.session
    reference = await store.reference_of(session, award_id=event.award_id)
    if reference is None:
        log.warning("revocation of a grant the ledger never held", award_id=str(event.award_id))
        return
    await deposit_store.lock_references(session, [reference])
    row = await store.grant_for_update(session, award_id=event.award_id)
    assert row is not None
    match rules.on_revocation(GrantStatus(row.status)):
        case OnRevocation.NOTHING:
            if row.status == GrantStatus.PAID.value and row.revoked_at is None:
                row.revoked_at = event.revoked_at
        case OnRevocation.FORGET:
            row.status = rules.after_revocation(event.reason).value
            row.revoked_at = event.revoked_at
        case OnRevocation.MOVE_TO_BUSINESS:
            draft = rules.revocation_entry(
                _facts(row), effective_date=_today(), request_hash=_fingerprint(row, "revoke")
            )
            if await books.write_flow_entries(uow, drafts=[draft]) is None:
                raise RuntimeError(f"grant {row.award_id} was revoked at the same time")
            row.status = rules.after_revocation(event.reason).value
            row.revoked_at = event.revoked_at


async def booked_at_release(uow: UnitOfWork, *, fund_id: UUID) -> int:
    """The municipality's share of the arrangement fee that a fund's release booked."""
    row = await store.grant_of_fund(uow.session, fund_id=fund_id)
    if row is None:
        return 0
    return await books.posted_by_entries(
        uow,
        code=municipality_receivable_account(row.municipality_code),
        purpose=Purpose.RELEASE,
        reference_id=str(fund_id),
    )


async def payment_for(uow: UnitOfWork, *, reference: str) -> Grant | None:
    """The grant a deposit's (normalised) reference names, locked; the caller holds the
    reference's advisory lock."""
    return await store.by_reference_for_update(uow.session, reference)


def why_suspense(row: Grant, *, amount: int, currency: str) -> str | None:
    """Why a deposit quoting this grant's reference goes to suspense instead."""
    return rules.why_suspense(_facts(row), amount=amount, currency=currency)


def payment_draft(
    row: Grant,
    *,
    source: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """The entry of the municipality's payment of ``row`` from ``source``."""
    return rules.payment_entry(
        _facts(row),
        source=source,
        description=description,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        effective_date=effective_date,
    )


async def mark_paid(uow: UnitOfWork, row: Grant, deposit: Deposit, *, entry_id: UUID) -> None:
    """The municipality paid: the subsidy service hears of it."""
    now = datetime.now(UTC)
    row.status = GrantStatus.PAID.value
    row.paid_entry_id = entry_id
    row.deposit_id = deposit.id
    row.paid_at = now
    deposit.fund_id = row.fund_id
    await uow.emit(
        SubsidyPaid(
            award_id=row.award_id,
            fund_id=row.fund_id,
            municipality_code=row.municipality_code,
            amount=row.amount,
            currency=row.currency,
            deposit_id=deposit.id,
            bank_id=deposit.bank_id,
            value_date=deposit.value_date,
            entry_id=entry_id,
            paid_at=now,
        ),
        subject=str(row.fund_id),
    )
