"""Disclosure settings (environment prefix ``DISCLOSURE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from disclosure.deadlines.rules import DueMonths
from kumiai.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai_disclosure"
    documents_dir: Path = Field(
        default=Path(".kumiai/disclosure-files"),
        description="Where attachments and supporting files are kept (a shared volume)",
    )
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, le=200 * 1024 * 1024, description="Largest file accepted"
    )
    sales_report_due_months: int = Field(
        default=2, ge=0, le=12, description="Months after a settlement period its report is due"
    )
    annual_report_due_months: int = Field(
        default=3, ge=0, le=12, description="Months after a fiscal year its annual report is due"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8004",
        max_length=200,
        description="Where the public reads documents (links in the Atom feed)",
    )

    @property
    def due(self) -> DueMonths:
        return DueMonths(
            sales_report=self.sales_report_due_months, annual_report=self.annual_report_due_months
        )


async def current_settings(request: Request) -> Settings:
    """The running service's settings (a route's dependency)."""
    value: Settings = request.app.state.runtime.settings
    return value


SettingsDep = Annotated[Settings, Depends(current_settings)]
