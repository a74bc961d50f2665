"""Subscription settings (environment prefix ``SUBSCRIPTION_``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kumiai import zengin
from kumiai.cipher import DEVELOPMENT_KEY_SETTING, FieldCipher
from kumiai.inputs import MAX_AMOUNT
from kumiai.settings import Environment, ServiceSettings
from subscription.subscriptions.rules import STATUTORY_COOLING_OFF_DAYS

# Environments where periods shorter than the regulation's may be set, so tests run in seconds.
_SHORT_PERIODS_ALLOWED = frozenset({Environment.DEVELOPMENT, Environment.TEST})
SHORTEST_PAYMENT_PERIOD = timedelta(days=1)
LONGEST_PAYMENT_PERIOD = timedelta(days=30)
DEVELOPMENT_REMITTER_CODE = "0000000000"
DEVELOPMENT_REMITTER_ACCOUNT = "0000000"


class TransferRemitter(BaseModel):
    """The platform's account distribution payouts are sent from (依頼人), as the paying
    bank registered it: the header of every bulk transfer file. Set each field as
    ``SUBSCRIPTION_TRANSFER_REMITTER__<FIELD>`` (``__CODE``, ``__NAME`` ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(
        default=DEVELOPMENT_REMITTER_CODE,
        pattern=r"^[0-9]{10}$",
        description="Remitter code (依頼人コード) the bank gave the platform; the development "
        "one is refused in production",
    )
    name: str = Field(
        default="KUMIAI DEVELOPMENT",
        min_length=1,
        max_length=zengin.REMITTER_NAME_WIDTH,
        description="Remitter name as the bank registered it, in Zengin kana (or text that "
        "converts to it), at most 40 characters",
    )
    bank_code: str = Field(default="0001", pattern=r"^[0-9]{4}$", description="Zengin bank code")
    branch_code: str = Field(default="001", pattern=r"^[0-9]{3}$")
    account_type: Literal["ordinary", "current"] = "ordinary"
    account_number: str = Field(
        default=DEVELOPMENT_REMITTER_ACCOUNT,
        pattern=r"^[0-9]{7}$",
        description="The account debited; the development one is refused in production",
    )

    @model_validator(mode="after")
    def _transferable(self) -> TransferRemitter:
        # A remitter the bank would refuse is refused when the service starts, not when a
        # bank first asks for a file. (NotTransferable is a ValueError: a validation error.)
        zengin.check_branch(self.bank_code, self.branch_code)
        zengin.zengin_kana(self.name, width=zengin.REMITTER_NAME_WIDTH, field="name")
        return self

    def unfit_for_production(self) -> str | None:
        """Why this remitter cannot pay in production, if it cannot: a field left to its
        development default, or the development code or account given."""
        missing = sorted(set(type(self).model_fields) - self.model_fields_set)
        if missing:
            return f"{', '.join(missing)} not set"
        if self.code == DEVELOPMENT_REMITTER_CODE:
            return "the code is the development one"
        if self.account_number == DEVELOPMENT_REMITTER_ACCOUNT:
            return "the account number is the development one"
        return None

    def remitter(self) -> zengin.Remitter:
        return zengin.Remitter(
            code=self.code,
            name=self.name,
            bank_code=self.bank_code,
            branch_code=self.branch_code,
            account_type=self.account_type,
            account_number=self.account_number,
        )


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUBSCRIPTION_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_subscription"
    payment_period: timedelta = Field(
        default=timedelta(days=7),
        gt=timedelta(0),
        le=LONGEST_PAYMENT_PERIOD,
        description="From placing a subscription to its payment deadline; "
        "at least one day outside development and test",
    )
    cooling_off_days: int = Field(
        default=STATUTORY_COOLING_OFF_DAYS,
        ge=1,
        le=31,
        description="An investor may cancel until the end of this day in Japan time, counting "
        "the day of the contract; at least 8 outside development and test (DOMAIN.md)",
    )
    cooling_off_test_period: timedelta | None = Field(
        default=None,
        gt=timedelta(0),
        le=timedelta(days=1),
        description="Tests and development only: a plain duration replacing the calendar rule",
    )
    cooling_off_period: timedelta | None = Field(
        default=None,
        exclude=True,
        description="Replaced by cooling_off_days (and cooling_off_test_period); refused if set",
    )
    issuer_yearly_limit: int = Field(
        default=500_000,
        ge=0,
        le=MAX_AMOUNT,
        description="Most an investor commits to one issuer in the 12 months before a "
        "subscription (unit prices, fees excluded); 0 = no limit",
    )
    risk_notice_version: str = Field(default="2026-11", min_length=1, max_length=50)
    distribution_payment_days: int = Field(
        default=30,
        ge=1,
        le=90,
        description="Days the business has to pay a declared distribution into the fund",
    )
    data_keys: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_KEY_SETTING),
        description="Keys for personal data at rest: 'id:base64key,...', the first is current",
    )
    transfer_remitter: TransferRemitter | None = Field(
        default=None,
        description="The account distribution payouts are sent from (bulk transfer files); "
        "outside production the development remitter stands in while none is set",
    )

    @model_validator(mode="after")
    def _refuse_development_key_in_production(self) -> Settings:
        cipher = FieldCipher.from_setting(self.data_keys.get_secret_value())
        development = FieldCipher.from_setting(DEVELOPMENT_KEY_SETTING)
        if self.environment is Environment.PRODUCTION and cipher.shares_key_with(development):
            raise ValueError("data_keys holds the development key; set real keys in production")
        return self

    @model_validator(mode="after")
    def _refuse_development_remitter_in_production(self) -> Settings:
        remitter = self.transfer_remitter
        if self.environment is not Environment.PRODUCTION or remitter is None:
            return self
        unfit = remitter.unfit_for_production()
        if unfit is not None:
            raise ValueError(
                f"transfer_remitter: {unfit}; set every field as the paying bank registered "
                "it (SUBSCRIPTION_TRANSFER_REMITTER__CODE, __NAME, __BANK_CODE, __BRANCH_CODE, "
                "__ACCOUNT_TYPE, __ACCOUNT_NUMBER)"
            )
        return self

    def payout_remitter(self) -> zengin.Remitter | None:
        """The remitter of bulk transfer files: the one set; outside production, the
        development one while none is. None: production without one (no file is made)."""
        if self.transfer_remitter is not None:
            return self.transfer_remitter.remitter()
        if self.environment is Environment.PRODUCTION:
            return None
        return TransferRemitter().remitter()

    @model_validator(mode="after")
    def _refuse_short_periods_outside_tests(self) -> Settings:
        # A renamed setting must not be ignored silently: the period it set would change.
        if self.cooling_off_period is not None:
            raise ValueError(
                "cooling_off_period is no longer read: set cooling_off_days (calendar days in "
                "Japan time), or cooling_off_test_period in tests"
            )
        if self.environment in _SHORT_PERIODS_ALLOWED:
            return self
        if self.cooling_off_days < STATUTORY_COOLING_OFF_DAYS:
            raise ValueError(
                f"cooling_off_days must be at least {STATUTORY_COOLING_OFF_DAYS} "
                f"in {self.environment.value}"
            )
        if self.cooling_off_test_period is not None:
            raise ValueError(
                f"cooling_off_test_period is for tests and development, not {self.environment}"
            )
        if self.payment_period < SHORTEST_PAYMENT_PERIOD:
            raise ValueError(
                f"payment_period must be at least {SHORTEST_PAYMENT_PERIOD} "
                f"in {self.environment.value}"
            )
        return self


async def current_settings(request: Request) -> Settings:
    """The running service's settings, for the routes that need one of them."""
    value: Settings = request.app.state.runtime.settings
    return value


SettingsDep = Annotated[Settings, Depends(current_settings)]
