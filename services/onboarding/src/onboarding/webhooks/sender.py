"""Sending one webhook message over HTTP: the Standard Webhooks headers, a bounded wait, and
what came back (never raises: every failure is an answer to log)."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from onboarding.webhooks import rules

USER_AGENT = "Kumiai-Webhooks/1"
MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return rules.succeeded(self.status_code)


async def _resolves_privately(url: str) -> bool:
    """Whether the URL's host resolves to a private or loopback address (production)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return any(rules.is_private_address(str(info[4][0])) for info in infos)


async def send(
    client: httpx.AsyncClient,
    *,
    url: str,
    message_id: str,
    body: str,
    secrets: list[str],
    at: datetime,
    production: bool,
) -> Outcome:
    """POST the message to ``url``, signed with every secret in force."""
    started = time.monotonic()

    def outcome(status_code: int | None, error: str | None) -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(status_code, error[:MAX_ERROR] if error else None, elapsed)

    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": rules.signature(secrets, message_id=message_id, at=at, body=body),
    }
    try:
        if production and await _resolves_privately(url):
            return outcome(None, "the endpoint's host resolves to a private address")
        response = await client.post(url, content=body.encode("utf-8"), headers=headers)
    except httpx.TimeoutException:
        return outcome(None, "timed out")
    except (httpx.HTTPError, OSError) as exc:
        return outcome(None, f"{type(exc).__name__}: {exc}")
    error = None if rules.succeeded(response.status_code) else f"answered {response.status_code}"
    return outcome(response.status_code, error)
