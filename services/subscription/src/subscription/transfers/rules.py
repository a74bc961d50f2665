"""Distribution transfers: the payouts the ledger instructed for a paid distribution, and the
bulk transfer file (Zengin 総合振込) the paying bank sends them with (pure).

No SQLAlchemy, no web framework, no I/O. The ledger pays a distribution out
(``DistributionPaid``) and instructs its payouts in batches
(``DistributionPayoutsInstructed``), in either order; the file is made once both are
complete, for the bank the payouts were instructed to and for staff. Anyone else is told
the distribution does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from kumiai import zengin
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, NotFound, UnprocessableContent

MOST_LISTED = 1_000
"""Untransferable payouts a refusal names (the count is always given)."""


class DistributionNotFound(NotFound):
    problem = "distribution-not-found"
    title = "No such distribution"


class NotPaidYet(Conflict):
    problem = "not-paid-yet"
    title = "The distribution is not paid out yet: its transfer file is not ready"


class NothingToTransfer(Conflict):
    problem = "nothing-to-transfer"
    title = "The distribution paid nothing out: there is no transfer file"


class UntransferableAccounts(UnprocessableContent):
    problem = "untransferable-accounts"
    title = "Some payout accounts cannot be written in a transfer file"


class Readiness(StrEnum):
    """Where a distribution's transfer file stands."""

    NOT_PAID = "not_paid"
    """``DistributionPaid`` is not recorded yet."""
    PAYOUTS_MISSING = "payouts_missing"
    """Paid, but fewer payouts recorded than the ledger instructed."""
    NOTHING_TO_TRANSFER = "nothing_to_transfer"
    """Paid, with no payout: every investor's net was zero."""
    READY = "ready"


@dataclass(frozen=True)
class Payment:
    """What ``DistributionPaid`` said of the payout (``distribution_payments``)."""

    bank_id: str | None
    payout_count: int
    paid_on: date


@dataclass(frozen=True)
class Progress:
    """What this service knows of one fund and period's distribution."""

    declared: bool
    payment: Payment | None
    payouts_recorded: int
    payouts_bank_id: str | None
    """The bank the recorded payouts were instructed to (one bank per distribution)."""

    @property
    def known(self) -> bool:
        """Declared, paid or with payouts: anything at all arrived."""
        return self.declared or self.payment is not None or self.payouts_recorded > 0

    @property
    def paying_bank_id(self) -> str | None:
        """The bank that sends the payouts: the payment's, else its payouts' (before the
        payment arrives)."""
        if self.payment is not None and self.payment.bank_id is not None:
            return self.payment.bank_id
        return self.payouts_bank_id


@dataclass(frozen=True)
class Untransferable:
    """A payout whose account a bank would refuse; ``field`` says which value (never the
    value: it is personal data)."""

    payout_id: UUID
    field: str


def no_distribution() -> DistributionNotFound:
    """The one answer for a distribution that is absent or not the caller's to see."""
    return DistributionNotFound("no such distribution")


def may_read_transfer_file(principal: Principal, *, paying_bank_id: str | None) -> bool:
    """Staff, and the partner bank the ledger instructed to send the payouts, read the
    transfer file (it discloses every investor's payout account)."""
    if principal.role is Role.STAFF:
        return True
    if principal.role is Role.BANK:
        return paying_bank_id is not None and paying_bank_id == principal.tenant
    return False


def check_readable(principal: Principal, progress: Progress) -> None:
    """404, naming nothing, unless the distribution is known and the caller may read its
    file."""
    if not progress.known or not may_read_transfer_file(
        principal, paying_bank_id=progress.paying_bank_id
    ):
        raise no_distribution()


def readiness(progress: Progress) -> Readiness:
    """The file is ready once the payment is recorded and every payout it counts is too."""
    payment = progress.payment
    if payment is None:
        return Readiness.NOT_PAID
    if payment.payout_count == 0:
        return Readiness.NOTHING_TO_TRANSFER
    if progress.payouts_recorded != payment.payout_count:
        return Readiness.PAYOUTS_MISSING
    return Readiness.READY


def check_ready(progress: Progress) -> Payment:
    """The payment a ready file is made for; 409 while it is not ready."""
    state = readiness(progress)
    if state is Readiness.NOT_PAID:
        raise NotPaidYet("the ledger has not paid this distribution out yet")
    if state is Readiness.NOTHING_TO_TRANSFER:
        raise NothingToTransfer("no investor's net was above zero")
    if state is Readiness.PAYOUTS_MISSING:
        assert progress.payment is not None
        raise NotPaidYet(
            f"{progress.payouts_recorded} of {progress.payment.payout_count} payouts recorded",
            payouts_recorded=progress.payouts_recorded,
            payout_count=progress.payment.payout_count,
        )
    assert progress.payment is not None
    return progress.payment


def customer_code(payout_id: UUID) -> str:
    """The payout's reference in the file (顧客コード, 20 characters): the first 20 hex
    digits of its id, upper case, so the bank's result file is matched back to the payout
    (80 bits: no two payouts of a distribution share it)."""
    return payout_id.hex[: zengin.CUSTOMER_CODE_WIDTH].upper()


def transfer_date(paid_on: date, *, today: date) -> date:
    """The day the transfers are to arrive: the bank business day after the one the
    distribution was paid on, and never one a bank can no longer take (a file fetched
    later is dated the bank business day after today)."""
    return max(
        zengin.bank_business_days_after(paid_on, 1), zengin.bank_business_days_after(today, 1)
    )


def transfer(payout_id: UUID, amount: int, account: Mapping[str, Any]) -> zengin.Transfer:
    """One payout as a data record of the file, to the investor's registered payout account
    (the holder in Zengin kana, 30 characters at most). Raises ``zengin.NotTransferable``
    naming the field a bank would refuse."""
    zengin.check_branch(account["bank_code"], account["branch_code"])
    holder = zengin.zengin_kana(
        account["account_holder"], width=zengin.HOLDER_WIDTH, field="account_holder"
    )
    if not holder:
        raise zengin.NotTransferable("account_holder", "is empty in Zengin kana")
    if not zengin.MIN_AMOUNT <= amount <= zengin.MAX_AMOUNT:
        raise zengin.NotTransferable("amount", f"{amount:,} yen does not fit a transfer")
    return zengin.Transfer(
        bank_code=account["bank_code"],
        branch_code=account["branch_code"],
        account_type=account["account_type"],
        account_number=account["account_number"],
        holder=holder,
        amount=amount,
        customer_code=customer_code(payout_id),
    )


def check_transferable(
    untransferable: Sequence[Untransferable], *, skip: bool, transferable: int
) -> None:
    """A file leaves out no payout silently: untransferable accounts refuse it (422, naming
    the payouts for staff to act on) unless the caller asked to skip them and some
    transfer is left."""
    if not untransferable or (skip and transferable > 0):
        return
    raise UntransferableAccounts(
        f"{len(untransferable)} payout accounts cannot be transferred to"
        + ("" if skip else "; ask with skip_untransferable=true to leave them out"),
        count=len(untransferable),
        payouts=[
            {"payout_id": str(item.payout_id), "field": item.field}
            for item in untransferable[:MOST_LISTED]
        ],
    )


def file_name(fund_id: UUID, period_number: int) -> str:
    """The file's name: which fund and period it pays."""
    return f"furikomi-{fund_id}-{period_number}.txt"
