"""Subscription settings (environment prefix ``SUBSCRIPTION_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kumiai.settings import Environment, ServiceSettings
from subscription.crypto import DEVELOPMENT_KEY_SETTING, FieldCipher


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUBSCRIPTION_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_subscription"
    payment_period: timedelta = Field(
        default=timedelta(days=7), description="From placing a subscription to its deadline"
    )
    cooling_off_period: timedelta = Field(
        default=timedelta(days=8), description="An investor may cancel within it (DOMAIN.md)"
    )
    issuer_yearly_limit: int = Field(
        default=500_000,
        ge=0,
        description="Most an investor commits to one issuer per calendar year; 0 = no limit",
    )
    risk_notice_version: str = Field(default="2026-11", min_length=1)
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
