"""The benchmark load generator speaks enough HTTP/1.1 to be trusted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from kumiai_tools.loadgen import Connection, encode_request, run_load

Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request on the connection with its own body, status 201."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
    except asyncio.IncompleteReadError:
        writer.close()


async def test_every_request_is_sent_once_and_its_response_read() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        requests = [
            encode_request("POST", "/x", body={"n": n}, headers={"Idempotency-Key": str(n)})
            for n in range(25)
        ]
        result = await run_load("127.0.0.1", port, requests, concurrency=4, keep_responses=True)
    assert result.statuses == {201: 25}
    assert sorted(r.json()["n"] for r in result.responses) == list(range(25))
    assert result.count == 25
    assert result.errors(201) == 0
    assert result.percentile_ms(0.99) >= result.percentile_ms(0.5) > 0


async def test_connections_are_spread_over_every_replica() -> None:
    accepted = {"a": 0, "b": 0}

    def counting(
        name: str,
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted[name] += 1
            await _echo(reader, writer)

        return serve

    first = await asyncio.start_server(counting("a"), "127.0.0.1", 0)
    second = await asyncio.start_server(counting("b"), "127.0.0.1", 0)
    ports = [s.sockets[0].getsockname()[1] for s in (first, second)]
    async with first, second:
        requests = [encode_request("POST", "/x", body={"n": n}) for n in range(12)]
        result = await run_load("127.0.0.1", ports, requests, concurrency=6)
    assert result.statuses == {201: 12}
    assert accepted == {"a": 3, "b": 3}


def test_a_request_carries_its_length_and_headers() -> None:
    raw = encode_request("POST", "/entries", body={"a": 1}, headers={"Authorization": "Bearer t"})
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /entries HTTP/1.1"
    assert b"Content-Length: %d" % len(body) in head
    assert b"Authorization: Bearer t" in head
    assert json.loads(body) == {"a": 1}


async def test_chunked_responses_are_refused_not_misread() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
        await writer.drain()
        # From Python 3.12 a server's close waits for its connections: end this one.
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(chunked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        connection = await Connection.open("127.0.0.1", port)
        with pytest.raises(ValueError, match="chunked"):
            await connection.send(encode_request("GET", "/"))
        await connection.close()
