"""Municipal grants in the books (pure): a municipality's share of a fund's arrangement fee.

A grant (``SubsidyGranted``) is held until the fund closes. When a formed fund is
released, the business pays only its share of the arrangement fee out of escrow and
the municipality's share is booked as receivable from it, in the release entry itself
(``ledger.closing.rules.release_entry``). A grant heard of after the release is booked
on its own: the municipality owes its share and the business is owed it back. A fund
that fails books nothing when its grant lapses; when the programme keeps grants of
failed funds, the municipality still owes its share of the fee.

The municipality pays quoting the grant's payment reference, exactly its amount, once
(the unique index ``uq_journal_entries_grant_payment_once``); a transfer that arrives
before the receivable is booked waits in suspense and pays it the moment it is.
A grant withdrawn after it was booked and before the municipality paid moves the
receivable to the business, which then owes its whole fee; once paid, the ledger keeps
the payment and the business repays the municipality (the subsidy service records it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from kumiai.contracts.subsidy import RevocationReason
from ledger.books.rules import (
    FLOW_AUTHOR,
    PLATFORM_FEES,
    Direction,
    EntryDraft,
    FundStatus,
    Leg,
    Purpose,
    ReferenceType,
    flow_entry,
    municipality_receivable_account,
    payable_account,
    receivable_account,
)


# grants.status; the CHECK ``grants.status_known`` holds the same values.
class GrantStatus(StrEnum):
    """Where a grant stands in the ledger.

    granted (held until its fund closes) -> booked (the municipality owes it) -> paid;
    granted -> lapsed (its fund failed) or revoked; booked -> revoked (the business owes
    it instead).
    """

    GRANTED = "granted"
    BOOKED = "booked"
    PAID = "paid"
    LAPSED = "lapsed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class GrantFacts:
    """What the ledger keeps of a grant."""

    award_id: UUID
    fund_id: UUID
    msme_id: UUID
    municipality_code: str
    amount: int
    currency: str
    lapses_if_fund_fails: bool
    status: GrantStatus

    @property
    def receivable(self) -> str:
        return municipality_receivable_account(self.municipality_code)


class OnGrant(StrEnum):
    """What a grant means when it arrives, given where its fund stands."""

    HOLD = "hold"
    """The fund has not closed (or is held for staff): the release books it."""
    BOOK_FOR_BUSINESS = "book_for_business"
    """The fund was released already: the business is owed the municipality's share."""
    BOOK_AS_FEE = "book_as_fee"
    """The fund failed and the grant does not lapse: the municipality owes its share."""
    LAPSE = "lapse"
    """The fund failed and the grant lapses with it."""


def on_grant(fund: FundStatus | None, *, lapses_if_fund_fails: bool) -> OnGrant:
    """A grant of a released fund is booked at once (the business paid the whole fee out of
    escrow and gets the municipality's share back); of a failed fund it lapses or, when the
    programme keeps it, is owed as the fee; otherwise the release will book it."""
    if fund is FundStatus.RELEASED:
        return OnGrant.BOOK_FOR_BUSINESS
    if fund is FundStatus.CLOSED_FAILED:
        return OnGrant.LAPSE if lapses_if_fund_fails else OnGrant.BOOK_AS_FEE
    return OnGrant.HOLD


class OnRevocation(StrEnum):
    """What a revocation means for the grant, given where it stands."""

    NOTHING = "nothing"
    """Already lapsed or revoked (a redelivery), or paid: the money stays as it is."""
    FORGET = "forget"
    """Never booked: the release takes the whole fee from escrow."""
    MOVE_TO_BUSINESS = "move_to_business"
    """Booked, not paid: the business owes the operator what the municipality owed."""


def on_revocation(status: GrantStatus) -> OnRevocation:
    """A held grant is forgotten, a booked one moves to the business, a paid one stays
    paid (the business repays the municipality outside the platform)."""
    if status is GrantStatus.GRANTED:
        return OnRevocation.FORGET
    if status is GrantStatus.BOOKED:
        return OnRevocation.MOVE_TO_BUSINESS
    return OnRevocation.NOTHING


