"""Drive the subscription service over HTTP and the real broker, for integration tests:
open a fund as onboarding would, subscribe, pay as the ledger would, read its outbox."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from helpers import STAFF, call, fetch, offering, personal_details, publish_events
from kumiai.auth import Role
from kumiai.contracts.ledger import PaymentReceived
from kumiai.contracts.onboarding import FundOpened
from kumiai.settings import ServiceSettings
from kumiai.topics import events_topic
from kumiai_tools.testing import bearer, eventually, sample_fund_opened


@dataclass
class Market:
    client: httpx.AsyncClient
    settings: ServiceSettings
    app: FastAPI | None = None
    """The app behind ``client``, for tests that look at its process's state."""

    def orders_in_process(self) -> tuple[int, int]:
        """The first orders the process is placing (``subscriptions.placing``), in groups
        or queued behind them, and the groups being placed, each one database session."""
        writer = None if self.app is None else getattr(self.app.state, "order_writer", None)
        if writer is None:
            return 0, 0
        return sum(writer.writing) + writer.queued, len(writer.writing)

    async def open_fund(self, **overrides: Any) -> FundOpened:
        fund = sample_fund_opened(**overrides)
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("onboarding", self.settings.topic_namespace),
            "onboarding",
            str(fund.fund_id),
            [fund],
        )
        await eventually(lambda: offering(self.client, str(fund.fund_id)), what="the offering")
        return fund

    async def subscribe(
        self, fund: FundOpened, investor: str, units: int, key: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/offerings/{fund.fund_id}/subscriptions",
            json={"units": units, "terms_digest": fund.terms_digest},
            headers={
                **bearer(Role.INVESTOR, investor),
                "Idempotency-Key": key or str(uuid.uuid4()),
            },
        )

    async def pay(self, fund: FundOpened, subscription: dict[str, Any], seq: int) -> None:
        await publish_events(
            self.settings.kafka_bootstrap_servers,
            events_topic("ledger", self.settings.topic_namespace),
            "ledger",
            str(fund.fund_id),
            [
                PaymentReceived(
                    deposit_id=uuid.uuid4(),
                    subscription_id=uuid.UUID(subscription["id"]),
                    fund_id=fund.fund_id,
                    investor_id=uuid.UUID(subscription["investor_id"]),
                    amount=subscription["amount_due"],
                    value_date=datetime.now(UTC).date(),
                    bank_id="hokkaido-bank",
                    received_at=datetime.now(UTC),
                )
            ],
            first=seq,
        )

    async def events(self, fund: FundOpened) -> list[tuple[str, dict[str, Any]]]:
        rows = await fetch(
            self.settings.database_url,
            "SELECT envelope->>'type' AS type, envelope->'data' AS data FROM outbox_events "
            "WHERE subject = $1 ORDER BY seq",
            str(fund.fund_id),
        )
        return [(r["type"], json.loads(r["data"])) for r in rows]


async def named_investor(client: httpx.AsyncClient, full_name: str, address: str) -> str:
    """Register (with this name and address), verify by staff and let acknowledge the risk
    notice an investor; its id."""
    investor_id = str(uuid.uuid4())
    me = bearer(Role.INVESTOR, investor_id)
    personal = {**personal_details(full_name), "address": address}
    await call(client, "POST", "/investors", 201, json={"personal": personal}, headers=me)
    await call(
        client,
        "POST",
        f"/investors/{investor_id}/verification",
        json={"status": "verified", "note": "identity documents checked"},
        headers=STAFF,
    )
    await call(
        client,
        "POST",
        f"/investors/{investor_id}/risk-acknowledgements",
        json={"version": "2026-11"},
        headers=me,
    )
    return investor_id
