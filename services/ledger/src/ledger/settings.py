"""Ledger settings (environment prefix ``LEDGER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kumiai.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_ledger"
