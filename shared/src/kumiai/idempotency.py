"""``Idempotency-Key`` for POSTs that create something or move money.

The key row is written in the same transaction as the effect: a retry with the
same key and body gets the stored response; the same key with another body is
refused (422). A concurrent duplicate waits on the key's row and then replays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.errors import UnprocessableContent
from kumiai.platform_tables import idempotency_keys

KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
"""Printable ASCII without spaces, at most 200 characters (a UUID is a good key)."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="Repeat a request safely: same key and body give the same response. "
        "Keys are yours alone: another caller's key never clashes with yours",
    ),
]
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="Required: repeating the request with it has no further effect. "
        "Keys are yours alone: another caller's key never clashes with yours",
    ),
]


def client_key(principal: Principal, key: str) -> str:
    """A caller's key in its own namespace, apart from every other caller's and from the
    keys a service derives for its own writes (which never start with ``client/``)."""
    return f"client/{principal.key_scope}/{key}"


class IdempotencyKeyReused(UnprocessableContent):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


def request_fingerprint(body: BaseModel | dict[str, Any] | None) -> str:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_idempotent(
    uow: UnitOfWork,
    *,
    key: str | None,
    principal: Principal,
    operation: str,
    body: BaseModel | dict[str, Any] | None,
    action: Callable[[], Awaitable[Any]],
    status_code: int = 201,
) -> JSONResponse:
    """Run ``action`` once per (caller, operation, key) inside ``uow``; replay its response."""
    if key is None:
        result = await action()
        return JSONResponse(jsonable_encoder(result), status_code=status_code)
    scope = f"{principal.key_scope}|{operation}"
    fingerprint = request_fingerprint(body)
    session = uow.session
    fresh = await session.scalar(
        insert(idempotency_keys)
        .values(scope=scope, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if fresh is None:
        stored = (
            await session.execute(
                select(
                    idempotency_keys.c.request_hash,
                    idempotency_keys.c.status_code,
                    idempotency_keys.c.response_body,
                ).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            )
        ).one()
        if stored.request_hash != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different request body")
        return JSONResponse(
            stored.response_body,
            status_code=stored.status_code,
            headers={"Idempotent-Replayed": "true"},
        )
    result = jsonable_encoder(await action())
    await session.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        .values(status_code=status_code, response_body=result)
    )
    return JSONResponse(result, status_code=status_code)
