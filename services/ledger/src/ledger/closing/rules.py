"""The rules of closing (pure: no database, no I/O): money out of a fund's escrow.

A cancelled subscription that was paid is refunded; at the end of the offering
a failed fund refunds every paid subscription, and a formed fund releases
everything paid in to its business less the fees due under its terms, but only
when the escrow, the paid subscriptions and the closing announcement agree.
A refund is paid back to the investor through the bank that received the deposit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from kumiai.contracts.ledger import PayoutBeneficiary, RefundReason
from kumiai.principal import Principal, Role
from ledger.books.rules import (
    FLOW_AUTHOR,
    PLATFORM_FEES,
    Direction,
    EntryDraft,
    FundFacts,
    FundStatus,
    Leg,
    PaymentFacts,
    PaymentStatus,
    Purpose,
    ReferenceType,
    escrow_account,
    flow_entry,
    municipality_receivable_account,
    payable_account,
    wallet_account,
)
from ledger.payouts.rules import PayoutOrder


def closes(status: FundStatus) -> bool:
    """A fund closes once: ``FundClosed`` for a fund that is no longer open (a redelivered
    or late event) changes nothing."""
    return status is FundStatus.OPEN


# -- cancellation and refunds --------------------------------------------------------------


class Cancellation(StrEnum):
    """What a cancelled subscription means for the money the ledger awaits or holds."""

    NOTHING = "nothing"
    """Already cancelled or refunded (or never heard of): a redelivery."""
    STOP_AWAITING = "stop_awaiting"
    REFUND = "refund"


def on_cancellation(status: PaymentStatus | None) -> Cancellation:
    """An unpaid subscription is no longer awaited; a paid one is refunded; anything else
    (cancelled, refunded, released, unknown) is left as it is."""
    if status is PaymentStatus.EXPECTED:
        return Cancellation.STOP_AWAITING
    if status is PaymentStatus.PAID:
        return Cancellation.REFUND
    return Cancellation.NOTHING


def refund_key(subscription_id: UUID | str) -> str:
    """The key of a subscription's refund entry and of its payout (never ``client/``)."""
    return f"refund/{subscription_id}"


def refund_entry(
    payment: PaymentFacts, *, reason: RefundReason, effective_date: date, request_hash: str
) -> EntryDraft:
    """Pay a paid subscription back out of escrow into its investor's wallet, exactly what
    was paid (``check_segregation``; once per subscription: ``uq_journal_entries_refund_once``)."""
    legs = [
        Leg(escrow_account(payment.fund_id), Direction.DEBIT, payment.amount, payment.currency),
        Leg(
            wallet_account(payment.investor_id), Direction.CREDIT, payment.amount, payment.currency
        ),
    ]
    return flow_entry(
        purpose=Purpose.REFUND,
        legs=legs,
        description=f"Refund of subscription {payment.subscription_id} ({reason.value})",
        effective_date=effective_date,
        idempotency_key=refund_key(payment.subscription_id),
        request_hash=request_hash,
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.SUBSCRIPTION,
        reference_id=payment.subscription_id,
        payment=payment,
    )


def refund_payout(payment: PaymentFacts, *, bank_id: str, payout_id: UUID) -> PayoutOrder:
    """The payout of a refund from the investor's wallet to its registered account, through
    the bank that received the deposit."""
    return PayoutOrder(
        id=payout_id,
        key=refund_key(payment.subscription_id),
        account=wallet_account(payment.investor_id),
        amount=payment.amount,
        currency=payment.currency,
        bank_id=bank_id,
        reference=f"refund of subscription {payment.subscription_id}",
        beneficiary=PayoutBeneficiary.INVESTOR,
        beneficiary_id=payment.investor_id,
        created_by=FLOW_AUTHOR,
        fund_id=UUID(payment.fund_id),
    )


# -- release -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidIn:
    """A paid subscription, as a release counts it: its amount and the handling fee in it."""

    amount: int
    fee_amount: int


@dataclass(frozen=True)
class Grant:
    """A municipality's grant that pays part of the fund's arrangement fee."""

    municipality_code: str
    amount: int

    @property
    def account(self) -> str:
        return municipality_receivable_account(self.municipality_code)


@dataclass(frozen=True)
class Release:
    """Everything paid in goes to the business, less the fees due; a municipality's grant
    pays its share of the arrangement fee, which the municipality then owes."""

    gross: int
    handling_fees: int
    arrangement_fee: int
    grant: Grant | None = None

    @property
    def fees(self) -> int:
        """The fees due: the paid subscriptions' handling fees and the arrangement fee."""
        return self.handling_fees + self.arrangement_fee

    @property
    def subsidy(self) -> int:
        """The municipality's share of the arrangement fee (0 without a grant)."""
        return self.grant.amount if self.grant is not None else 0

    @property
    def fees_from_escrow(self) -> int:
        """The part of the fees the business pays out of the money raised."""
        return self.fees - self.subsidy

    @property
    def net(self) -> int:
        """What the business receives: everything paid in less its share of the fees."""
        return self.gross - self.fees_from_escrow


