"""The rules of payouts (pure: no database, no I/O).

Money leaves the platform only through a registered, active partner bank, from
an investor's wallet or a business's payable (or, when a deposit is returned to
its payer, from suspense). A payout is a pending entry until the bank it was
instructed to confirms it (posted) or reports its failure (voided), once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent
from ledger.books.rules import (
    FLOW_AUTHOR,
    Direction,
    EntryDraft,
    EntryType,
    Leg,
    Origin,
    OwnerType,
    PostingStatus,
    Purpose,
    ReferenceType,
    StatusLeg,
    chart_of_accounts,
    clearing_account,
    flow_entry,
    wallet_account,
)


# Published in the OpenAPI document as it is: a docstring would change it.
# instructed (pending) -> confirmed or failed, once; the CHECK ``payouts.status_known``
# holds the same values.
class PayoutStatus(StrEnum):
    INSTRUCTED = "instructed"
    CONFIRMED = "confirmed"
    FAILED = "failed"


class PayoutKeyReused(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different payout"


class PayoutSettled(Conflict):
    problem = "payout-settled"
    title = "This payout was already confirmed or failed"


class PayoutSourceRefused(UnprocessableContent):
    problem = "payout-source"
    title = "Payouts leave only from a wallet or a business's payable"


class UnknownBank(UnprocessableContent):
    problem = "unknown-bank"
    title = "Payouts go only through a registered, active partner bank"


def payout_beneficiary(account: str) -> tuple[PayoutBeneficiary, str]:
    """Whose registered account a payout from ``account`` goes to: (investor or business, id).

    Suspense is paid out only by returning a deposit to its payer, and a fund's
    escrow never directly: the database checks the same (``payouts`` CHECK
    ``paid_from_the_beneficiarys_account``, migration ``2026_11_28_segregation.py``).
    """
    spec = chart_of_accounts(account)
    if spec.owner_type is OwnerType.INVESTOR and spec.owner_id:
        return PayoutBeneficiary.INVESTOR, spec.owner_id
    if spec.owner_type is OwnerType.MSME and spec.owner_id:
        return PayoutBeneficiary.BUSINESS, spec.owner_id
    raise PayoutSourceRefused(
        f"payouts are made from an investor's wallet or a business's payable, not {account}; "
        "a suspense deposit goes back through /deposits/{id}/return"
    )


def check_may_pay_from(principal: Principal, account: str) -> None:
    """Staff pay out of any wallet or payable; an investor only out of its own wallet."""
    if principal.role is Role.STAFF:
        return
    if principal.role is Role.INVESTOR and account == wallet_account(principal.tenant):
        return
    raise Forbidden("you may withdraw only from your own wallet")


def check_active_bank(bank_id: str, *, active: bool) -> None:
    """A payout goes only through a registered, active partner bank."""
    if not active:
        raise UnknownBank(f"{bank_id!r} is not a registered, active partner bank")


def check_bank_pays_back(bank_id: str, *, active: bool) -> None:
    """A deposit is returned only through the bank that received it, while it is active."""
    if not active:
        raise UnknownBank(f"bank {bank_id!r} is not an active partner; it cannot pay back")


def check_same_payout(
    known: tuple[str, int, str, str, str], asked: tuple[str, int, str, str, str]
) -> None:
    """A replayed payout key must ask for the same payout: account, amount, currency,
    bank and reference."""
    if known != asked:
        raise PayoutKeyReused("this Idempotency-Key was used for another payout")


def check_unsettled(status: PayoutStatus) -> None:
    """A bank answers a payout once: confirmed or failed, never both nor twice.

    The database keeps it once too: a pending entry is resolved once
    (``uq_journal_entries_pending_entry_id``, migration ``2026_11_22_books.py``).
    """
    if status is not PayoutStatus.INSTRUCTED:
        raise PayoutSettled(f"the payout is {status.value}")


def settled(*, confirmed: bool) -> PayoutStatus:
    """What the bank's answer makes of the payout."""
    return PayoutStatus.CONFIRMED if confirmed else PayoutStatus.FAILED


def settlement_key(payout_id: UUID, *, confirmed: bool) -> str:
    """The key of the entry that posts or voids a payout (never ``client/``)."""
    return f"payout/{payout_id}/{'confirm' if confirmed else 'fail'}"


