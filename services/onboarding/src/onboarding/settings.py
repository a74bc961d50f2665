"""Onboarding settings (environment prefix ``ONBOARDING_``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kumiai.cipher import DEVELOPMENT_KEY_SETTING, FieldCipher
from kumiai.settings import Environment, ServiceSettings
from onboarding.applications.rules import DEFAULT_TARGET_DAYS, Step
from onboarding.funds.rules import TermLimits
from onboarding.webhooks.rules import RetryPolicy


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARDING_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_onboarding"
    min_unit_price: int = Field(default=10_000, gt=0, description="JPY, DOMAIN.md default")
    max_unit_price: int = Field(default=50_000, gt=0)
    min_offering_days: int = Field(
        default=1,
        ge=0,
        description="Days an offering stays open at least, counted from when it actually opens",
    )
    max_offering_days: int = Field(default=365, gt=0)
    late_opening_grace_s: float = Field(
        default=60,
        ge=0,
        description="How late the opening timer may be before the minimum offering period "
        "counts from its actual opening; a fund then left with less goes back to draft",
    )
    yearly_raise_limit: int = Field(
        default=100_000_000,
        ge=0,
        description="A business raises less than this per rolling year; 0 = no limit",
    )
    step_target_days: dict[Step, int] = Field(
        default_factory=lambda: dict(DEFAULT_TARGET_DAYS),
        description="Target days per pipeline step; an application past it is overdue",
    )
    committee_quorum: int = Field(default=3, ge=1, description="Votes needed for a decision")
    documents_dir: Path = Field(
        default=Path(".kumiai/documents"), description="Where the local document store keeps files"
    )
    document_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    webhook_secret_keys: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_KEY_SETTING),
        description="Keys that encrypt webhook signing secrets at rest: 'id:base64key,...', "
        "the first is current",
    )
    webhook_retry_base_s: float = Field(
        default=5.0, gt=0, description="First wait after a failed webhook delivery"
    )
    webhook_retry_cap_s: float = Field(
        default=6 * 3600, gt=0, description="Longest wait between two attempts of a delivery"
    )
    webhook_give_up_after_s: float = Field(
        default=3 * 24 * 3600,
        gt=0,
        description="An endpoint failing this long is disabled and staff are told",
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="How long one delivery attempt may take"
    )
    webhook_batch: int = Field(
        default=32, ge=1, le=500, description="Deliveries attempted together in one pass"
    )
    webhook_interval_s: float = Field(
        default=0.5, gt=0, description="Pause of the delivery worker when nothing is due"
    )

    @model_validator(mode="after")
    def _refuse_development_key_in_production(self) -> Settings:
        cipher = FieldCipher.from_setting(self.webhook_secret_keys.get_secret_value())
        development = FieldCipher.from_setting(DEVELOPMENT_KEY_SETTING)
        if self.environment is Environment.PRODUCTION and cipher.shares_key_with(development):
            raise ValueError(
                "webhook_secret_keys holds the development key; set real keys in production"
            )
        return self

    def webhook_cipher(self) -> FieldCipher:
        return FieldCipher.from_setting(self.webhook_secret_keys.get_secret_value())

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base=timedelta(seconds=self.webhook_retry_base_s),
            cap=timedelta(seconds=self.webhook_retry_cap_s),
            give_up_after=timedelta(seconds=self.webhook_give_up_after_s),
        )

    def term_limits(self) -> TermLimits:
        return TermLimits(
            min_unit_price=self.min_unit_price,
            max_unit_price=self.max_unit_price,
            min_offering_days=self.min_offering_days,
            max_offering_days=self.max_offering_days,
        )


async def current_settings(request: Request) -> Settings:
    """The running service's settings (a route's dependency)."""
    value: Settings = request.app.state.runtime.settings
    return value


SettingsDep = Annotated[Settings, Depends(current_settings)]
