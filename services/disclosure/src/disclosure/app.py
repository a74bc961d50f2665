"""Disclosure: offering documents, fund news, sales and annual reports, distribution notices,
and who reads them."""

from __future__ import annotations

from fastapi import FastAPI

from disclosure.annual import routes as annual
from disclosure.audit import routes as audit
from disclosure.deadlines import routes as deadlines
from disclosure.deadlines import service as deadline_service
from disclosure.documents import routes as documents
from disclosure.handlers import handlers
from disclosure.sales import routes as sales
from disclosure.settings import Settings
from kumiai.files import LocalDirectoryStore
from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer

SERVICE_ROOT = service_root(__file__)


def service_spec(settings: Settings) -> ServiceSpec:
    """The service as ``settings`` configure it: its due months and its upload limit."""
    return ServiceSpec(
        name="disclosure",
        title="Kumiai disclosure",
        description=(
            "What investors and the public read about a fund: the offering document made "
            "from its terms, fund news, sales reports (SalesReported), annual reports, "
            "distribution notices once a distribution is paid; reporting deadlines "
            "(DisclosureOverdue); who may read what, and every read."
        ),
        routers=[
            documents.router,
            documents.public,
            sales.router,
            annual.router,
            deadlines.router,
            audit.router,
        ],
        handlers=handlers(settings.due),
        consumes=["onboarding", "subscription", "ledger"],
        timers=[Timer("overdue-reports", deadline_service.overdue_announcer(), interval_s=1.0)],
        large_bodies=[
            documents.attachment_body(settings.attachment_max_bytes),
            sales.upload_body(settings.attachment_max_bytes),
        ],
    )


SPEC = service_spec(Settings.model_construct())
"""The service with its default settings (for tools that need no environment)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = build_service_app(service_spec(settings), settings)
    app.state.file_store = LocalDirectoryStore(settings.documents_dir)
    return app
