"""The rules of deposits (pure: no database, no I/O): what a partner bank's report must
look like, when a deposit pays a subscription, and what waits in suspense.

A deposit pays the subscription whose payment reference it quotes when that
payment is awaited, for exactly the amount due, and its fund is open; anything
else is held in suspense, where it pays its subscription as soon as the ledger
learns of it (an early deposit) or waits for staff to match or return it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from kumiai.periods import japan_date, one_year_before
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, UnprocessableContent
from ledger.books.rules import (
    SUSPENSE,
    Direction,
    EntryDraft,
    FundFacts,
    FundStatus,
    Leg,
    PaymentFacts,
    PaymentStatus,
    Purpose,
    ReferenceType,
    clearing_account,
    escrow_account,
    flow_entry,
)


# Published in the OpenAPI document as it is: a docstring would change it.
# suspense -> matched (its payment became known, or staff matched it);
# suspense -> returning (staff send it back) -> returned, or back to suspense if the
# bank fails the transfer. The CHECK ``deposits.status_known`` holds the same values.
class DepositStatus(StrEnum):
    MATCHED = "matched"
    SUSPENSE = "suspense"
    RETURNING = "returning"
    RETURNED = "returned"


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


# -- the report ------------------------------------------------------------------------

VALUE_DATE_DAYS_AHEAD = 1
"""A value date may be at most this many days after today in Japan (a bank a time zone
behind, or a report sent just before midnight, may already book tomorrow)."""


def value_date_window(now: datetime) -> tuple[date, date]:
    """The first and last value date accepted at ``now``: a year ago to tomorrow, Japan time.

    "A year ago" is the regulation's past year (``kumiai.periods.one_year_before``).
    """
    today = japan_date(now)
    return japan_date(one_year_before(now)), today + timedelta(days=VALUE_DATE_DAYS_AHEAD)


def check_value_date(value_date: date, *, now: datetime) -> None:
    """Refuse a value date after tomorrow or more than a year ago (Japan time)."""
    earliest, latest = value_date_window(now)
    if value_date > latest:
        raise ValueDateRefused(f"value date {value_date} is after {latest}: not received yet")
    if value_date < earliest:
        raise ValueDateRefused(
            f"value date {value_date} is before {earliest}, more than a year ago"
        )


def check_same_report(stored_hash: str, request_hash: str, *, transaction_id: str) -> None:
    """A bank transaction reported again must be reported as it was the first time
    (the same report is answered with the deposit it booked).

    The database keeps one deposit per transaction (``uq_deposits_bank_id``, migration
    ``2026_11_22_deposits.py``).
    """
    if stored_hash != request_hash:
        raise DepositKeyReused(f"transaction {transaction_id} differs")


def deposit_key(bank_id: str, transaction_id: str) -> str:
    """The key of the entry that books a bank's reported transaction (never ``client/``)."""
    return f"deposit/{bank_id}/{transaction_id}"


def match_key(deposit_id: UUID) -> str:
    """The key of the entry that moves a suspense deposit into escrow (never ``client/``)."""
    return f"deposit/{deposit_id}/match"


# -- matching --------------------------------------------------------------------------


