"""Helpers for the services' tests: run an app in-process, poll with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import jwt
from fastapi import FastAPI

from kumiai.auth import Role, mint_token
from kumiai.contracts.onboarding import FundFees, FundOpened, RevenueShare, Settlement
from kumiai.settings import DEVELOPMENT_JWT_SECRET

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 30.0,
    interval_s: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"{what} not reached within {timeout_s}s (last: {last!r})")


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (its relay and consumer too) and yield a client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def sample_fund_opened(**overrides: Any) -> FundOpened:
    """A valid ``FundOpened`` (v2) whose offering is open now, for tests and benchmarks."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    fund_id = uuid.uuid4()
    values: dict[str, Any] = {
        "fund_id": fund_id,
        "msme_id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "name": f"Fund {fund_id.hex[:8]}",
        "municipality_code": "012025",
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "donation_per_unit": 0,
        "units_offered": 1_000,
        "formation_threshold_units": 300,
        "max_units_per_investor": 50,
        "offering_start": start,
        "offering_end": start + timedelta(days=30),
        "term_months": 72,
        "settlement": Settlement(fiscal_year_end_month=3, periods_per_year=1),
        "revenue_share": RevenueShare(rate_before_recoup_ppm=30_000, rate_after_recoup_ppm=10_000),
        "fees": FundFees(
            arrangement_fee=0,
            operation_fee_rate_ppm=20_000,
            audit_fee_first_year=150_000,
            audit_fee_later_years=100_000,
            success_fee_rate_ppm=20_000,
        ),
        "subordinated": True,
        "terms_digest": "0" * 64,
    }
    values.update(overrides)
    # A smaller offering keeps its threshold and maximum per investor within it.
    for field in ("formation_threshold_units", "max_units_per_investor"):
        if field not in overrides:
            values[field] = min(values[field], values["units_offered"])
    return FundOpened(**values)


def bearer(role: Role, tenant: str, secret: str = DEVELOPMENT_JWT_SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret=secret, role=role, tenant=tenant)}"}


def staff_token(**claims: Any) -> str:
    """A development staff token valid for 10 minutes from now, with ``claims`` changed
    (a claim given as ``None`` is left out): for tests of doubtful tokens."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "staff:platform",
        "role": "staff",
        "tenant": "platform",
        "iss": "kumiai",
        "aud": "kumiai",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    present = {k: v for k, v in base.items() if v is not None}
    return jwt.encode(present, DEVELOPMENT_JWT_SECRET)
