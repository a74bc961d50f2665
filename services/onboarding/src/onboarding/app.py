"""Onboarding: MSMEs, due diligence, screening and fund terms."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from onboarding.api.funds import router as funds_router
from onboarding.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="onboarding",
    title="Kumiai onboarding",
    description="MSMEs, applications, due diligence and fund terms; publishes FundOpened.",
    routers=[funds_router],
    consumes=["subscription"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
