"""Every request a partner bank or municipality makes, recorded in the service's
``partner_calls`` table (append-only in the database): the partner's id, its role and
the token's subject, the method, the route's template and the path asked for, the
status answered, how long it took, the request id, and when.

One line per request with a validly signed partner token, whatever it asked and
whatever it was answered (403 for a suspended partner, and 404, included), written
after the answer in a transaction of its own: a read has no transaction to join, and a
refused write has none that committed. Requests refused for their rate (429) are not
written: they are what a flood looks like, and writing each would put back on the
database the load the limit keeps off it; they are in the request log and the HTTP
metrics. If the database is unavailable when the line is written, the answer has
already gone and the failure is logged.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumiai.platform_tables import partner_calls
from kumiai.principal import PARTNER_ROLES, Principal

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
