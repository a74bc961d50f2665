"""The first thing a request meets: size limits, a clean URL, and a second try after a race.

- A body larger than the service's limit is answered 413 before anything
  parses it or checks the token (``Content-Length`` first, then the bytes as
  they arrive). Routes that take files declare a larger limit of their own.
- A path or query string with control characters (a NUL byte, say) is
  answered 400: they are never valid in an id, a code or a filter.
- A transaction that lost a deadlock or a serialization race rolled back
  completely (state, idempotency key and outbox together), so the request is
  run again as it came, a few times, before the caller sees a 503.
- Every response carries ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumiai.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, RETRY_MARKER, PayloadTooLarge
from kumiai.inputs import control_character

RACE_ATTEMPTS = 3


@dataclass(frozen=True)
class LargeBody:
    """A route that takes a larger body than the default (a file upload), streamed."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


class _TooLarge(Exception):
    pass


def _problem(status: int, slug: str, title: str, detail: str, path: str) -> bytes:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    body["instance"] = path[:200]
    return json.dumps(body).encode()


class InputGuardMiddleware:
    """Body limits, URL hygiene, race retries and ``nosniff`` for one service."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, large_bodies: Sequence[LargeBody] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_bodies = tuple(large_bodies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_nosniff(send)
        path = scope.get("path", "")
        query = unquote(scope.get("query_string", b"").decode("latin-1"))
        if control_character(path) is not None or control_character(query) is not None:
            await _reply(send, 400, "bad-url", "Bad URL", "control characters in the URL", path)
            return
        large = self._large_body(scope)
        limit = large.max_bytes if large else self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit, path)
            return
        if large is not None:
            await self.app(scope, _counting(receive, limit), send)
            return
        try:
            body = await _read_body(receive, limit)
        except _TooLarge:
            await _too_large(send, limit, path)
            return
        await self._run_with_retries(scope, body, receive, send)

    def _large_body(self, scope: Scope) -> LargeBody | None:
        for large in self.large_bodies:
            if scope.get("method") == large.method and large.path.fullmatch(scope["path"]):
                return large
        return None

    async def _run_with_retries(
        self, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> None:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            outcome = _Attempt(send, last=attempt == RACE_ATTEMPTS)
            await self.app(scope, _replaying(body, receive), outcome.forward)
            if not outcome.retry:
                return


class _Attempt:
    """One run of a request: forwards its response unless it lost a race and may retry."""

    def __init__(self, send: Send, *, last: bool) -> None:
        self._send = send
        self._last = last
        self.retry = False

    async def forward(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if any(k.decode().lower() == RETRY_MARKER for k, _ in headers):
                message["headers"] = [
                    (k, v) for k, v in headers if k.decode().lower() != RETRY_MARKER
                ]
                self.retry = not self._last
        if not self.retry:
            await self._send(message)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body read up front, then the real channel (a streaming response listens on it
    for the client's disconnect, and must wait there, not spin)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_nosniff(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", []),
                (b"x-content-type-options", b"nosniff"),
            ]
        await send(message)

    return wrapped


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # Raised inside the route that streams the body: answered 413.
                raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        return message

    return counted


async def _too_large(send: Send, limit: int, path: str) -> None:
    await _reply(
        send,
        413,
        "payload-too-large",
        "The request body is too large",
        f"the body is larger than {limit} bytes",
        path,
    )


async def _reply(send: Send, status: int, slug: str, title: str, detail: str, path: str) -> None:
    body = _problem(status, slug, title, detail, path)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
