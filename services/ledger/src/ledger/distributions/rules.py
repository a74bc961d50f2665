"""Distributions in the books (pure): what the business pays in, and how each batch of a
declared distribution leaves the fund's distribution account.

- The operation and audit fees that fell due (``DividendDeclared.fees``) are booked as
  receivable from the business when the declaration arrives (once per fund, kind and
  fiscal year): debit ``msme/<id>/receivable``, credit ``platform/fees``.
- The business pays ``business_owes`` (fees + investors' gross + success fee), quoting
  the declaration's payment reference, into ``fund/<id>/distribution``; a deposit for
  another amount waits in suspense for staff, like a subscription payment.
- Once paid in and every batch of lines is here, each batch is booked in one entry:
  the fund's distribution account pays each investor's net to its wallet, the batch's
  tax to ``tax/withholding``, and (with the first batch) the success fee to
  ``platform/fees`` and the fees due to the business's receivable, which they settle:
  fees first, then distributions. In the same transaction every net is instructed as a
  payout from the wallet through the bank the business paid through.
- Payout ids are derived from fund, period and investor, so a batch booked twice (it
  cannot be: keys) would name the same payouts, and subscription can name them too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from kumiai.contracts.ledger import PayoutBeneficiary
from kumiai.contracts.subscription import FeeDue
from kumiai.principal import Principal, Role
from ledger.books.rules import (
    FLOW_AUTHOR,
    PLATFORM_FEES,
    TAX_WITHHOLDING,
    Direction,
    DistributionFacts,
    DistributionStatus,
    EntryDraft,
    EntryType,
    Leg,
    Origin,
    PostingStatus,
    Purpose,
    ReferenceType,
    StatusLeg,
    clearing_account,
    distribution_account,
    flow_entry,
    receivable_account,
    wallet_account,
)
from ledger.payouts.rules import PayoutOrder

PAYOUTS = UUID("6f0c2b1e-4d7a-5c3e-9a8b-1d2e3f405162")
"""Namespace of distribution payout ids (``payout_id``)."""


@dataclass(frozen=True)
class Line:
    """One investor's share in a batch (``DistributionAllocated``)."""

    investor_id: UUID
    gross: int
    tax: int
    net: int


@dataclass(frozen=True)
class Declared:
    """What the ledger keeps of a declaration to book and pay it."""

    fund_id: UUID
    period_number: int
    msme_id: UUID
    currency: str
    business_owes: int
    fees_total: int
    success_fee: int
    status: DistributionStatus
    bank_id: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.fund_id}/{self.period_number}"

    def facts(self, lines: Sequence[Line] = ()) -> DistributionFacts:
        return DistributionFacts(
            fund_id=str(self.fund_id),
            period_number=self.period_number,
            msme_id=str(self.msme_id),
            status=self.status,
            business_owes=self.business_owes,
            currency=self.currency,
            nets={str(line.investor_id): line.net for line in lines if line.net > 0},
        )


def first_status(business_owes: int) -> DistributionStatus:
    """A declaration that owes nothing is funded as it arrives; else it awaits payment."""
    return DistributionStatus.FUNDED if business_owes == 0 else DistributionStatus.DECLARED


def why_suspense(declared: Declared, *, amount: int, currency: str) -> str | None:
    """Why a deposit quoting a distribution's reference cannot pay it (``None``: it can)."""
    if declared.status is not DistributionStatus.DECLARED:
        return f"distribution {declared.reference} is {declared.status.value}, not awaited"
    if (amount, currency) != (declared.business_owes, declared.currency):
        return (
            f"amount {amount} {currency} differs from {declared.business_owes} "
            f"{declared.currency} owed for distribution {declared.reference}"
        )
    return None


def fee_key(fund_id: UUID, fee: FeeDue) -> str:
    return f"fee/{fund_id}/{fee.kind.value}/{fee.fiscal_year}"


def fee_entry(declared: Declared, fee: FeeDue, *, effective_date: date) -> EntryDraft:
    """Book a fee that fell due as receivable from the business."""
    legs = [
        Leg(receivable_account(declared.msme_id), Direction.DEBIT, fee.amount, declared.currency),
        Leg(PLATFORM_FEES, Direction.CREDIT, fee.amount, declared.currency),
    ]
    return flow_entry(
        purpose=Purpose.FEE,
        legs=legs,
        description=(
            f"{fee.kind.value.capitalize()} fee of fiscal year {fee.fiscal_year} "
            f"({fee.fiscal_year_start} to {fee.fiscal_year_end}) of fund {declared.fund_id}"
        ),
        effective_date=effective_date,
        idempotency_key=fee_key(declared.fund_id, fee),
        request_hash=fee_key(declared.fund_id, fee),
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.FUND,
        reference_id=str(declared.fund_id),
    )


