"""``Idempotency-Key`` for POSTs that create something or move money.

The key row is written in the same transaction as the effect: a retry with the
same key and body gets the stored response; the same key with another body is
refused (422). A concurrent duplicate waits on the key's row and then replays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

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
    scope = answer_scope(principal, operation)
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


def json_text(content: Any) -> str:
    """JSON as ``JSONResponse`` sends it (``content`` already encoded by ``jsonable_encoder``)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def answer_scope(principal: Principal, operation: str) -> str:
    """Where a caller's keys for one operation live (``run_idempotent``)."""
    return f"{principal.key_scope}|{operation}"


@dataclass(frozen=True)
class Answer:
    """A request's answer, stored with its key before its effect commits (``store_answers``)."""

    scope: str
    key: str
    request_hash: str
    status_code: int
    body: str
    """The answer's JSON, as it is sent."""


_STORE_ANSWERS = text(
    "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body) "
    "SELECT scope, key, request_hash, status_code, CAST(body AS jsonb) "
    "FROM unnest(CAST(:scopes AS text[]), CAST(:keys AS text[]), CAST(:hashes AS text[]), "
    "CAST(:codes AS int[]), CAST(:bodies AS text[])) AS a(scope, key, request_hash, "
    "status_code, body) ORDER BY scope, key ON CONFLICT DO NOTHING RETURNING scope, key"
)


async def store_answers(session: AsyncSession, answers: Sequence[Answer]) -> set[tuple[str, str]]:
    """``run_idempotent`` for requests written together whose answers are known before
    their effects: each key is taken with its answer, in key order (two groups holding the
    same keys wait for each other, never deadlock). Answers the (scope, key) pairs taken;
    a key already taken (its request is replayed by ``run_idempotent``) is not. The keys
    must be distinct."""
    rows = await session.execute(
        _STORE_ANSWERS,
        {
            "scopes": [a.scope for a in answers],
            "keys": [a.key for a in answers],
            "hashes": [a.request_hash for a in answers],
            "codes": [a.status_code for a in answers],
            "bodies": [a.body for a in answers],
        },
    )
    return {(row.scope, row.key) for row in rows}
