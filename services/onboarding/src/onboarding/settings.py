"""Onboarding settings (environment prefix ``ONBOARDING_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kumiai.settings import ServiceSettings
from onboarding.applications.rules import DEFAULT_TARGET_DAYS, Step
from onboarding.funds.rules import TermLimits


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
