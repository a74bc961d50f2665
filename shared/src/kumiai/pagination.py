"""Keyset pagination: a page of items and an opaque cursor for the next one.

Lists never stop silently at a limit: a full page carries ``next_cursor``, and
the next request passes it back as ``cursor``. The cursor holds the sort key of
the last item (for example its creation time and id), so pages stay stable
while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kumiai.errors import UnprocessableContent

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M")

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque: the `next_cursor` of the previous page, passed back unchanged",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque; pass it as `cursor` for the next page. Null on the last page"
    )


class BadCursor(UnprocessableContent):
    problem = "bad-cursor"
    title = "The cursor is not one this list handed out"


def encode_cursor(*key: Any) -> str:
    """An opaque cursor for a sort key (strings, numbers, UUIDs, datetimes)."""
    plain = [_plain(v) for v in key]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def decode_cursor(cursor: str, *types: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The sort key in ``cursor``, each part converted by ``types``; 422 if it is not ours."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        return tuple(convert(value) for convert, value in zip(types, raw, strict=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor("pass back the next_cursor of the previous page unchanged") from exc


def page_of(
    rows: Sequence[R], *, limit: int, item: Callable[[R], T], key: Callable[[R], tuple[Any, ...]]
) -> Page[T]:
    """A page from up to ``limit + 1`` rows fetched in key order (the extra row means more)."""
    more = len(rows) > limit
    shown = rows[:limit]
    return Page[T](
        items=[item(r) for r in shown],
        next_cursor=encode_cursor(*key(shown[-1])) if more and shown else None,
    )


async def keyset_page(
    session: AsyncSession,
    query: Select[M],
    model: Any,
    cursor: str | None,
    limit: int,
    item: Callable[[M], T],
) -> Page[T]:
    """Rows of ``query`` oldest first by ``model``'s (``created_at``, ``id``), one page."""
    created: InstrumentedAttribute[datetime] = model.created_at
    ident: InstrumentedAttribute[UUID] = model.id
    if cursor is not None:
        after_created, after_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(tuple_(created, ident) > tuple_(after_created, after_id))
    rows: Sequence[M] = (
        await session.scalars(query.order_by(created, ident).limit(limit + 1))
    ).all()
    return page_of(rows, limit=limit, item=item, key=lambda row: (row.created_at, row.id))  # type: ignore[attr-defined]


async def keyset_id_page(
    session: AsyncSession,
    query: Select[M],
    *,
    ident: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    item: Callable[[M], T],
) -> Page[T]:
    """Rows of ``query`` in ascending ``ident`` order (a serial id), one page after ``cursor``."""
    if cursor is not None:
        (after,) = decode_cursor(cursor, int)
        query = query.where(ident > after)
    rows: Sequence[M] = (await session.scalars(query.order_by(ident).limit(limit + 1))).all()
    return page_of(rows, limit=limit, item=item, key=lambda row: (getattr(row, ident.key),))
