"""The platform's services as the developer tooling sees them: importable by name."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kumiai import catalog

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kumiai.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceInfo(catalog.ServiceInfo):
    """A service of ``kumiai.catalog``, with its app, settings and migrations at hand."""

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


SERVICES: tuple[ServiceInfo, ...] = tuple(ServiceInfo(s.name, s.port) for s in catalog.SERVICES)


def service(name: str) -> ServiceInfo:
    for info in SERVICES:
        if info.name == name:
            return info
    raise KeyError(name)
