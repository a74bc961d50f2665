"""Subscription: investors, orders, holdings and distributions."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from subscription.api.offerings import router as offerings_router
from subscription.events import HANDLERS
from subscription.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="subscription",
    title="Kumiai subscription",
    description="Offerings, investors, subscriptions, holdings and distributions.",
    routers=[offerings_router],
    handlers=HANDLERS,
    consumes=["onboarding", "ledger"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
