"""Every request a partner bank or municipality makes, recorded in the service's
``partner_calls`` table (append-only: no line is ever changed, and only the retention
below deletes lines): the partner's id, its role and the token's subject, the method,
the route's template and the path asked for, the status answered, how long it took,
the request id, and when.

One line per request with a validly signed partner token, whatever it asked and
whatever it was answered (403 for a suspended partner, and 404, included), written
after the answer in a transaction of its own: a read has no transaction to join, and a
refused write has none that committed. Requests refused for their rate (429) are not
written: they are what a flood looks like, and writing each would put back on the
database the load the limit keeps off it; they are in the request log and the HTTP
metrics. If the database is unavailable when the line is written, the answer has
already gone and the failure is logged.

Staff read the lines a page at a time (``list_calls``, served on every service as
``GET /partner-calls`` by ``kumiai.partner_call_routes``). Lines are kept for the
retention period (``ServiceSettings.partner_calls_retention_days``, at least 30 days)
and then deleted by the service's ``retention_timer``, a batch at a time; nothing else
deletes or changes a line.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Row, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumiai.contracts.onboarding import PartnerKind
from kumiai.db import UnitOfWork
from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.platform_tables import partner_calls
from kumiai.principal import PARTNER_ROLES, Principal
from kumiai.problems import UnprocessableContent
from kumiai.settings import MIN_PARTNER_CALLS_RETENTION_DAYS
from kumiai.timers import Timer

log = structlog.get_logger(__name__)

PRINCIPAL_STATE = "kumiai_principal"
"""Where ``kumiai.auth.current_principal`` leaves the verified caller in the request state."""

MAX_PATH = 500


def remember_principal(scope: Scope, principal: Principal) -> None:
    """Note the request's verified caller for the record written after the answer."""
    scope.setdefault("state", {})[PRINCIPAL_STATE] = principal


def call_line(
    scope: Scope, principal: Principal, *, status: int, duration_s: float
) -> dict[str, Any]:
    """The values of one line of ``partner_calls`` for a partner's request."""
    route = getattr(scope.get("route"), "path", None)
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return {
        "partner_id": principal.tenant,
        "role": principal.role.value,
        "subject": principal.subject,
        "method": str(scope.get("method", "")),
        "route": route if isinstance(route, str) else "unmatched",
        "path": str(scope.get("path", ""))[:MAX_PATH],
        "status": status,
        "duration_ms": round(duration_s * 1000),
        "request_id": request_id if isinstance(request_id, str) else None,
    }