@dataclass(frozen=True)
class ReleaseHeld:
    """The figures disagree: the release waits for staff."""

    reason: str


def release_or_hold(
    paid: Sequence[PaidIn],
    *,
    arrangement_fee: int,
    held: int,
    announced: int,
    grant: Grant | None = None,
) -> Release | ReleaseHeld:
    """Release a formed fund only when the escrow holds exactly what its paid subscriptions
    paid, the closing announcement says the same, and the business's share of the fees
    fits in it; otherwise hold it for staff, never releasing on figures that disagree.
    A grant pays at most the arrangement fee (the subsidy service computes it so).

    The database checks the release too (``postings_apply`` trigger, section
    "segregation": everything paid in out, the fees due kept; once:
    ``uq_journal_entries_release_once``; both in migration ``2026_11_28_segregation.py``).
    """
    release = Release(
        gross=sum(p.amount for p in paid),
        handling_fees=sum(p.fee_amount for p in paid),
        arrangement_fee=arrangement_fee,
        grant=grant,
    )
    gross, fees = release.gross, release.fees_from_escrow
    if release.subsidy > arrangement_fee:
        return ReleaseHeld(f"grant {release.subsidy} exceeds the arrangement fee {arrangement_fee}")
    if gross <= 0 or held != gross or announced != gross or fees > gross:
        return ReleaseHeld(
            f"escrow holds {held}, paid subscriptions {gross}, closing announced {announced}, "
            f"fees {fees}"
        )
    return release


def release_entry(
    release: Release,
    fund: FundFacts,
    *,
    currency: str,
    effective_date: date,
    request_hash: str,
) -> EntryDraft:
    """The release of a formed fund: its escrow emptied into its business's payable and
    the platform's fees, the granting municipality owing its share of the arrangement fee
    (``check_segregation``, as the trigger checks it)."""
    legs = [Leg(escrow_account(fund.fund_id), Direction.DEBIT, release.gross, currency)]
    if release.grant is not None:
        legs.append(Leg(release.grant.account, Direction.DEBIT, release.grant.amount, currency))
    if release.net > 0:
        legs.append(Leg(payable_account(fund.msme_id), Direction.CREDIT, release.net, currency))
    if release.fees:
        legs.append(Leg(PLATFORM_FEES, Direction.CREDIT, release.fees, currency))
    return flow_entry(
        purpose=Purpose.RELEASE,
        legs=legs,
        description=(
            f"Release of fund {fund.fund_id} to its business, less handling fees "
            f"{release.handling_fees} and arrangement fee {release.arrangement_fee}"
            + (
                f", of which municipality {release.grant.municipality_code} owes "
                f"{release.grant.amount}"
                if release.grant is not None
                else ""
            )
        ),
        effective_date=effective_date,
        idempotency_key=f"release/{fund.fund_id}",
        request_hash=request_hash,
        created_by=FLOW_AUTHOR,
        reference_type=ReferenceType.FUND,
        reference_id=fund.fund_id,
        fund=FundFacts(
            fund_id=fund.fund_id,
            msme_id=fund.msme_id,
            status=fund.status,
            paid_in=release.gross,
            fees_due=release.fees,
            grant_account=release.grant.account if release.grant is not None else None,
            grant_amount=release.subsidy,
        ),
    )


# -- the segregation report ----------------------------------------------------------------


@dataclass(frozen=True)
class EscrowFigures:
    """What went into and out of a fund's escrow, by flow."""

    paid_in: int
    refunded: int
    released_to_business: int
    fees: int
    reversals_net: int
    balance: int
    agrees_with_postings: bool


def escrow_figures(
    posted: Mapping[tuple[Purpose, Direction], int], *, fees: int, balance: int
) -> EscrowFigures:
    """A fund's escrow report from its posted totals per purpose and direction, the fees
    its release kept, and its running balance, which must equal credits less debits."""
    credits = sum(v for (_, d), v in posted.items() if d is Direction.CREDIT)
    debits = sum(v for (_, d), v in posted.items() if d is Direction.DEBIT)
    reversed_in = posted.get((Purpose.REVERSAL, Direction.CREDIT), 0)
    reversed_out = posted.get((Purpose.REVERSAL, Direction.DEBIT), 0)
    return EscrowFigures(
        paid_in=credits - reversed_in,
        refunded=posted.get((Purpose.REFUND, Direction.DEBIT), 0),
        released_to_business=posted.get((Purpose.RELEASE, Direction.DEBIT), 0) - fees,
        fees=fees,
        reversals_net=reversed_in - reversed_out,
        balance=balance,
        agrees_with_postings=balance == credits - debits,
    )


def may_read(principal: Principal) -> bool:
    """Only staff read a fund's escrow report."""
    return principal.role is Role.STAFF
