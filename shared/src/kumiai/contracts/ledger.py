"""Events published by the ledger service (topic ``kumiai.ledger.events``).

Every event here has the fund id as its subject, so a fund's money movements reach
a consumer in order. Amounts are integers of the currency's minor unit.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kumiai.events import EventPayload, registry
from kumiai.money import CurrencyCode


class RefundReason(StrEnum):
    """Why money was paid back to an investor."""

    SUBSCRIPTION_CANCELLED = "subscription_cancelled"
    """The subscription the money paid for was cancelled."""
    FUND_FAILED = "fund_failed"
    """The fund did not reach its formation threshold."""
    DEPOSIT_RETURNED = "deposit_returned"
    """A deposit could not be applied (unmatched, late or overpaid) and is sent back."""


@registry.register
class PaymentReceived(EventPayload):
    """An investor's bank transfer for a subscription was credited to the escrow account.

    Subject: the fund id.
    """

    event_type = "PaymentReceived"
    schema_version = 1

    deposit_id: UUID = Field(description="The ledger's id of the bank deposit")
    subscription_id: UUID = Field(description="Subscription the deposit was matched to")
    fund_id: UUID
    investor_id: UUID
    amount: int = Field(gt=0, description="Amount credited, minor units")
    currency: CurrencyCode = "JPY"
    value_date: date = Field(description="Value date the bank booked the credit on")
    bank_id: str = Field(
        min_length=1, max_length=64, description="Identifier of the bank that reported the credit"
    )
    received_at: AwareDatetime


@registry.register
class FundsReleased(EventPayload):
    """Money raised by a formed fund was released from escrow to the business, less fees.

    Subject: the fund id. ``gross_amount`` = ``fees_amount`` + ``net_amount``.
    """

    event_type = "FundsReleased"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    gross_amount: int = Field(gt=0, description="Amount leaving escrow, minor units")
    fees_amount: int = Field(ge=0, description="Part kept by the platform as fees, minor units")
    net_amount: int = Field(ge=0, description="Part paid to the business, minor units")
    currency: CurrencyCode = "JPY"
    entry_id: UUID = Field(description="The ledger journal entry that booked the release")
    released_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> FundsReleased:
        if self.gross_amount != self.fees_amount + self.net_amount:
            raise ValueError(
                f"gross_amount {self.gross_amount} does not equal fees_amount + net_amount "
                f"= {self.fees_amount + self.net_amount}"
            )
        return self


@registry.register
class RefundIssued(EventPayload):
    """Money held in escrow was paid back to an investor.

    Subject: the fund id. ``subscription_id`` is empty only for a deposit that was
    never matched to a subscription.
    """

    event_type = "RefundIssued"
    schema_version = 1

    refund_id: UUID
    fund_id: UUID
    investor_id: UUID
    subscription_id: UUID | None = Field(
        default=None, description="Subscription refunded; None for an unmatched deposit"
    )
    amount: int = Field(gt=0, description="Amount paid back, minor units")
    currency: CurrencyCode = "JPY"
    reason: RefundReason
    entry_id: UUID = Field(description="The ledger journal entry that booked the refund")
    issued_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> RefundIssued:
        if self.reason is not RefundReason.DEPOSIT_RETURNED and self.subscription_id is None:
            raise ValueError(f"a {self.reason.value} refund must name its subscription_id")
        return self


class PayoutBeneficiary(StrEnum):
    """Whose registered bank account a payout goes to."""

    INVESTOR = "investor"
    """The investor's payout account, registered with the subscription service."""
    BUSINESS = "business"
    """The business's account, registered with onboarding."""
    PAYER = "payer"
    """Back to the account a deposit came from (the bank that received it knows it)."""


@registry.register
class PayoutInstructed(EventPayload):
    """The ledger instructed a partner bank to send money out, pending until the bank answers.

    Subject: the fund id when the payout belongs to a fund (a refund, a release),
    else the payout id. No account details: the bank reads the beneficiary's
    registered account from the service that keeps it.
    """

    event_type = "PayoutInstructed"
    schema_version = 1

    payout_id: UUID
    fund_id: UUID | None = None
    beneficiary: PayoutBeneficiary
    beneficiary_id: str = Field(
        min_length=1, max_length=100, description="Investor or business id; deposit id for payer"
    )
    bank_id: str = Field(min_length=1, max_length=64, description="Partner bank that sends it")
    amount: int = Field(gt=0, description="Minor units")
    currency: CurrencyCode = "JPY"
    instructed_at: AwareDatetime


