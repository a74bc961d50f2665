"""Events published by the subscription service (topic ``kumiai.subscription.events``).

Every event here has the fund id as its subject, so all of a fund's subscription
events reach a consumer in order. Amounts are integers of the currency's minor unit.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

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
