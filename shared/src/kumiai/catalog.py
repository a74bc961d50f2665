"""The platform's services, where they listen and what they are called: data only.

Nothing here imports a service: deployment scripts (the container's entrypoint
and health probe, ``kumiai-migrate``) read names and ports from it; the
developer tooling (``kumiai_tools.catalog``) adds the imports it needs.
"""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def migrate_module(self) -> str:
        """The module that migrates the service's database (``python -m <it>``)."""
        return f"{self.name}.migrate"


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
