"""Events published by the subscription service (topic ``kumiai.subscription.events``).

Every event here has the fund id as its subject, so all of a fund's subscription
events reach a consumer in order. Amounts are integers of the currency's minor unit.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kumiai.events import EventPayload, registry
from kumiai.money import CurrencyCode


class CancellationReason(StrEnum):
    """Why a subscription was cancelled."""

    COOLING_OFF = "cooling_off"
    """The investor withdrew within the statutory cooling-off period."""
    UNPAID = "unpaid"
    """The amount due was not received by the payment deadline."""
    OFFERING_CANCELLED = "offering_cancelled"
    """The offering was withdrawn before the fund closed."""
    FUND_FAILED = "fund_failed"
    """The fund closed without reaching its formation threshold."""
    STAFF = "staff"
    """Cancelled by platform staff."""


class FundOutcome(StrEnum):
    """How a fund's offering ended."""

    SUCCEEDED = "succeeded"
    """The formation threshold was reached; the fund is formed."""
    FAILED = "failed"
    """The formation threshold was not reached; money received is refunded."""


@registry.register
class SubscriptionPlaced(EventPayload):
    """An investor reserved units of a fund and owes ``amount_due`` by ``payment_deadline``.

    Subject: the fund id. The deposit must quote ``payment_reference`` so the bank
    transfer can be matched to this subscription.
    """

    event_type = "SubscriptionPlaced"
    schema_version = 1

    subscription_id: UUID
    fund_id: UUID
    investor_id: UUID
    units: int = Field(gt=0, description="Units reserved")
    unit_price: int = Field(gt=0, description="Price of one unit, minor units")
    handling_fee_per_unit: int = Field(ge=0, description="Fee per unit on top of the price")
    amount_due: int = Field(
        gt=0, description="units x (unit_price + handling_fee_per_unit), minor units"
    )
    currency: CurrencyCode = "JPY"
    payment_reference: str = Field(
        min_length=1,
        max_length=64,
        description="Reference the investor quotes on the transfer; matches the deposit",
    )
    payment_deadline: AwareDatetime = Field(
        description="After this instant an unpaid subscription is cancelled"
    )
    placed_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> SubscriptionPlaced:
        expected = self.units * (self.unit_price + self.handling_fee_per_unit)
        if self.amount_due != expected:
            raise ValueError(
                f"amount_due {self.amount_due} does not equal "
                f"units x (unit_price + handling_fee_per_unit) = {expected}"
            )
        if self.payment_deadline <= self.placed_at:
            raise ValueError("payment deadline must be after the subscription is placed")
        return self


@registry.register
class SubscriptionCancelled(EventPayload):
    """A subscription was cancelled and its units are released back to the offering.

    Subject: the fund id. Money already received for it is refunded by the ledger.
    """

    event_type = "SubscriptionCancelled"
    schema_version = 1

    subscription_id: UUID
    fund_id: UUID
    investor_id: UUID
    units: int = Field(gt=0, description="Units the subscription held")
    reason: CancellationReason
    cancelled_at: AwareDatetime


@registry.register
class SubscriptionConfirmed(EventPayload):
    """The amount due for a subscription was received in full and its units are confirmed.

    Subject: the fund id.
    """

    event_type = "SubscriptionConfirmed"
    schema_version = 1

    subscription_id: UUID
    fund_id: UUID
    investor_id: UUID
    units: int = Field(gt=0, description="Units confirmed")
    amount_paid: int = Field(gt=0, description="Amount received, price and fees, minor units")
    currency: CurrencyCode = "JPY"
    confirmed_at: AwareDatetime


@registry.register
class FundClosed(EventPayload):
    """A fund's offering ended and the fund either formed or failed to reach its threshold.

    Subject: the fund id. On ``succeeded`` the ledger releases the money raised to
    the business; on ``failed`` every confirmed subscription is refunded.
    """

    event_type = "FundClosed"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    outcome: FundOutcome
    units_confirmed: int = Field(ge=0, description="Units of confirmed subscriptions at closing")
    amount_raised: int = Field(ge=0, description="unit_price x units_confirmed, minor units")
    handling_fees_collected: int = Field(
        ge=0, description="handling_fee_per_unit x units_confirmed, minor units"
    )
    currency: CurrencyCode = "JPY"
    investor_count: int = Field(ge=0, description="Investors holding confirmed units")
    closed_at: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> FundClosed:
        if self.outcome is FundOutcome.SUCCEEDED and self.units_confirmed == 0:
            raise ValueError("a succeeded fund must have units_confirmed > 0")
        if self.investor_count > self.units_confirmed:
            raise ValueError("investor_count cannot exceed units_confirmed")
        if self.units_confirmed > 0 and self.investor_count == 0:
            raise ValueError("confirmed units need at least one investor")
        if self.units_confirmed == 0 and (self.amount_raised or self.handling_fees_collected):
            raise ValueError("amounts must be zero when no units are confirmed")
        return self


