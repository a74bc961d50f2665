"""Where documents' bytes live: streamed in, hashed, checked, stored atomically.

``DocumentStore`` is the interface the service uses; ``LocalDirectoryStore`` keeps
files under one directory (a shared volume in Kubernetes). What a store accepts is
decided by ``onboarding.documents.rules`` (type, first bytes, size).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from onboarding.documents import rules

CHUNK_SIZE = 64 * 1024
"""Size of the chunks ``open`` yields."""

SNIFF_BYTES = 8 * 1024
"""The leading chunks are collected until at least this many bytes before sniffing."""

_KEY_SHAPE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{30}")
_TEMP_PREFIX = ".upload-"
_TEMP_SUFFIX = ".part"


@dataclass(frozen=True)
class StoredDocument:
    """A document the store has kept: its key, SHA-256, size and normalised type."""

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


class LocalDirectoryStore:
    """Documents as files under one directory, keyed ``ab/cdef...`` by a random UUID."""

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    async def put(
        self, chunks: AsyncIterator[bytes], *, content_type: str, max_bytes: int
    ) -> StoredDocument:
        """Stream ``chunks`` to a temporary file, then rename it under a fresh key."""
        declared = rules.accepted_type(content_type)
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
                rules.check_size(size, max_bytes)
                if not sniffed:
                    head += chunk
                    if len(head) >= SNIFF_BYTES:
                        rules.check_content(declared, bytes(head), complete=False)
                        sniffed = True
                await asyncio.to_thread(_write, file, digest.update, chunk)
            rules.check_not_empty(size)
            if not sniffed:
                rules.check_content(declared, bytes(head), complete=True)
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
