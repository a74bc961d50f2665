"""Onboarding: MSMEs, due diligence, screening and fund terms."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer
from onboarding import funds
from onboarding.api import applications, audit, documents, msmes
from onboarding.api import funds as funds_api
from onboarding.events import HANDLERS
from onboarding.settings import Settings
from onboarding.storage import LocalDirectoryStore

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="onboarding",
    title="Kumiai onboarding",
    description=(
        "Businesses (MSMEs), their applications through due diligence and screening, "
        "documents, and fund terms; publishes FundOpened."
    ),
    routers=[msmes.router, applications.router, documents.router, funds_api.router, audit.router],
    handlers=HANDLERS,
    consumes=["subscription"],
    timers=[Timer("open-funds", funds.open_due_funds, interval_s=1.0)],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = build_service_app(SPEC, settings)
    app.state.document_store = LocalDirectoryStore(settings.documents_dir)
    return app