@registry.register
class DividendDeclaredV1(EventPayload):
    """A formed fund's distribution for one settlement period is computed and declared.

    Subject: the fund id. Declared once per fund and period, in period order, from the
    approved sales (``SalesReported``) and the frozen register. ``business_owes`` is what
    the business pays into the fund's distribution account, quoting
    ``payment_reference`` by ``payment_due``: the investors' gross and the success fee. A
    period with nothing to distribute is declared too, and owes nothing. The lines
    follow in ``DistributionAllocated`` batches (``batches`` of them). Superseded by
    ``DividendDeclared`` v2, which adds the operation and audit fees that fell due;
    consumers accept both (test with ``DividendDeclaredV1``).
    """

    event_type = "DividendDeclared"
    schema_version = 1

    fund_id: UUID
    msme_id: UUID
    period_number: int = Field(ge=1)
    period_start: date
    period_end: date
    sales: int = Field(ge=0, description="The period's approved sales")
    adjustment: int = Field(description="Signed correction of earlier periods' sales")
    cumulative_sales: int = Field(ge=0)
    distributable_sales: int = Field(ge=0, description="Sales above the threshold")
    below_recoup: int = Field(ge=0, description="Distributable sales at the rate before recoup")
    above_recoup: int = Field(ge=0, description="Distributable sales at the rate after recoup")
    distributable_amount: int = Field(ge=0, description="D")
    units: int = Field(gt=0, description="Units in the register (N)")
    per_unit: int = Field(ge=0, description="floor(D / N)")
    retained: int = Field(ge=0, description="D - per_unit x N: stays with the business")
    success_fee: int = Field(ge=0, description="Charged to the business on sales after recoup")
    investor_count: int = Field(gt=0, description="Investors in the register")
    total_gross: int = Field(ge=0)
    total_tax: int = Field(ge=0, description="Withheld at 20.42 % on the profit part")
    total_net: int = Field(ge=0)
    business_owes: int = Field(ge=0, description="total_gross + success_fee")
    currency: CurrencyCode = "JPY"
    payment_reference: str | None = Field(
        description="Quoted on the business's transfer; null when it owes nothing"
    )
    payment_due: date | None
    batches: int = Field(ge=1, description="DistributionAllocated events that carry the lines")
    matures: bool = Field(description="Plan sales reached: this period is the fund's last")
    declared_at: AwareDatetime

    @model_validator(mode="after")
    def _adds_up(self) -> DividendDeclaredV1:
        if self.total_gross + self.retained != self.distributable_amount:
            raise ValueError("gross and retained must add up to the distributable amount")
        if self.total_gross - self.total_tax != self.total_net:
            raise ValueError("net must be gross less tax")
        if self.business_owes != self.total_gross + self.success_fee:
            raise ValueError("the business owes the gross and the success fee")
        return self


class FeeKind(StrEnum):
    """A fee the business owes the operator over a fund's term (DOMAIN.md, "Fees")."""

    OPERATION = "operation"
    """A rate per year on the amount raised, for each fiscal year of the fund."""
    AUDIT = "audit"
    """A fixed amount for the first fiscal year, another for each later one."""


class FeeDue(BaseModel):
    """A fee that fell due in one of the fund's fiscal years (numbered by the calendar
    year it ends in)."""

    model_config = ConfigDict(frozen=True)

    kind: FeeKind
    fiscal_year: int = Field(ge=2000, le=2200)
    fiscal_year_start: date
    fiscal_year_end: date
    amount: int = Field(ge=0)


@registry.register
class DividendDeclared(DividendDeclaredV1):
    """A formed fund's distribution for one settlement period is computed and declared.

    Subject: the fund id. Declared once per fund and period, in period order, from the
    approved sales (``SalesReported``) and the frozen register. ``business_owes`` is what
    the business pays into the fund's distribution account, quoting
    ``payment_reference`` by ``payment_due``: the operation and audit fees that fell due
    with this period (``fees``, settled first), the investors' gross and the success
    fee. A period with nothing to distribute is declared too; it owes only the fees due,
    if any. The lines follow in ``DistributionAllocated`` batches (``batches`` of them).
    """

    schema_version = 2

    fees: list[FeeDue] = Field(
        max_length=400, description="Fees of fiscal years that ended with this period"
    )
    fees_total: int = Field(ge=0)
    business_owes: int = Field(ge=0, description="fees_total + total_gross + success_fee")

    @model_validator(mode="after")
    def _adds_up(self) -> DividendDeclared:
        if self.total_gross + self.retained != self.distributable_amount:
            raise ValueError("gross and retained must add up to the distributable amount")
        if self.total_gross - self.total_tax != self.total_net:
            raise ValueError("net must be gross less tax")
        if self.fees_total != sum(fee.amount for fee in self.fees):
            raise ValueError("fees_total must add up the fees")
        if self.business_owes != self.fees_total + self.total_gross + self.success_fee:
            raise ValueError("the business owes the fees, the gross and the success fee")
        if (self.payment_reference is None) != (self.business_owes == 0):
            raise ValueError("a payment reference is given exactly when something is owed")
        return self


class AllocationLine(BaseModel):
    """One investor's share of a period's distribution."""

    model_config = ConfigDict(frozen=True)

    investor_id: UUID
    units: int = Field(gt=0)
    gross: int = Field(ge=0)
    tax: int = Field(ge=0)
    net: int = Field(ge=0)
    cumulative_gross: int = Field(ge=0)


MAX_ALLOCATION_LINES = 1_000


@registry.register
class DistributionAllocated(EventPayload):
    """One batch of the lines of a declared distribution. Subject: the fund id.

    Batches are numbered from 1 to ``batches`` and follow their ``DividendDeclared``; every
    holder of the register is in exactly one line of one batch.
    """

    event_type = "DistributionAllocated"
    schema_version = 1

    fund_id: UUID
    period_number: int = Field(ge=1)
    batch: int = Field(ge=1)
    batches: int = Field(ge=1)
    lines: list[AllocationLine] = Field(min_length=1, max_length=MAX_ALLOCATION_LINES)
    allocated_at: AwareDatetime
