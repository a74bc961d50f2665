"""Onboarding settings (environment prefix ``ONBOARDING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kumiai.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARDING_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_onboarding"
    min_unit_price: int = Field(default=10_000, gt=0, description="JPY, DOMAIN.md default")
    max_unit_price: int = Field(default=50_000, gt=0)
