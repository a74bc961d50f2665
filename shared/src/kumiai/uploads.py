"""The HTTP side of files: an upload's OpenAPI body, the file-name query parameter, and
the streamed download with its headers (the rules are ``kumiai.files``)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
from fastapi import Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator
from starlette.types import Receive

from kumiai.db import UnitOfWork
from kumiai.files import MAX_FILENAME, FileStore, InvalidFilename, StoredFile, check_filename

T = TypeVar("T")


def _binary() -> dict[str, Any]:
    return {"schema": {"type": "string", "format": "binary"}}


BINARY: dict[str, Any] = _binary()
"""OpenAPI content of a file sent as it is (for an upload's body or a download)."""


def upload_openapi(accepted: Collection[str]) -> dict[str, Any]:
    """The ``openapi_extra`` of an upload route: a required body of one of ``accepted``."""
    return {
        "requestBody": {
            "required": True,
            "content": {media_type: _binary() for media_type in sorted(accepted)},
        }
    }


def _filename(name: str) -> str:
    try:
        return check_filename(name)
    except InvalidFilename as exc:
        raise ValueError(str(exc)) from None


Filename = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_FILENAME,
        description="The file's name as the business knows it: no folders, no control "
        "or formatting characters",
    ),
    AfterValidator(_filename),
]
"""The ``filename`` query parameter of an upload (``kumiai.files.check_filename``)."""


class FileStream(StreamingResponse):
    """A stored file, streamed to the caller."""

    async def listen_for_disconnect(self, receive: Receive) -> None:
        # The request guard hands the app a replay of the request that never reports a
        # disconnect, so polling it would keep the event loop busy; the stream ends
        # when the file does.
        await anyio.sleep_forever()


def file_headers(filename: str, size: int, sha256: str) -> dict[str, str]:
    """Headers of a download: its length, its name (RFC 5987), its digest and its ETag."""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    return {
        "Content-Length": str(size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "Repr-Digest": f"sha-256=:{digest}:",
        "ETag": f'"{sha256}"',
    }


async def receive_file(
    uow: UnitOfWork,
    *,
    files: FileStore,
    chunks: AsyncIterator[bytes],
    content_type: str,
    max_bytes: int,
    accepted: frozenset[str],
    check: Callable[[], Awaitable[None]],
    record: Callable[[StoredFile], Awaitable[T]],
) -> T:
    """Take an uploaded file in three steps: refuse it before any byte is kept (``check``, in
    its own transaction); keep its bytes, refused (413, 415, 422) unless they are what they
    claim; record it (``record``, in a second transaction). Bytes that were not recorded are
    removed, even when the request is cancelled."""
    async with uow:
        await check()
    stored = await files.put(
        chunks, content_type=content_type, max_bytes=max_bytes, accepted=accepted
    )
    try:
        async with uow:
            return await record(stored)
    except BaseException:
        await asyncio.shield(files.delete(stored.key))
        raise