class PaymentRecord(Protocol):
    """What the ledger stores of a payment it awaits (``expected_payments``)."""

    @property
    def subscription_id(self) -> UUID: ...
    @property
    def fund_id(self) -> UUID: ...
    @property
    def investor_id(self) -> UUID: ...
    @property
    def amount(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def status(self) -> str: ...


def payment_facts(payment: PaymentRecord) -> PaymentFacts:
    """What the segregation rules need to know of an awaited payment."""
    return PaymentFacts(
        subscription_id=str(payment.subscription_id),
        fund_id=str(payment.fund_id),
        investor_id=str(payment.investor_id),
        amount=payment.amount,
        currency=payment.currency,
        status=PaymentStatus(payment.status),
    )


def can_be_paid(payment: PaymentFacts, fund: FundFacts | None) -> bool:
    """A payment can be paid now when it is still awaited and its fund is open."""
    return (
        payment.status is PaymentStatus.EXPECTED
        and fund is not None
        and fund.status is FundStatus.OPEN
    )


def why_suspense(
    payment: PaymentFacts | None, fund: FundFacts | None, *, amount: int, currency: str
) -> str | None:
    """Why a deposit cannot pay the payment its reference names (``None``: it can).

    The deposit then goes to suspense, with this reason, instead of the escrow.
    """
    if payment is None:
        return "unknown payment reference"
    if payment.status is not PaymentStatus.EXPECTED:
        return f"subscription is {payment.status.value}"
    if payment.currency != currency or payment.amount != amount:
        return f"amount {amount} {currency} differs from {payment.amount} {payment.currency} due"
    if not can_be_paid(payment, fund):
        return "the fund is not open for payments"
    return None


def check_in_suspense(status: DepositStatus) -> None:
    """Only a deposit held in suspense is matched or returned."""
    if status is not DepositStatus.SUSPENSE:
        raise NotInSuspense(f"the deposit is {status.value}")


def check_staff_match(
    subscription_id: UUID,
    payment: PaymentFacts | None,
    fund: FundFacts | None,
    *,
    amount: int,
    currency: str,
) -> None:
    """Staff match a suspense deposit only to a subscription that awaits exactly its
    amount, in an open fund."""
    if (
        payment is None
        or payment.status is not PaymentStatus.EXPECTED
        or payment.amount != amount
        or payment.currency != currency
    ):
        raise PaymentNotExpected(f"subscription {subscription_id} does not await {amount}")
    if not can_be_paid(payment, fund):
        raise PaymentNotExpected(f"the fund of subscription {subscription_id} is not open")


def payment_entry(
    payment: PaymentFacts,
    fund: FundFacts | None,
    *,
    source: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """Money into a fund's escrow for a subscription it awaits, from a bank's clearing
    account or suspense (``check_segregation`` allows it, as the trigger will)."""
    legs = [
        Leg(source, Direction.DEBIT, payment.amount, payment.currency),
        Leg(escrow_account(payment.fund_id), Direction.CREDIT, payment.amount, payment.currency),
    ]
    return flow_entry(
        purpose=Purpose.DEPOSIT,
        legs=legs,
        description=description,
        effective_date=effective_date,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=ReferenceType.SUBSCRIPTION,
        reference_id=payment.subscription_id,
        payment=payment,
        fund=fund,
    )


def suspense_entry(
    *,
    bank_id: str,
    deposit_id: UUID,
    amount: int,
    currency: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """A deposit that pays nothing known yet: from the bank's clearing account into
    suspense, naming the deposit."""
    return flow_entry(
        purpose=Purpose.DEPOSIT,
        legs=[
            Leg(clearing_account(bank_id), Direction.DEBIT, amount, currency),
            Leg(SUSPENSE, Direction.CREDIT, amount, currency),
        ],
        description=description,
        effective_date=effective_date,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=ReferenceType.DEPOSIT,
        reference_id=str(deposit_id),
    )


def after_return(*, confirmed: bool) -> DepositStatus:
    """A returned deposit is gone once its bank confirms the transfer; a failed transfer
    puts it back in suspense, to be returned again or matched."""
    return DepositStatus.RETURNED if confirmed else DepositStatus.SUSPENSE


# -- who reads what --------------------------------------------------------------------


def may_read(principal: Principal, *, bank_id: str | None) -> bool:
    """Whether ``principal`` may read the deposits reported by bank ``bank_id`` (``None``:
    by every bank): staff read every deposit, a partner bank only those it reported."""
    if principal.role is Role.STAFF:
        return True
    return principal.role is Role.BANK and bank_id is not None and principal.tenant == bank_id
