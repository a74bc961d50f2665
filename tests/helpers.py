"""Helpers shared by the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from kumiai.auth import Role
from kumiai.settings import ServiceSettings
from kumiai.testing import bearer

SettingsFactory = Callable[..., ServiceSettings]

STAFF = bearer(Role.STAFF, "platform")


def fund_terms(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(hours=1)
    terms: dict[str, Any] = {
        "msme_id": str(uuid.uuid4()),
        "name": "Craft brewery: new fermentation tanks",
        "currency": "JPY",
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "units_offered": 1_000,
        "formation_threshold_units": 300,
        "max_units_per_investor": 50,
        "offering_start": start.isoformat(),
        "offering_end": (start + timedelta(days=30)).isoformat(),
    }
    terms.update(overrides)
    return terms


async def publish(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/funds", json=fund_terms(**overrides), headers=STAFF)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def offering(client: httpx.AsyncClient, fund_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/offerings/{fund_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()
