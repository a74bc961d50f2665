"""Subsidy: municipalities' grant programmes, applications and their scores, awards within
budget, and what the subsidies leveraged."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from subsidy.applications import routes as applications
from subsidy.awards import routes as awards
from subsidy.handlers import HANDLERS
from subsidy.programmes import routes as programmes
from subsidy.reports import routes as reports
from subsidy.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="subsidy",
    title="Kumiai subsidy",
    description=(
        "Municipalities' grant programmes for a fiscal year (April to March): businesses "
        "apply with their onboarding application, reviewers score them on the programme's "
        "criteria, awards follow the score within the budget (SubsidyGranted) and may be "
        "revoked or lapse with their fund (SubsidyRevoked); the municipality's payment is "
        "heard from the ledger (SubsidyPaid). Reports: a programme's standing, and what the "
        "subsidies leveraged (JSON, CSV for Excel, an SVG chart)."
    ),
    routers=[programmes.router, applications.router, awards.router, reports.router],
    handlers=HANDLERS,
    consumes=["onboarding", "subscription", "ledger"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
