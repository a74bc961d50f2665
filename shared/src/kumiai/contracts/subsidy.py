"""Events published by the subsidy service (topic ``kumiai.subsidy.events``).

Every event here has the fund id as its subject, so a grant's events reach a
consumer in order with its fund's. Amounts are integers of the currency's minor
unit. No event names a person: applicants are businesses, awarders are roles.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from kumiai.events import EventPayload, registry
from kumiai.inputs import MAX_AMOUNT
from kumiai.money import CurrencyCode

LOCAL_GOVERNMENT_CODE = r"^[0-9]{6}$"
"""A municipality's or prefecture's six-digit local government code (JIS X 0402, with its
check digit): the tenant of its tokens and the owner of its programmes."""


@registry.register
class SubsidyGranted(EventPayload):
    """A municipality's programme pays part of a business's arrangement fee for one fund.

    Subject: the fund id. ``amount`` = min(the programme's cap, floor(arrangement fee x
    coverage)). At the fund's release the ledger takes only the business's share of the
    fee out of escrow and books ``amount`` as owed by the municipality, which pays it
    quoting ``payment_reference``. If the fund fails, the grant lapses when
    ``lapses_if_fund_fails``; otherwise the municipality still owes its share.
    """

    event_type = "SubsidyGranted"
    schema_version = 1

    award_id: UUID
    programme_id: UUID
    municipality_code: str = Field(pattern=LOCAL_GOVERNMENT_CODE, description="Who pays")
    fiscal_year: int = Field(ge=2000, le=2100, description="The programme's (April to March)")
    fund_id: UUID
    msme_id: UUID
    application_id: UUID = Field(description="The business's onboarding application")
    arrangement_fee: int = Field(gt=0, le=MAX_AMOUNT, description="The fund's, minor units")
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="The municipality's share")
    currency: CurrencyCode = "JPY"
    payment_reference: str = Field(
        min_length=1, max_length=64, description="What the municipality's transfer quotes"
    )
    lapses_if_fund_fails: bool
    granted_at: AwareDatetime

    @model_validator(mode="after")
    def _within_the_fee(self) -> SubsidyGranted:
        if self.amount > self.arrangement_fee:
            raise ValueError("a grant pays at most the arrangement fee")
        return self


class RevocationReason(StrEnum):
    """Why a grant ended before it was used."""

    REVOKED = "revoked"
    """Its municipality or platform staff withdrew it."""
    LAPSED = "lapsed"
    """Its fund failed and the programme lets grants lapse then."""


@registry.register
class SubsidyRevoked(EventPayload):
    """A grant is withdrawn, or lapsed because its fund failed. Subject: the fund id.

    Before the fund's release the ledger forgets it (the business pays the whole fee);
    after the release and before the municipality pays, what the municipality owed
    becomes owed by the business. Once the municipality has paid, the business must pay
    it back to the municipality (the subsidy service records that).
    """

    event_type = "SubsidyRevoked"
    schema_version = 1

    award_id: UUID
    programme_id: UUID
    municipality_code: str = Field(pattern=LOCAL_GOVERNMENT_CODE)
    fund_id: UUID
    msme_id: UUID
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="The grant that is withdrawn")
    currency: CurrencyCode = "JPY"
    reason: RevocationReason
    revoked_at: AwareDatetime