def return_key(deposit_id: UUID, payout_id: UUID) -> str:
    """The payout key of a deposit returned to its payer (never ``client/``)."""
    return f"return/{deposit_id}/{payout_id}"


@dataclass(frozen=True)
class PayoutOrder:
    """A payout about to be instructed: what leaves which account, through which bank."""

    id: UUID
    key: str
    """The payout's identity (``payouts.idempotency_key``): a caller's ``client/...`` key
    or one the ledger derives (``refund/<subscription>``, ``return/<deposit>/<payout>``)."""
    account: str
    amount: int
    currency: str
    bank_id: str
    reference: str
    beneficiary: PayoutBeneficiary
    beneficiary_id: str
    created_by: str
    fund_id: UUID | None = None
    deposit_id: UUID | None = None


def pending_entry(order: PayoutOrder, *, effective_date: date, request_hash: str) -> EntryDraft:
    """The pending entry that holds a payout's amount until its bank answers: out of the
    account, into the bank's clearing account (key ``payout/<payout id>``)."""
    legs = [
        Leg(order.account, Direction.DEBIT, order.amount, order.currency),
        Leg(clearing_account(order.bank_id), Direction.CREDIT, order.amount, order.currency),
    ]
    return EntryDraft(
        legs=[StatusLeg(leg, PostingStatus.PENDING) for leg in legs],
        entry_type=EntryType.PENDING,
        purpose=Purpose.PAYOUT,
        description=f"Payout {order.id} through bank {order.bank_id}: {order.reference}",
        effective_date=effective_date,
        idempotency_key=f"payout/{order.id}",
        request_hash=request_hash,
        created_by=order.created_by,
        reference_type=ReferenceType.PAYOUT.value,
        reference_id=str(order.id),
        origin=Origin.FLOW,
    )


def batch_settlement(
    failed: Sequence[tuple[str, int]],
    *,
    bank_id: str,
    currency: str,
    pending_entry_id: UUID,
    effective_date: date,
) -> EntryDraft | None:
    """Once the bank has answered every payout of a batch held in one pending entry, the
    entry is posted whole; the payouts it failed come back from the bank's clearing
    account to the accounts they left (``failed``: account and amount each), so a failed
    payout leaves its money where it was, as a payout of its own does."""
    if not failed:
        return None
    total = sum(amount for _, amount in failed)
    legs = [Leg(clearing_account(bank_id), Direction.DEBIT, total, currency)]
    legs += [Leg(account, Direction.CREDIT, amount, currency) for account, amount in failed]
    key = f"payout/returned/{pending_entry_id}"
    return flow_entry(
        purpose=Purpose.PAYOUT,
        legs=legs,
        description=f"{len(failed)} payouts of batch entry {pending_entry_id} failed: "
        "their money is back where it was",
        effective_date=effective_date,
        idempotency_key=key,
        request_hash=key,
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.ENTRY,
        reference_id=str(pending_entry_id),
    )


class NotOneBatch(UnprocessableContent):
    problem = "not-one-batch"
    title = "Answers in bulk are for the payouts of one distribution batch"


def check_one_batch(entries: set[UUID], *, in_batch: bool, repeated: bool) -> UUID:
    """Answers given together are for payouts of one batch (held in one pending entry),
    each once; any other payout is answered on its own."""
    if repeated:
        raise NotOneBatch("a payout is answered once per request")
    if len(entries) != 1 or not in_batch:
        raise NotOneBatch("answer payouts of one distribution batch together, others one by one")
    return next(iter(entries))


def check_answer(status: PayoutStatus, *, confirmed: bool) -> bool:
    """Whether the answer changes the payout: a retry of the answer it has changes nothing;
    the other answer is refused."""
    if status is PayoutStatus.INSTRUCTED:
        return True
    if status is settled(confirmed=confirmed):
        return False
    raise PayoutSettled(f"the payout was already {status.value}")


def may_read(principal: Principal, *, bank_id: str | None) -> bool:
    """Whether ``principal`` may read the payouts instructed to bank ``bank_id`` (``None``:
    to every bank): staff read every payout, a partner bank only those it must send (and
    only that bank answers them)."""
    if principal.role is Role.STAFF:
        return True
    return principal.role is Role.BANK and bank_id is not None and principal.tenant == bank_id
