"""Disclosure: Offering documents, sales reports, annual reports and who may read them."""

from __future__ import annotations

from fastapi import FastAPI

from disclosure.handlers import HANDLERS
from disclosure.settings import Settings
from kumiai.service import ServiceSpec, build_service_app, service_root

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="disclosure",
    title="Kumiai disclosure",
    description="Offering documents, sales reports, annual reports and who may read them.",
    routers=[],
    handlers=HANDLERS,
    consumes=["onboarding", "subscription", "ledger"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
