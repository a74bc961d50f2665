"""Every error is an RFC 9457 problem document, validation errors name the field."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from kumiai.errors import PROBLEM_BASE, Conflict, install_problem_handlers


class Order(BaseModel):
    units: int = Field(gt=0)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/orders")
    async def place(order: Order) -> Order:
        if order.units == 13:
            raise Conflict("sold out", units_left=0)
        if order.units == 99:
            raise RuntimeError("secret internals")
        return order

    return app


async def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_validation_errors_name_the_field() -> None:
    async with await _client() as client:
        response = await client.post("/orders", json={"units": 0})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "validation"
    assert body["status"] == 422
    assert body["invalid_params"][0]["name"] == "body.units"
    assert "greater than 0" in body["invalid_params"][0]["reason"]
    assert body["instance"] == "/orders"


async def test_domain_errors_carry_status_type_and_extensions() -> None:
    async with await _client() as client:
        response = await client.post("/orders", json={"units": 13})
    assert response.status_code == 409
    assert response.json() == {
        "type": PROBLEM_BASE + "conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "sold out",
        "instance": "/orders",
        "units_left": 0,
    }


async def test_unknown_routes_and_crashes_are_problems_too() -> None:
    async with await _client() as client:
        missing = await client.get("/nowhere")
        crash = await client.post("/orders", json={"units": 99})
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM_BASE + "not-found"
    assert crash.status_code == 500
    assert crash.json()["type"] == PROBLEM_BASE + "internal"
    assert "secret internals" not in crash.text
