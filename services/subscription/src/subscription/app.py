"""Subscription: offerings, investors, subscriptions and holdings."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer
from subscription import closing, subscriptions
from subscription.api import investors
from subscription.api import offerings as offerings_api
from subscription.api import subscriptions as subscriptions_api
from subscription.crypto import FieldCipher
from subscription.events import HANDLERS
from subscription.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="subscription",
    title="Kumiai subscription",
    description="Offerings, investors, subscriptions and holdings.",
    routers=[offerings_api.router, investors.router, subscriptions_api.router],
    handlers=HANDLERS,
    consumes=["onboarding", "ledger"],
    timers=[
        Timer("expire-unpaid", subscriptions.expire_unpaid),
        Timer("close-offerings", closing.close_due),
    ],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = build_service_app(SPEC, settings)
    app.state.cipher = FieldCipher.from_setting(settings.data_keys.get_secret_value())
    return app
