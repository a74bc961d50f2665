"""Storage for due-diligence documents: streamed in, hashed, sniffed, stored atomically."""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 64 * 1024
"""Size of the chunks ``open`` yields."""

SNIFF_BYTES = 8 * 1024
"""The leading chunks are collected until at least this many bytes before sniffing."""

ALLOWED_CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)

_MAGIC: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04",
}

_KEY_SHAPE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{30}")
_TEMP_PREFIX = ".upload-"
_TEMP_SUFFIX = ".part"


class DocumentTooLarge(ValueError):
    """The document is bigger than the caller's limit."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(
            f"document exceeds the limit of {limit} bytes (received at least {received} bytes)"
        )
        self.limit = limit
        self.received = received


class ContentTypeRefused(ValueError):
    """The declared content type is not accepted, or the bytes do not match it."""

    def __init__(self, content_type: str, reason: str) -> None:
        super().__init__(f"content type {content_type!r} refused: {reason}")
        self.content_type = content_type
        self.reason = reason


class EmptyDocument(ValueError):
    """The document has no bytes at all."""

    def __init__(self) -> None:
        super().__init__("document is empty (0 bytes)")


@dataclass(frozen=True)
class StoredDocument:
    key: str
    sha256: str
    size: int
    content_type: str


class DocumentStore(Protocol):
    """Where uploaded documents live; keys are chosen by the store."""

    async def put(
        self, chunks: AsyncIterator[bytes], *, content_type: str, max_bytes: int
    ) -> StoredDocument:
        """Store the streamed document, or refuse it and leave nothing behind."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Return the document's bytes in chunks (``async for c in await store.open(key)``).

        Raises ``KeyError`` when there is no such document.
        """
        ...

    async def delete(self, key: str) -> None:
        """Remove the document; removing a missing one is not an error."""
        ...


def normalise_content_type(content_type: str) -> str:
    """Lower-case media type without parameters: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return content_type.split(";", 1)[0].strip().lower()


def check_content(content_type: str, head: bytes, *, complete: bool) -> None:
    """Refuse when the leading bytes ``head`` do not look like ``content_type``.

    ``complete`` says whether ``head`` is the whole document (a multi-byte UTF-8 character
    may be cut at the end of a partial head).
    """
    magic = _MAGIC.get(content_type)
    if magic is not None:
        if not head.startswith(magic):
            raise ContentTypeRefused(content_type, "the first bytes do not match that type")
        return
    if content_type == "text/csv":
        if b"\x00" in head:
            raise ContentTypeRefused(content_type, "the text contains a NUL byte")
        try:
            codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
        except UnicodeDecodeError:
            raise ContentTypeRefused(content_type, "the text is not UTF-8") from None
        return
    raise ContentTypeRefused(content_type, "no way to check that type")


class LocalDirectoryStore:
    """Documents as files under one directory, keyed ``ab/cdef...`` by a random UUID."""

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    async def put(
        self, chunks: AsyncIterator[bytes], *, content_type: str, max_bytes: int
    ) -> StoredDocument:
        """Stream ``chunks`` to a temporary file, then rename it under a fresh key."""
        declared = normalise_content_type(content_type)
        if declared not in ALLOWED_CONTENT_TYPES:
            raise ContentTypeRefused(content_type, "not an accepted document type")
        fd, name = await asyncio.to_thread(
            tempfile.mkstemp, dir=self._root, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        temp = Path(name)
        file = os.fdopen(fd, "wb")
        try:
            digest = hashlib.sha256()
            size = 0
            head = bytearray()
            sniffed = False
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentTooLarge(max_bytes, size)
                if not sniffed:
                    head += chunk
                    if len(head) >= SNIFF_BYTES:
                        check_content(declared, bytes(head), complete=False)
                        sniffed = True
                await asyncio.to_thread(_write, file, digest.update, chunk)
            if size == 0:
                raise EmptyDocument()
            if not sniffed:
                check_content(declared, bytes(head), complete=True)
            key = _new_key()
            await asyncio.to_thread(_commit, file, temp, self._root, self._root / key)
        except BaseException:
            # Shielded so that a cancelled upload still removes its temporary file.
            await asyncio.shield(asyncio.to_thread(_discard, file, temp))
            raise
        return StoredDocument(key=key, sha256=digest.hexdigest(), size=size, content_type=declared)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Return the document's bytes in chunks of ``CHUNK_SIZE``; ``KeyError`` if unknown."""
        path = self._path(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise KeyError(key) from None
        return _read_chunks(file)

    async def delete(self, key: str) -> None:
        """Remove the document if it exists; ``KeyError`` only for a malformed key."""
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY_SHAPE.fullmatch(key):
            raise KeyError(key)
        return self._root / key


def _new_key() -> str:
    hex_ = uuid.uuid4().hex
    return f"{hex_[:2]}/{hex_[2:]}"


async def _read_chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        file.close()


def _write(file: BinaryIO, update_digest: Callable[[bytes], None], chunk: bytes) -> None:
    file.write(chunk)
    update_digest(chunk)


def _commit(file: BinaryIO, temp: Path, root: Path, final: Path) -> None:
    """Make the temporary file durable, then give it its real name."""
    file.flush()
    os.fsync(file.fileno())
    file.close()
    created = not final.parent.exists()
    final.parent.mkdir(exist_ok=True)
    os.replace(temp, final)
    _fsync_dir(final.parent)
    if created:
        _fsync_dir(root)


def _discard(file: BinaryIO, temp: Path) -> None:
    file.close()
    temp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