class PartnerCallsMiddleware:
    """Writes one ``partner_calls`` line for each request answered to a partner's token."""

    def __init__(self, app: ASGIApp, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The state dict must exist before the app runs, so that what the auth dependency
        # notes in it is seen here.
        state = scope.setdefault("state", {})
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            principal = state.get(PRINCIPAL_STATE)
            if (
                isinstance(principal, Principal)
                and principal.role in PARTNER_ROLES
                and status != 429
            ):
                line = call_line(
                    scope, principal, status=status, duration_s=time.perf_counter() - started
                )
                await self._write(line)

    async def _write(self, line: dict[str, Any]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(partner_calls.insert().values(**line))
        except Exception:
            log.exception("partner call not recorded", **line)


# -- reading ------------------------------------------------------------------------------


class PartnerCallOut(BaseModel):
    """One request a partner bank or municipality made to this service, and its answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1042,
                    "at": "2026-12-01T10:15:00.123456+09:00",
                    "partner_id": "hokkaido-bank",
                    "role": "bank",
                    "subject": "hokkaido-bank-api",
                    "method": "GET",
                    "route": "/deposits/{deposit_id}",
                    "path": "/deposits/331b0af2-60f5-56d3-87c3-23a437e69d97",
                    "status": 200,
                    "duration_ms": 12,
                    "request_id": "0b9d3c1e-6f0a-4a55-9a2b-1f1d2c3b4a59",
                }
            ]
        }
    )

    id: int = Field(description="Increases with each line written")
    at: datetime = Field(description="When the line was written, just after the answer")
    partner_id: str = Field(description="The token's tenant: the bank's or municipality's id")
    role: PartnerKind
    subject: str = Field(description="The token's subject: the partner's client or user")
    method: str
    route: str = Field(description="The route's template; `unmatched` for an unknown path")
    path: str = Field(description="The path asked for (its first 500 characters)")
    status: int = Field(description="The HTTP status answered", ge=100, le=599)
    duration_ms: int = Field(ge=0)
    request_id: str | None = Field(description="The `X-Request-ID` of the request and its log")


class EmptyPeriod(UnprocessableContent):
    problem = "empty-period"
    title = "The period is empty: `from` must be before `to`"


def check_period(since: datetime | None, until: datetime | None) -> None:
    """A period asked for must hold some time: ``from`` before ``to`` when both are given."""
    if since is not None and until is not None and since >= until:
        raise EmptyPeriod(
            f"from {since.isoformat()} is not before to {until.isoformat()}",
            invalid_params=[{"name": "query.to", "reason": "must be after from"}],
        )


async def list_calls(
    session: AsyncSession,
    *,
    partner_id: str | None,
    since: datetime | None,
    until: datetime | None,
    status: int | None,
    cursor: str | None,
    limit: int,
) -> Page[PartnerCallOut]:
    """One page of partners' calls in the order they were written, optionally one partner's,
    answered ``status``, or answered from ``since`` (included) to ``until`` (excluded)."""
    check_period(since, until)
    query = select(partner_calls)
    if partner_id is not None:
        query = query.where(partner_calls.c.partner_id == partner_id)
    if since is not None:
        query = query.where(partner_calls.c.at >= since)
    if until is not None:
        query = query.where(partner_calls.c.at < until)
    if status is not None:
        query = query.where(partner_calls.c.status == status)
    if cursor is not None:
        (after,) = decode_cursor(cursor, int)
        query = query.where(partner_calls.c.id > after)
    rows: Sequence[Row[Any]] = (
        await session.execute(query.order_by(partner_calls.c.id).limit(limit + 1))
    ).all()
    return page_of(
        rows,
        limit=limit,
        item=lambda row: PartnerCallOut.model_validate(dict(row._mapping)),
        key=lambda row: (row.id,),
    )


# -- retention ----------------------------------------------------------------------------

PRUNE_BATCH = 5_000
"""Lines deleted in one pass (one transaction): short locks, a bounded WAL burst."""

PRUNE_INTERVAL_S = 300.0
"""Pause after a pass that found nothing old enough; a full pass runs again at once."""


async def prune_calls(
    session: AsyncSession, *, now: datetime, retention: timedelta, batch: int = PRUNE_BATCH
) -> int:
    """Delete up to ``batch`` lines older than ``retention``, oldest first; how many.

    The age is counted from the earlier of ``now`` and the database's clock, so an
    application clock ahead of the database's never deletes a line the database
    still counts as within the retention. Lines another instance is deleting are
    skipped (``SKIP LOCKED``), not waited for.
    """
    cutoff = func.least(literal(now, DateTime(timezone=True)), func.now()) - retention
    doomed = (
        select(partner_calls.c.id)
        .where(partner_calls.c.at < cutoff)
        .order_by(partner_calls.c.at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(delete(partner_calls).where(partner_calls.c.id.in_(doomed)))
    return int(getattr(result, "rowcount", 0) or 0)


def retention_timer(retention_days: int) -> Timer:
    """The timer that keeps a service's ``partner_calls`` to ``retention_days`` days."""
    if retention_days < MIN_PARTNER_CALLS_RETENTION_DAYS:
        raise ValueError(f"partner calls are kept {MIN_PARTNER_CALLS_RETENTION_DAYS} days or more")
    retention = timedelta(days=retention_days)

    async def prune(uow: UnitOfWork, now: datetime) -> int:
        return await prune_calls(uow.session, now=now, retention=retention)

    return Timer("partner-calls-retention", prune, interval_s=PRUNE_INTERVAL_S)
