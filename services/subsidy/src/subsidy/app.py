"""Subsidy: Municipal grant programmes, budgets, scoring, awards and leverage."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from subsidy.handlers import HANDLERS
from subsidy.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="subsidy",
    title="Kumiai subsidy",
    description="Municipal grant programmes, budgets, scoring, awards and leverage.",
    routers=[],
    handlers=HANDLERS,
    consumes=["onboarding"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
