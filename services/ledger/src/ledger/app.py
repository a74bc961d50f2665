"""Ledger: Double-entry books, segregated fund accounts, deposits and payouts."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from ledger.api.books import router as books_router
from ledger.api.deposits import router as deposits_router
from ledger.api.payouts import router as payouts_router
from ledger.events import HANDLERS
from ledger.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="ledger",
    title="Kumiai ledger",
    description="Double-entry books, segregated fund accounts, deposits and payouts.",
    routers=[books_router, deposits_router, payouts_router],
    handlers=HANDLERS,
    consumes=["onboarding", "subscription", "subsidy"],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
