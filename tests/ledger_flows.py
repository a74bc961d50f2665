"""Drive the ledger's business flows as the bus would, for tests and benchmarks.

Events go through the service's own consumer (``EventConsumer.handle``: inbox,
ordering and handler, in one transaction), numbered per producer and subject
as the producers number them; no broker is needed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from fastapi import FastAPI

from helpers import BANK, STAFF
from kumiai.contracts.onboarding import FundOpened
from kumiai.contracts.subscription import (
    CancellationReason,
    FundClosed,
    FundOutcome,
    SubscriptionCancelled,
    SubscriptionPlaced,
)
from kumiai.events import Envelope, EventPayload
from kumiai.references import new_reference
from kumiai.service import ServiceRuntime
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import service
from kumiai_tools.testing import running, sample_fund_opened
from ledger.books.rules import chart_of_accounts


class Flows:
    """The events the ledger consumes, handled by a running ledger app's consumer."""

    def __init__(self, app: FastAPI) -> None:
        self.runtime: ServiceRuntime = app.state.runtime
        self._sequence: dict[tuple[str, str], int] = defaultdict(int)

    def _next(self, source: str, subject: str, payload: EventPayload) -> Envelope:
        """The subject's next event from ``source``."""
        self._sequence[(source, subject)] += 1
        return Envelope(
            type=payload.event_type,
            schema_version=payload.schema_version,
            source=source,
            subject=subject,
            sequence=self._sequence[(source, subject)],
            data=payload.model_dump(mode="json"),
        )

    async def deliver(self, source: str, subject: str, payload: EventPayload) -> str:
        """Handle one event as if it came from ``source``; what the consumer did."""
        outcome = await self.runtime.consumer.handle(self._next(source, subject, payload))
        assert outcome == "handled", f"{payload.event_type}: {outcome}"
        return outcome

    async def deliver_many(
        self, source: str, subject: str, payloads: Sequence[EventPayload]
    ) -> list[str]:
        """Handle events of one subject as one fetched batch (one transaction)."""
        envelopes = [self._next(source, subject, payload) for payload in payloads]
        return await self.runtime.consumer.handle_many(envelopes)

    async def open_fund(self, **overrides: Any) -> FundOpened:
        """Onboarding announces a fund whose offering is open."""
        fund = sample_fund_opened(**overrides)
        await self.deliver("onboarding", str(fund.fund_id), fund)
        return fund

    def subscription(
        self,
        fund: FundOpened,
        units: int = 1,
        *,
        investor_id: UUID | None = None,
        reference: str | None = None,
    ) -> SubscriptionPlaced:
        """A subscription as the subscription service would place it (not yet delivered)."""
        now = datetime.now(UTC)
        return SubscriptionPlaced(
            subscription_id=uuid.uuid4(),
            fund_id=fund.fund_id,
            investor_id=investor_id or uuid.uuid4(),
            units=units,
            unit_price=fund.unit_price,
            handling_fee_per_unit=fund.handling_fee_per_unit,
            amount_due=units * (fund.unit_price + fund.handling_fee_per_unit),
            currency=fund.currency,
            payment_reference=reference or new_reference(),
            payment_deadline=now + timedelta(days=7),
            placed_at=now,
        )

    async def place(self, placed: SubscriptionPlaced) -> SubscriptionPlaced:
        await self.deliver("subscription", str(placed.fund_id), placed)
        return placed

    async def subscribe(
        self, fund: FundOpened, units: int = 1, **kwargs: Any
    ) -> SubscriptionPlaced:
        """The subscription service places a subscription; the ledger awaits its payment."""
        return await self.place(self.subscription(fund, units, **kwargs))

    async def cancel(
        self,
        placed: SubscriptionPlaced,
        reason: CancellationReason = CancellationReason.COOLING_OFF,
    ) -> None:
        await self.deliver(
            "subscription",
            str(placed.fund_id),
            SubscriptionCancelled(
                subscription_id=placed.subscription_id,
                fund_id=placed.fund_id,
                investor_id=placed.investor_id,
                units=placed.units,
                reason=reason,
                cancelled_at=datetime.now(UTC),
            ),
        )

    async def close(
        self, fund: FundOpened, outcome: FundOutcome, paid: list[SubscriptionPlaced]
    ) -> None:
        """The offering ends: ``paid`` are the confirmed subscriptions at closing."""
        units = sum(p.units for p in paid)
        await self.deliver(
            "subscription",
            str(fund.fund_id),
            FundClosed(
                fund_id=fund.fund_id,
                msme_id=fund.msme_id,
                outcome=outcome,
                units_confirmed=units,
                amount_raised=units * fund.unit_price,
                handling_fees_collected=units * fund.handling_fee_per_unit,
                currency=fund.currency,
                investor_count=len({p.investor_id for p in paid}),
                closed_at=datetime.now(UTC),
            ),
        )


