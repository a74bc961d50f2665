"""Onboarding: MSMEs, due diligence, screening, fund terms and the partner registry."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer
from onboarding import funds
from onboarding.api import applications, audit, documents, msmes, partners
from onboarding.api import funds as funds_api
from onboarding.events import HANDLERS
from onboarding.settings import Settings
from onboarding.storage import LocalDirectoryStore

SERVICE_ROOT = service_root(__file__)


def service_spec(settings: Settings) -> ServiceSpec:
    """The service as ``settings`` configure it: its upload limit and its opening timer."""
    return ServiceSpec(
        name="onboarding",
        title="Kumiai onboarding",
        description=(
            "Businesses (MSMEs), their applications through due diligence and screening, "
            "documents, and fund terms; publishes FundOpened. Keeps the registry of partner "
            "banks and municipalities (PartnerRegistered, PartnerStatusChanged)."
        ),
        routers=[
            msmes.router,
            applications.router,
            documents.router,
            funds_api.router,
            partners.router,
            audit.router,
        ],
        handlers=HANDLERS,
        consumes=["subscription"],
        timers=[
            Timer(
                "open-funds",
                funds.fund_opener(
                    min_offering_days=settings.min_offering_days,
                    grace=timedelta(seconds=settings.late_opening_grace_s),
                ),
                interval_s=1.0,
            )
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
