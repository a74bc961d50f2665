"""Distribution transfers: the ledger's payouts and payments are kept as they arrive, in any
order; the paying bank and staff fetch the bulk transfer file once both are complete."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import structlog

from kumiai import zengin
from kumiai.cipher import FieldCipher
from kumiai.contracts.ledger import DistributionPaid, DistributionPayoutsInstructed
from kumiai.db import UnitOfWork
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import ServiceUnavailable
from subscription.investors import rules as investor_rules
from subscription.transfers import rules, store
from subscription.transfers.rules import Untransferable

log = structlog.get_logger(__name__)


class NoRemitter(ServiceUnavailable):
    problem = "transfer-remitter-not-set"
    title = "The account payouts are sent from is not configured"
    headers = {"Retry-After": "3600"}


@dataclass(frozen=True)
class TransferFile:
    """A made file and what its answer says about it."""

    content: bytes
    name: str
    sha256: str
    skipped: int


async def record_payouts(uow: UnitOfWork, *, event: DistributionPayoutsInstructed) -> None:
    """Keep a batch of a distribution's payouts, so the bank told to send them may fetch the
    transfer file; a batch kept before (its first payout is known) is not kept again."""
    session = uow.session
    if await store.payout_recorded(session, event.payouts[0].payout_id):
        log.info("distribution payouts already kept", fund=str(event.fund_id), batch=event.batch)
        return
    missing = await store.unregistered(session, [p.investor_id for p in event.payouts])
    for payout in event.payouts:
        investor_rules.check_payee_registered(
            payout.payout_id, registered=payout.investor_id not in missing
        )
    await store.add_payouts(session, event)
    log.info(
        "distribution payouts kept",
        fund=str(event.fund_id),
        period=event.period_number,
        batch=event.batch,
        payouts=len(event.payouts),
        bank_id=event.bank_id,
    )


async def record_payment(uow: UnitOfWork, *, event: DistributionPaid) -> None:
    """Keep that the ledger paid a distribution out, and how many payouts it instructed."""
    await store.add_payment(uow.session, event)


@dataclass(frozen=True)
class _Built:
    content: bytes
    disclosed: list[tuple[UUID, UUID]]
    """(payout id, investor id) of every account written in the file."""
    skipped: int


def _build(
    rows: Sequence[tuple[UUID, UUID, int, bytes]],
    *,
    cipher: FieldCipher,
    remitter: zengin.Remitter,
    day: date,
    skip_untransferable: bool,
) -> _Built:
    """Decrypt each payout's account and write the file (CPU only: run in a worker thread)."""
    transfers: list[zengin.Transfer] = []
    disclosed: list[tuple[UUID, UUID]] = []
    untransferable: list[Untransferable] = []
    for payout_id, investor_id, amount, personal in rows:
        details = cipher.decrypt_json(
            personal, context=investor_rules.personal_data_context(investor_id)
        )
        try:
            transfers.append(rules.transfer(payout_id, amount, details["payout_account"]))
        except zengin.NotTransferable as exc:
            untransferable.append(Untransferable(payout_id, exc.field))
            continue
        disclosed.append((payout_id, investor_id))
    rules.check_transferable(untransferable, skip=skip_untransferable, transferable=len(transfers))
    return _Built(zengin.transfer_file(remitter, day, transfers), disclosed, len(untransferable))


async def transfer_file(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    period_number: int,
    skip_untransferable: bool,
    principal: Principal,
    cipher: FieldCipher,
    remitter: zengin.Remitter | None,
) -> TransferFile:
    """The bulk transfer file of a paid distribution, for the bank instructed to send its
    payouts and for staff: one transfer per payout to the investor's registered account.
    Every account it discloses is recorded as read, in the transaction that makes it."""
    session = uow.session
    progress = await store.progress(session, fund_id, period_number)
    rules.check_readable(principal, progress)
    payment = rules.check_ready(progress)
    if remitter is None:
        raise NoRemitter("no transfer remitter is configured for this environment")
    rows = await store.payouts_with_details(session, fund_id, period_number)
    # Tens of thousands of accounts take a second or two to decrypt and write: in a worker
    # thread, so the service's other requests are not held up meanwhile.
    built = await asyncio.to_thread(
        _build,
        rows,
        cipher=cipher,
        remitter=remitter,
        day=rules.transfer_date(payment.paid_on, today=japan_date(datetime.now(UTC))),
        skip_untransferable=skip_untransferable,
    )
    sha256 = hashlib.sha256(built.content).hexdigest()
    # Recorded in the same transaction as the answer: no account leaves unrecorded.
    await store.record_file_read(
        session,
        fund_id=fund_id,
        period_number=period_number,
        disclosed=built.disclosed,
        sha256=sha256,
        principal=principal,
    )
    log.info(
        "transfer file made",
        fund=str(fund_id),
        period=period_number,
        transfers=len(built.disclosed),
        skipped=built.skipped,
        reader=f"{principal.role.value}:{principal.tenant}",
    )
    return TransferFile(
        content=built.content,
        name=rules.file_name(fund_id, period_number),
        sha256=sha256,
        skipped=built.skipped,
    )
