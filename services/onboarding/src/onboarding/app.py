"""Onboarding: MSMEs, due diligence, screening, fund terms and the partner registry."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from kumiai.files import LocalDirectoryStore
from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.settings import Environment
from kumiai.timers import Timer
from onboarding.applications import routes as applications
from onboarding.audit import routes as audit
from onboarding.documents import routes as documents
from onboarding.funds import routes as funds
from onboarding.funds import service as fund_service
from onboarding.handlers import HANDLERS
from onboarding.msmes import routes as msmes
from onboarding.partners import routes as partners
from onboarding.referrals import routes as referrals
from onboarding.settings import Settings
from onboarding.webhooks import routes as webhooks
from onboarding.webhooks import service as webhook_service

SERVICE_ROOT = service_root(__file__)


def service_spec(settings: Settings) -> ServiceSpec:
    """The service as ``settings`` configure it: its upload limit and its opening timer."""
    return ServiceSpec(
        name="onboarding",
        title="Kumiai onboarding",
        description=(
            "Businesses (MSMEs), their applications through due diligence and screening, "
            "documents, and fund terms; publishes FundOpened and records each fund's outcome "
            "(FundClosed). Keeps the registry of partner banks and municipalities "
            "(PartnerRegistered, PartnerStatusChanged), shows each bank the businesses it "
            "referred with their funds' capital-like debt eligibility, and sends partners the "
            "events they may see as signed webhooks (Standard Webhooks)."
        ),
        routers=[
            msmes.router,
            applications.router,
            documents.router,
            funds.router,
            partners.router,
            referrals.router,
            webhooks.router,
            webhooks.staff_router,
            audit.router,
        ],
        handlers=HANDLERS,
        # Every service: partners' webhooks tell of events from all of them.
        consumes=["onboarding", "subscription", "ledger", "subsidy", "disclosure"],
        timers=[
            Timer(
                "open-funds",
                fund_service.fund_opener(
                    min_offering_days=settings.min_offering_days,
                    grace=timedelta(seconds=settings.late_opening_grace_s),
                ),
                interval_s=1.0,
            ),
            Timer(
                "deliver-webhooks",
                webhook_service.deliverer(
                    cipher=settings.webhook_cipher(),
                    policy=settings.retry_policy(),
                    timeout_s=settings.webhook_timeout_s,
                    batch=settings.webhook_batch,
                    production=settings.environment is Environment.PRODUCTION,
                ),
                interval_s=settings.webhook_interval_s,
            ),
        ],
        large_bodies=[documents.upload_body(settings.document_max_bytes)],
    )


SPEC = service_spec(Settings.model_construct())
"""The service with its default settings (for tools that need no environment)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = build_service_app(service_spec(settings), settings)
    app.state.document_store = LocalDirectoryStore(settings.documents_dir)
    return app