def payment_entry(
    declared: Declared,
    *,
    source: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """The business's payment of a distribution, from ``source`` (a bank's clearing
    account or suspense) into the fund's distribution account."""
    amount, currency = declared.business_owes, declared.currency
    legs = [
        Leg(source, Direction.DEBIT, amount, currency),
        Leg(distribution_account(declared.fund_id), Direction.CREDIT, amount, currency),
    ]
    return flow_entry(
        purpose=Purpose.DEPOSIT,
        legs=legs,
        description=description,
        effective_date=effective_date,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=ReferenceType.DISTRIBUTION,
        reference_id=declared.reference,
        distribution=declared.facts(),
    )


def batch_key(declared: Declared, batch: int) -> str:
    return f"distribution/{declared.reference}/{batch}"


def batch_legs(declared: Declared, lines: Sequence[Line], *, first: bool) -> list[Leg]:
    """What a batch moves: out of the distribution account, the batch's gross (and, with
    the first batch, the success fee and the fees due); into each wallet its net, the tax
    to the withholding account, the success fee to the operator, the fees to the
    business's receivable. Empty when the batch moves nothing."""
    currency = declared.currency
    gross = sum(line.gross for line in lines)
    tax = sum(line.tax for line in lines)
    extra = declared.success_fee + declared.fees_total if first else 0
    if gross + extra == 0:
        return []
    credits = [
        Leg(wallet_account(line.investor_id), Direction.CREDIT, line.net, currency)
        for line in lines
        if line.net > 0
    ]
    for account, amount in (
        (TAX_WITHHOLDING, tax),
        (PLATFORM_FEES, declared.success_fee if first else 0),
        (receivable_account(declared.msme_id), declared.fees_total if first else 0),
    ):
        if amount > 0:
            credits.append(Leg(account, Direction.CREDIT, amount, currency))
    debit = Leg(distribution_account(declared.fund_id), Direction.DEBIT, gross + extra, currency)
    return [debit, *credits]


def batch_entry(
    declared: Declared, batch: int, lines: Sequence[Line], *, effective_date: date
) -> EntryDraft | None:
    """The entry that books one batch (``None``: it moves nothing)."""
    legs = batch_legs(declared, lines, first=batch == 1)
    if not legs:
        return None
    return flow_entry(
        purpose=Purpose.DISTRIBUTION,
        legs=legs,
        description=f"Distribution of period {declared.period_number} of fund "
        f"{declared.fund_id}, batch {batch}: {len(lines)} investors",
        effective_date=effective_date,
        idempotency_key=batch_key(declared, batch),
        request_hash=batch_key(declared, batch),
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.DISTRIBUTION,
        reference_id=declared.reference,
        distribution=declared.facts(lines),
    )


def payout_id(fund_id: UUID, period_number: int, investor_id: UUID) -> UUID:
    """The payout of an investor's net distribution: the same whoever derives it."""
    return uuid.uuid5(PAYOUTS, f"{fund_id}/{period_number}/{investor_id}")


def payout_orders(declared: Declared, lines: Sequence[Line], *, bank_id: str) -> list[PayoutOrder]:
    """Each investor's net, from its wallet to its registered account through ``bank_id``."""
    return [
        PayoutOrder(
            id=payout_id(declared.fund_id, declared.period_number, line.investor_id),
            key=f"distribution/{declared.reference}/{line.investor_id}",
            account=wallet_account(line.investor_id),
            amount=line.net,
            currency=declared.currency,
            bank_id=bank_id,
            reference=f"Distribution {declared.reference}",
            beneficiary=PayoutBeneficiary.INVESTOR,
            beneficiary_id=str(line.investor_id),
            created_by=FLOW_AUTHOR,
            fund_id=declared.fund_id,
        )
        for line in lines
        if line.net > 0
    ]


def payout_batch_entry(
    declared: Declared, batch: int, orders: Sequence[PayoutOrder], *, effective_date: date
) -> EntryDraft:
    """One pending entry holds a batch's payouts, out of each wallet into the paying bank's
    clearing account, until the bank has answered every one of them
    (``ledger.payouts.rules.batch_settlement``)."""
    currency = declared.currency
    legs = [Leg(o.account, Direction.DEBIT, o.amount, currency) for o in orders]
    total = sum(o.amount for o in orders)
    legs.append(Leg(clearing_account(orders[0].bank_id), Direction.CREDIT, total, currency))
    key = f"payout/distribution/{declared.reference}/{batch}"
    return EntryDraft(
        legs=[StatusLeg(leg, PostingStatus.PENDING) for leg in legs],
        entry_type=EntryType.PENDING,
        purpose=Purpose.PAYOUT,
        description=f"Payouts of batch {batch} of distribution {declared.reference}: "
        f"{len(orders)} investors through bank {orders[0].bank_id}",
        effective_date=effective_date,
        idempotency_key=key,
        request_hash=key,
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.DISTRIBUTION.value,
        reference_id=declared.reference,
        origin=Origin.FLOW,
    )


def may_read(principal: Principal, *, msme_id: UUID) -> bool:
    """Staff and the fund's own business read its distributions; nobody else learns of them."""
    if principal.role is Role.STAFF:
        return True
    return principal.role is Role.MSME and principal.tenant == str(msme_id)


def after_batch(posted: int, batches: int) -> DistributionStatus:
    """A distribution is paid once its last batch is booked."""
    return DistributionStatus.PAID if posted >= batches else DistributionStatus.FUNDED
