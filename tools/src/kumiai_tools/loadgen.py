"""A lean HTTP/1.1 load generator for ``make bench``.

The benchmarks run the load generator on the same cores as the server, so the
generator must cost little: requests are encoded to bytes before the clock
starts, each worker keeps one keep-alive connection, and a response is read
by its ``Content-Length`` without further parsing. It is no general HTTP
client (no chunked bodies, no redirects, no TLS).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def encode_request(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> bytes:
    """One request as it goes on the wire."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LoadResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_by_status: dict[int, list[float]] = field(default_factory=dict)
    responses: list[Response] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def errors(self, *ok: int) -> int:
        return sum(n for status, n in self.statuses.items() if status not in ok)


class Connection:
    """One keep-alive connection that sends pre-encoded requests one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> Response:
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise ValueError("chunked responses are not supported")
        body = await self._reader.readexactly(length) if length else b""
        return Response(status, body)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


async def run_load(
    host: str,
    port: int | Sequence[int],
    requests: Sequence[bytes],
    *,
    concurrency: int,
    keep_responses: bool = False,
) -> LoadResult:
    """Send every request once from ``concurrency`` workers, each on its own connection;
    given several ports (replicas of a server), the connections go to each in turn."""
    queue = list(reversed(requests))
    ports = [port] if isinstance(port, int) else list(port)
    connections = [await Connection.open(host, ports[i % len(ports)]) for i in range(concurrency)]
    result = LoadResult(seconds=0.0)

    async def worker(connection: Connection) -> None:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            response = await connection.send(request)
            took = (time.perf_counter() - started) * 1000
            result.latencies_ms.append(took)
            result.latencies_by_status.setdefault(response.status, []).append(took)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            if keep_responses:
                result.responses.append(response)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        result.seconds = time.perf_counter() - started
        for connection in connections:
            await connection.close()
    return result
