"""Ledger: Double-entry books, segregated fund accounts, deposits and payouts."""

from __future__ import annotations

from fastapi import FastAPI

from kumiai.service import ServiceSpec, build_service_app, service_root
from kumiai.timers import Timer
from ledger.books.routes import router as books_router
from ledger.closing.routes import router as closing_router
from ledger.deposits.routes import router as deposits_router
from ledger.distributions import service as distributions
from ledger.distributions.routes import router as distributions_router
from ledger.handlers import HANDLERS
from ledger.payouts.routes import router as payouts_router
from ledger.settings import Settings

SERVICE_ROOT = service_root(__file__)

SPEC = ServiceSpec(
    name="ledger",
    title="Kumiai ledger",
    description=(
        "Double-entry books, segregated fund accounts, deposits and payouts; distributions "
        "collected from businesses and paid out to investors."
    ),
    routers=[books_router, deposits_router, closing_router, payouts_router, distributions_router],
    handlers=HANDLERS,
    consumes=["onboarding", "subscription", "subsidy"],
    timers=[Timer("pay-distributions", distributions.pay_next_batches, interval_s=0.5)],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(SPEC, settings or Settings())
