"""The platform's services and where they listen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kumiai.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    port: int

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def database(self) -> str:
        return f"kumiai_{self.name}"

    @property
    def app_factory(self) -> str:
        return f"{self.name}.app:create_app"

    def module(self) -> object:
        return importlib.import_module(f"{self.name}.app")

    def root(self) -> Path:
        root: Path = self.module().SERVICE_ROOT  # type: ignore[attr-defined]
        return root

    def create_app(self, settings: ServiceSettings | None = None) -> FastAPI:
        app: FastAPI = self.module().create_app(settings)  # type: ignore[attr-defined]
        return app

    def settings_class(self) -> type[ServiceSettings]:
        cls: type[ServiceSettings] = self.module().Settings  # type: ignore[attr-defined]
        return cls


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("onboarding", 8001),
    ServiceInfo("subscription", 8002),
    ServiceInfo("ledger", 8003),
    ServiceInfo("disclosure", 8004),
    ServiceInfo("subsidy", 8005),
)


def service(name: str) -> ServiceInfo:
    for info in SERVICES:
        if info.name == name:
            return info
    raise KeyError(name)
