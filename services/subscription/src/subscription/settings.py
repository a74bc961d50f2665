"""Subscription settings (environment prefix ``SUBSCRIPTION_``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kumiai.inputs import MAX_AMOUNT
from kumiai.settings import Environment, ServiceSettings
from subscription.investors.cipher import DEVELOPMENT_KEY_SETTING, FieldCipher
from subscription.subscriptions.rules import STATUTORY_COOLING_OFF_DAYS

# Environments where periods shorter than the regulation's may be set, so tests run in seconds.
_SHORT_PERIODS_ALLOWED = frozenset({Environment.DEVELOPMENT, Environment.TEST})
SHORTEST_PAYMENT_PERIOD = timedelta(days=1)
LONGEST_PAYMENT_PERIOD = timedelta(days=30)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUBSCRIPTION_", extra="ignore", frozen=True)

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

    @model_validator(mode="after")
    def _refuse_development_key_in_production(self) -> Settings:
        cipher = FieldCipher.from_setting(self.data_keys.get_secret_value())
        development = FieldCipher.from_setting(DEVELOPMENT_KEY_SETTING)
        if self.environment is Environment.PRODUCTION and cipher.shares_key_with(development):
            raise ValueError("data_keys holds the development key; set real keys in production")
        return self

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