def deposit_body(
    transaction: str, amount: int, reference: str, value_date: str | None = None
) -> dict[str, Any]:
    """What a partner bank reports for a credit it received (``POST /deposits``)."""
    return {
        "bank_transaction_id": transaction,
        "amount": amount,
        "currency": "JPY",
        "value_date": value_date or datetime.now(UTC).date().isoformat(),
        "payment_reference": reference,
    }


@dataclass
class Ledger:
    client: httpx.AsyncClient
    url: str
    flows: Flows

    async def paid_subscription(
        self, fund: FundOpened, units: int = 1, **kwargs: Any
    ) -> tuple[SubscriptionPlaced, dict[str, Any]]:
        placed = await self.flows.subscribe(fund, units, **kwargs)
        response = await self.client.post(
            "/deposits",
            json=deposit_body(str(uuid.uuid4()), placed.amount_due, placed.payment_reference),
            headers=BANK,
        )
        assert response.json()["status"] == "matched", response.text
        return placed, response.json()

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, settings: ServiceSettings) -> AsyncIterator[Ledger]:
        """A running ledger (no broker needed: events go through its consumer's handler)."""
        app = service("ledger").create_app(settings)
        async with running(app) as client:
            yield cls(client, settings.database_url, Flows(app))

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A direct connection to the ledger's database, to write past the code."""
        conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            yield conn
        finally:
            await conn.close()

    async def posted(self, code: str) -> int:
        response = await self.client.get(f"/accounts/{code}/balance", headers=STAFF)
        return int(response.json()["posted"]) if response.status_code == 200 else 0


async def raw_entry(
    conn: asyncpg.Connection,
    legs: Sequence[tuple[str, str, int]],
    *,
    purpose: str,
    origin: str = "flow",
    reference: tuple[str, str] | None = None,
    entry_type: str = "standard",
    resolves: uuid.UUID | None = None,
    status: str = "posted",
) -> uuid.UUID:
    """Write an entry past the code, as a bug or a hand-written statement would."""
    codes = [code for code, _, _ in legs]
    for code in codes:
        spec = chart_of_accounts(code)
        await conn.execute(
            "INSERT INTO accounts (id, code, kind, currency, owner_type, owner_id, segregated,"
            " debits_must_not_exceed_credits, credits_must_not_exceed_debits)"
            " VALUES ($1, $2, $3, 'JPY', $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING",
            uuid.uuid4(),
            code,
            spec.kind.value,
            spec.owner_type,
            spec.owner_id,
            spec.segregated,
            spec.conditions.debits_must_not_exceed_credits,
            spec.conditions.credits_must_not_exceed_debits,
        )
    ids = {
        r["code"]: r["id"]
        for r in await conn.fetch(
            "SELECT code, id FROM accounts WHERE code = ANY($1::text[])", codes
        )
    }
    entry_id = uuid.uuid4()
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO journal_entries (id, idempotency_key, request_hash, entry_type, purpose,"
            " effective_date, description, reference_type, reference_id, pending_entry_id,"
            " reverses_entry_id, created_by, origin, reason)"
            " VALUES ($1, $2, '', $3, $4, current_date, 'raw', $5, $6, $7, $8, 'test', $9, $10)",
            entry_id,
            f"raw/{entry_id}",
            entry_type,
            purpose,
            reference[0] if reference else None,
            reference[1] if reference else None,
            resolves if entry_type in ("post_pending", "void_pending") else None,
            resolves if entry_type == "reversal" else None,
            origin,
            "by hand" if origin == "manual" else None,
        )
        await conn.execute(
            "INSERT INTO postings (entry_id, account_id, currency, direction, amount, status)"
            " SELECT $1, a, 'JPY', d, n, $5 FROM unnest($2::uuid[], $3::text[], $4::bigint[])"
            " AS u(a, d, n)",
            entry_id,
            [ids[code] for code in codes],
            [direction for _, direction, _ in legs],
            [amount for _, _, amount in legs],
            status,
        )
    return entry_id