class DistributionPayout(BaseModel):
    """One investor's net distribution, instructed as a payout to its registered account."""

    model_config = ConfigDict(frozen=True)

    payout_id: UUID
    investor_id: UUID
    amount: int = Field(gt=0, description="The investor's net distribution, minor units")


MAX_DISTRIBUTION_PAYOUTS = 1_000


@registry.register
class DistributionPayoutsInstructed(EventPayload):
    """One batch of a distribution's payouts is instructed to a partner bank.

    Subject: the fund id. The bank is the one the business paid through; each payout is
    pending until the bank answers.

    A distribution's payouts are announced in batches (not one ``PayoutInstructed``
    each: a fund has tens of thousands of investors); the bank fetches the bulk transfer
    file, with the registered accounts, from the service that keeps them.
    """

    event_type = "DistributionPayoutsInstructed"
    schema_version = 1

    fund_id: UUID
    period_number: int = Field(ge=1)
    bank_id: str = Field(min_length=1, max_length=64, description="Partner bank that sends them")
    batch: int = Field(ge=1)
    payouts: list[DistributionPayout] = Field(min_length=1, max_length=MAX_DISTRIBUTION_PAYOUTS)
    currency: CurrencyCode = "JPY"
    instructed_at: AwareDatetime


@registry.register
class DistributionPaid(EventPayload):
    """A declared distribution is paid out to its investors.

    Subject: the fund id. The business's payment settled the fees due, the success fee
    went to the operator, the tax to the withholding account, and every investor's net
    was booked to its wallet and instructed as a payout.

    Once per fund and period. A period with nothing to distribute is paid on the day its
    declaration arrives and moves no money (``bank_id`` is then null unless fees were
    paid).
    """

    event_type = "DistributionPaid"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    period_number: int = Field(ge=1)
    bank_id: str | None = Field(
        max_length=64, description="Partner bank the business paid through, which pays out"
    )
    deposit_id: UUID | None = Field(description="The business's payment; null when none was due")
    investor_count: int = Field(ge=0)
    payout_count: int = Field(ge=0, description="Payouts instructed (investors with a net > 0)")
    total_gross: int = Field(ge=0)
    total_tax: int = Field(ge=0, description="Credited to the withholding account")
    total_net: int = Field(ge=0, description="Credited to investors' wallets and paid out")
    success_fee: int = Field(ge=0)
    fees_settled: int = Field(ge=0, description="Operation and audit fees settled first")
    currency: CurrencyCode = "JPY"
    paid_on: date = Field(description="The day (in Japan) the distribution was booked")
    paid_at: AwareDatetime

    @model_validator(mode="after")
    def _adds_up(self) -> DistributionPaid:
        if self.total_gross - self.total_tax != self.total_net:
            raise ValueError("net must be gross less tax")
        if self.payout_count > self.investor_count:
            raise ValueError("at most one payout per investor")
        return self


@registry.register
class SubsidyPaid(EventPayload):
    """A municipality's transfer for a grant arrived and settled what it owed for one fund.

    Subject: the fund id. Once per grant. The transfer quoted the grant's payment
    reference, for exactly the grant's amount, after the fund's release booked the
    municipality's share of the arrangement fee (a transfer that arrives earlier waits
    in suspense until then).
    """

    event_type = "SubsidyPaid"
    schema_version = 1

    award_id: UUID
    fund_id: UUID
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    amount: int = Field(gt=0, description="Minor units")
    currency: CurrencyCode = "JPY"
    deposit_id: UUID = Field(description="The ledger's id of the municipality's transfer")
    bank_id: str = Field(min_length=1, max_length=64, description="Partner bank that received it")
    value_date: date = Field(description="Day the bank booked the credit")
    entry_id: UUID = Field(description="The journal entry that settled the receivable")
    paid_at: AwareDatetime
