"""Subscription: offerings, investors, subscriptions and holdings."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.cipher import FieldCipher
from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer
from subscription.audit import routes as audit
from subscription.distributions import routes as distributions
from subscription.handlers import handlers
from subscription.investors import routes as investors
from subscription.offerings import routes as offerings
from subscription.offerings import service as offerings_service
from subscription.settings import Settings
from subscription.subscriptions import routes as subscriptions
from subscription.subscriptions import service as subscriptions_service
from subscription.transfers import routes as transfers

SERVICE_ROOT = service_root(__file__)


def service_spec(settings: Settings) -> ServiceSpec:
    """The service as ``settings`` configure it (the days a business has to pay a
    distribution in)."""
    return ServiceSpec(
        name="subscription",
        title="Kumiai subscription",
        description=(
            "Offerings, investors, subscriptions and holdings; distributions declared from "
            "approved sales (DividendDeclared, DistributionAllocated) and the simulation; the "
            "bulk transfer file the paying bank sends a distribution's payouts with."
        ),
        routers=[
            offerings.router,
            investors.router,
            subscriptions.router,
            distributions.router,
            transfers.router,
            audit.router,
        ],
        handlers=handlers(payment_days=settings.distribution_payment_days),
        consumes=["onboarding", "ledger", "disclosure"],
        timers=[
            Timer(
                "expire-unpaid", lambda uow, now: subscriptions_service.expire_unpaid(uow, now=now)
            ),
            Timer("close-offerings", lambda uow, now: offerings_service.close_due(uow, now=now)),
        ],
    )


SPEC = service_spec(Settings.model_construct())
"""The service with its default settings (for tools that need no environment)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = build_service_app(service_spec(settings), settings)
    app.state.cipher = FieldCipher.from_setting(settings.data_keys.get_secret_value())
    return app