def after_revocation(reason: RevocationReason) -> GrantStatus:
    """The status a withdrawn grant ends in."""
    return GrantStatus.LAPSED if reason is RevocationReason.LAPSED else GrantStatus.REVOKED


def why_suspense(grant: GrantFacts, *, amount: int, currency: str) -> str | None:
    """Why a transfer quoting a grant's reference cannot pay it (``None``: it can)."""
    if grant.status is GrantStatus.GRANTED:
        return f"grant {grant.award_id} is not owed until its fund is released"
    if grant.status is not GrantStatus.BOOKED:
        return f"grant {grant.award_id} is {grant.status.value}, not awaited"
    if (amount, currency) != (grant.amount, grant.currency):
        return (
            f"amount {amount} {currency} differs from {grant.amount} {grant.currency} owed "
            f"for grant {grant.award_id}"
        )
    return None


def _entry(
    grant: GrantFacts,
    legs: list[Leg],
    *,
    purpose: Purpose,
    key: str,
    description: str,
    effective_date: date,
    request_hash: str,
    created_by: str = FLOW_AUTHOR,
) -> EntryDraft:
    return flow_entry(
        purpose=purpose,
        legs=legs,
        description=description,
        effective_date=effective_date,
        idempotency_key=key,
        request_hash=request_hash,
        created_by=created_by,
        reference_type=ReferenceType.GRANT,
        reference_id=str(grant.award_id),
    )


def late_grant_entry(
    grant: GrantFacts, how: OnGrant, *, effective_date: date, request_hash: str
) -> EntryDraft:
    """Book a grant its fund's close did not: the municipality owes its share, which the
    business gets back (released fund) or which is the operator's fee (failed fund)."""
    credit = payable_account(grant.msme_id) if how is OnGrant.BOOK_FOR_BUSINESS else PLATFORM_FEES
    legs = [
        Leg(grant.receivable, Direction.DEBIT, grant.amount, grant.currency),
        Leg(credit, Direction.CREDIT, grant.amount, grant.currency),
    ]
    why = (
        "returned to the business, which paid the whole fee at release"
        if how is OnGrant.BOOK_FOR_BUSINESS
        else "its share of the arrangement fee of a fund that failed"
    )
    return _entry(
        grant,
        legs,
        purpose=Purpose.SUBSIDY,
        key=f"grant/{grant.award_id}/book",
        description=(
            f"Grant {grant.award_id} of municipality {grant.municipality_code} for fund "
            f"{grant.fund_id}: {why}"
        ),
        effective_date=effective_date,
        request_hash=request_hash,
    )


def revocation_entry(grant: GrantFacts, *, effective_date: date, request_hash: str) -> EntryDraft:
    """A booked, unpaid grant is withdrawn: the business owes what the municipality owed."""
    legs = [
        Leg(receivable_account(grant.msme_id), Direction.DEBIT, grant.amount, grant.currency),
        Leg(grant.receivable, Direction.CREDIT, grant.amount, grant.currency),
    ]
    return _entry(
        grant,
        legs,
        purpose=Purpose.SUBSIDY,
        key=f"grant/{grant.award_id}/revoke",
        description=(
            f"Grant {grant.award_id} of municipality {grant.municipality_code} withdrawn: "
            f"business {grant.msme_id} owes its share of the arrangement fee"
        ),
        effective_date=effective_date,
        request_hash=request_hash,
    )


def payment_entry(
    grant: GrantFacts,
    *,
    source: str,
    description: str,
    idempotency_key: str,
    request_hash: str,
    created_by: str,
    effective_date: date,
) -> EntryDraft:
    """The municipality's transfer settles its receivable, from a bank's clearing account or
    from suspense; once per grant (``uq_journal_entries_grant_payment_once``)."""
    legs = [
        Leg(source, Direction.DEBIT, grant.amount, grant.currency),
        Leg(grant.receivable, Direction.CREDIT, grant.amount, grant.currency),
    ]
    return _entry(
        grant,
        legs,
        purpose=Purpose.DEPOSIT,
        key=idempotency_key,
        description=description,
        effective_date=effective_date,
        request_hash=request_hash,
        created_by=created_by,
    )
