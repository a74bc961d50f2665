"""The request guard and the error answers every service shares."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Request
from pydantic import Field
from sqlalchemy.exc import DBAPIError

from kumiai.errors import PROBLEM_BASE, Unauthorized, install_problem_handlers
from kumiai.guard import RACE_ATTEMPTS, InputGuardMiddleware, LargeBody
from kumiai.inputs import Amount, RequestBody


class Order(RequestBody):
    amount: Amount
    note: str = Field(default="", max_length=100)


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _db_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, _PgError(sqlstate))


async def _token(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer ok":
        raise Unauthorized("a bearer token is required")
    return authorization


def _app() -> tuple[FastAPI, dict[str, int]]:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(
        InputGuardMiddleware,
        max_body_bytes=1_000,
        large_bodies=[LargeBody("PUT", re.compile(r"/files/[a-z]+"), 5_000)],
    )
    calls = {"race": 0, "always": 0}

    @app.post("/orders")
    async def place(order: Order, _: Annotated[str, Depends(_token)]) -> Order:
        return order

    @app.get("/orders")
    async def list_orders() -> list[Order]:
        return []

    @app.post("/race")
    async def race(order: Order) -> dict[str, int]:
        calls["race"] += 1
        if calls["race"] < RACE_ATTEMPTS:
            raise _db_error("40P01")
        return {"attempt": calls["race"], "amount": order.amount}

    @app.post("/always-race")
    async def always() -> None:
        calls["always"] += 1
        raise _db_error("40001")

    @app.get("/down")
    async def down() -> None:
        raise _db_error("57P03")

    @app.get("/bad-value")
    async def bad_value() -> None:
        raise _db_error("22021")

    @app.put("/files/{name}")
    async def upload(name: str, request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    return app, calls


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_a_body_over_the_limit_is_refused_before_the_token_is_checked() -> None:
    app, _ = _app()
    async with _client(app) as client:
        huge = await client.post("/orders", content=b'{"amount": 1, "note": "' + b"x" * 5_000)
        fits = await client.post("/orders", json={"amount": 1}, headers={"authorization": "x"})
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    assert huge.json()["type"] == PROBLEM_BASE + "payload-too-large"
    assert fits.status_code == 401, "within the limit, the token is what fails"
    assert fits.headers["www-authenticate"] == "Bearer"


async def test_a_declared_upload_route_streams_a_larger_body_up_to_its_own_limit() -> None:
    app, _ = _app()
    async with _client(app) as client:
        ok = await client.put("/files/report", content=b"x" * 4_000)
        too_big = await client.put("/files/report", content=b"x" * 6_000)
    assert ok.json() == {"size": 4_000}
    assert too_big.status_code == 413


async def test_malformed_json_is_a_readable_400() -> None:
    app, _ = _app()
    async with _client(app) as client:
        broken = await client.post(
            "/orders",
            content=b'{"amount": 1,',
            headers={"content-type": "application/json", "authorization": "Bearer ok"},
        )
    assert broken.status_code == 400
    body = broken.json()
    assert body["type"] == PROBLEM_BASE + "malformed-json"
    assert "at character" in body["detail"]
    assert "body.1" not in broken.text


async def test_validation_errors_do_not_echo_kilobytes_back() -> None:
    app, _ = _app()
    key = "k" * 600
    async with _client(app) as client:
        refused = await client.post(
            "/orders",
            content=json.dumps({"amount": 1, key: 1}).encode(),
            headers={"content-type": "application/json", "authorization": "Bearer ok"},
        )
    assert refused.status_code == 422
    assert len(refused.content) < 1_000
    assert refused.json()["invalid_params"][0]["name"].endswith("\u2026")


async def test_control_characters_in_the_url_are_refused() -> None:
    app, _ = _app()
    async with _client(app) as client:
        in_query = await client.get("/orders", params={"status": "a\x00b"})
        in_path = await client.get("/orders%00")
    assert in_query.status_code == 400
    assert in_query.json()["type"] == PROBLEM_BASE + "bad-url"
    assert in_path.status_code == 400


async def test_a_wrong_method_gets_405_listing_every_method_of_the_path() -> None:
    app, _ = _app()
    async with _client(app) as client:
        wrong = await client.delete("/orders")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, POST"
    assert wrong.json()["allow"] == ["GET", "HEAD", "POST"]


async def test_a_transaction_that_lost_a_race_is_run_again() -> None:
    app, calls = _app()
    async with _client(app) as client:
        won = await client.post("/race", json={"amount": 5})
        lost = await client.post("/always-race", json={})
    assert won.status_code == 200
    assert won.json() == {"attempt": RACE_ATTEMPTS, "amount": 5}
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert "x-kumiai-retry-transaction" not in lost.headers
    assert calls["always"] == RACE_ATTEMPTS


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [("/down", 503, "unavailable"), ("/bad-value", 422, "invalid-value")],
)
async def test_database_failures_are_answered_by_kind(path: str, status: int, slug: str) -> None:
    app, _ = _app()
    async with _client(app) as client:
        answer = await client.get(path)
    assert answer.status_code == status
    assert answer.json()["type"] == PROBLEM_BASE + slug
    assert "SELECT" not in answer.text


async def test_every_response_says_nosniff() -> None:
    app, _ = _app()
    async with _client(app) as client:
        listed = await client.get("/orders")
        missing = await client.get("/nowhere")
    assert listed.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["x-content-type-options"] == "nosniff"


async def test_a_streaming_response_is_not_held_up_by_the_replayed_body() -> None:
    from fastapi.responses import StreamingResponse

    app = FastAPI()
    app.add_middleware(InputGuardMiddleware, max_body_bytes=1_000)

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"chunk {n}\n".encode()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    async with _client(app) as client:
        answer = await asyncio.wait_for(client.get("/stream"), 10)
    assert answer.text == "chunk 0\nchunk 1\nchunk 2\n"


async def test_405_lists_the_methods_of_routes_included_from_routers() -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/partners")
    async def listed() -> list[str]:
        return []

    @router.post("/partners")
    async def added() -> None:
        return None

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    async with _client(app) as client:
        wrong = await client.put("/partners")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, POST"
