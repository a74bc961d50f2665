"""Files callers upload: what their content must be, and where their bytes are kept.

The rules are pure: the declared type must be one the call accepts, the content must
be what the type says (first bytes; for Office files, the whole archive), the size is
within a limit, the name reads plainly. ``LocalDirectoryStore`` streams a file in,
hashes and checks it as it arrives, and gives it its name only once every check
holds. Each service declares the types it accepts (``accept``); the HTTP side is
``kumiai.uploads``.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, BinaryIO, Protocol

from kumiai.problems import ProblemError, UnprocessableContent

# -- the types whose content is checked ---------------------------------------------------

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class ContentRule:
    """How a file of one media type is recognised by its bytes."""

    signature: re.Pattern[bytes] | None = None
    """What the file starts with."""
    utf8_text: bool = False
    """Text in UTF-8 (a byte-order mark allowed) without NUL bytes."""
    zip_parts: tuple[str, ...] = ()
    """Parts the whole file, a readable zip archive, must hold (Office Open XML)."""


_ZIP = re.compile(rb"PK\x03\x04")
# What ``zipfile`` raises for an archive it cannot read: damaged, cut short, or made by
# a newer version than it supports.
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError)
_OOXML_TYPES = "[Content_Types].xml"

CONTENT_RULES: Mapping[str, ContentRule] = MappingProxyType(
    {
        PDF: ContentRule(signature=re.compile(rb"%PDF-")),
        PNG: ContentRule(signature=re.compile(rb"\x89PNG\r\n\x1a\n")),
        JPEG: ContentRule(signature=re.compile(rb"\xff\xd8\xff")),
        GIF: ContentRule(signature=re.compile(rb"GIF8[79]a")),
        WEBP: ContentRule(signature=re.compile(rb"RIFF.{4}WEBP", re.DOTALL)),
        CSV: ContentRule(utf8_text=True),
        XLSX: ContentRule(signature=_ZIP, zip_parts=(_OOXML_TYPES, "xl/workbook.xml")),
        DOCX: ContentRule(signature=_ZIP, zip_parts=(_OOXML_TYPES, "word/document.xml")),
    }
)
"""Every type a service may accept, and how its content is checked."""


def accept(*media_types: str) -> frozenset[str]:
    """The types a service accepts; each must be one whose content is checked here."""
    unknown = sorted(set(media_types) - CONTENT_RULES.keys())
    if unknown:
        raise ValueError(f"no content rule for {unknown}")
    return frozenset(media_types)


# -- problems -----------------------------------------------------------------------------


class TooLarge(ProblemError):
    status = 413
    problem = "document-too-large"
    title = "The document is larger than allowed"


class UnsupportedType(ProblemError):
    status = 415
    problem = "unsupported-media-type"
    title = "This kind of file is not accepted"


class FileTooLarge(TooLarge):
    """The file is bigger than the caller's limit."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(
            f"document exceeds the limit of {limit} bytes (received at least {received} bytes)",
            limit=limit,
        )
        self.limit = limit
        self.received = received


class ContentTypeRefused(UnsupportedType):
    """The declared content type is not accepted, or the bytes do not match it."""

    def __init__(
        self, content_type: str, reason: str, accepted: Collection[str] | None = None
    ) -> None:
        listed = {} if accepted is None else {"accepted": sorted(accepted)}
        super().__init__(f"content type {content_type!r} refused: {reason}", **listed)
        self.content_type = content_type
        self.reason = reason


class EmptyFile(UnprocessableContent):
    """The file has no bytes at all."""

    def __init__(self) -> None:
        super().__init__("document is empty (0 bytes)")


# -- the rules ----------------------------------------------------------------------------


def normalise_content_type(content_type: str) -> str:
    """Lower-case media type without parameters: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return content_type.split(";", 1)[0].strip().lower()


def accepted_type(content_type: str, accepted: Collection[str]) -> str:
    """The declared type, normalised, if it is one of the ``accepted`` types."""
    declared = normalise_content_type(content_type)
    if declared not in accepted:
        raise ContentTypeRefused(content_type, "not an accepted document type", accepted)
    return declared


def check_size(received: int, max_bytes: int) -> None:
    """A file is at most ``max_bytes`` (inclusive), refused as soon as it passes that."""
    if received > max_bytes:
        raise FileTooLarge(max_bytes, received)


def check_not_empty(size: int) -> None:
    """A file has at least one byte."""
    if size == 0:
        raise EmptyFile()


def check_content(
    content_type: str,
    head: bytes,
    *,
    complete: bool,
    accepted: Collection[str] | None = None,
) -> None:
    """Refuse when the leading bytes ``head`` do not look like ``content_type``.

    ``complete`` says whether ``head`` is the whole file (a multi-byte UTF-8 character
    may be cut at the end of a partial head); ``accepted`` is listed in the refusal.
    """
    rule = CONTENT_RULES.get(content_type)
    if rule is None:
        raise ContentTypeRefused(content_type, "no way to check that type", accepted)
    if rule.signature is not None and not rule.signature.match(head):
        raise ContentTypeRefused(content_type, "the first bytes do not match that type", accepted)
    if rule.utf8_text:
        if b"\x00" in head:
            raise ContentTypeRefused(content_type, "the text contains a NUL byte", accepted)
        try:
            codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
        except UnicodeDecodeError:
            raise ContentTypeRefused(content_type, "the text is not UTF-8", accepted) from None


def check_whole_file(
    content_type: str, file: IO[bytes], *, accepted: Collection[str] | None = None
) -> None:
    """Refuse an Office file that is not a readable zip holding its type's parts.

    Its first bytes prove nothing (any zip starts the same), so this reads the archive's
    directory once the whole file is there; other types need nothing more.
    """
    rule = CONTENT_RULES.get(content_type)
    if rule is None or not rule.zip_parts:
        return
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except _UNREADABLE:
        raise ContentTypeRefused(content_type, "not a readable zip archive", accepted) from None
    missing = [part for part in rule.zip_parts if part not in names]
    if missing:
        raise ContentTypeRefused(content_type, f"the archive has no {missing[0]}", accepted)


# -- file names ---------------------------------------------------------------------------


class InvalidFilename(ValueError):
    """The file name would mislead a reader or name a folder."""


# Control, format (bidirectional overrides, zero-width), surrogate, private-use and
# unassigned characters: none belongs in a file name a person reads.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
MAX_FILENAME = 200


def check_filename(name: str) -> str:
    """A file's name as its owner knows it: printable, no folders, at most 200 characters."""
    if not 1 <= len(name) <= MAX_FILENAME:
        raise InvalidFilename(f"must be 1 to {MAX_FILENAME} characters")
    if name != name.strip() or name.strip(".") == "":
        raise InvalidFilename("must not start or end with spaces, nor be only dots")
    for char in name:
        if char in "/\\":
            raise InvalidFilename("must not contain / or \\")
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidFilename(f"must not contain the character U+{ord(char):04X}")
    return name


# -- the store ----------------------------------------------------------------------------

CHUNK_SIZE = 64 * 1024
"""Size of the chunks ``open`` yields."""

SNIFF_BYTES = 8 * 1024
"""The leading chunks are collected until at least this many bytes before sniffing."""

_KEY_SHAPE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{30}")
_TEMP_PREFIX = ".upload-"
_TEMP_SUFFIX = ".part"


@dataclass(frozen=True)
class StoredFile:
    """A file the store has kept: its key, SHA-256, size and normalised type."""

    key: str
    sha256: str
    size: int
    content_type: str


class FileStore(Protocol):
    """Where uploaded files live; keys are chosen by the store."""

    async def put(
        self,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int,
        accepted: frozenset[str],
    ) -> StoredFile:
        """Store the streamed file, or refuse it (413, 415, 422) and leave nothing behind."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Return the file's bytes in chunks (``async for c in await store.open(key)``).

        Raises ``KeyError`` when there is no such file.
        """
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; removing a missing one is not an error."""
        ...


class LocalDirectoryStore:
    """Files under one directory (a shared volume in Kubernetes), keyed ``ab/cdef...``."""

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    async def put(
        self,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int,
        accepted: frozenset[str],
    ) -> StoredFile:
        """Stream ``chunks`` to a temporary file, check it, then rename it under a fresh key."""
        declared = accepted_type(content_type, accepted)
        fd, name = await asyncio.to_thread(
            tempfile.mkstemp, dir=self._root, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        temp = Path(name)
        # Readable too: the whole-file check reads it back before it is renamed.
        file = os.fdopen(fd, "w+b")
        try:
            digest = hashlib.sha256()
            size = 0
            head = bytearray()
            sniffed = False
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                check_size(size, max_bytes)
                if not sniffed:
                    head += chunk
                    if len(head) >= SNIFF_BYTES:
                        check_content(declared, bytes(head), complete=False, accepted=accepted)
                        sniffed = True
                await asyncio.to_thread(_write, file, digest.update, chunk)
            check_not_empty(size)
            if not sniffed:
                check_content(declared, bytes(head), complete=True, accepted=accepted)

            def check_whole(written: BinaryIO) -> None:
                check_whole_file(declared, written, accepted=accepted)

            key = _new_key()
            await asyncio.to_thread(_commit, file, temp, self._root, self._root / key, check_whole)
        except BaseException:
            # Shielded so that a cancelled upload still removes its temporary file.
            await asyncio.shield(asyncio.to_thread(_discard, file, temp))
            raise
        return StoredFile(key=key, sha256=digest.hexdigest(), size=size, content_type=declared)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Return the file's bytes in chunks of ``CHUNK_SIZE``; ``KeyError`` if unknown."""
        path = self._path(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise KeyError(key) from None
        return _read_chunks(file)

    async def delete(self, key: str) -> None:
        """Remove the file if it exists; ``KeyError`` only for a malformed key."""
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


def _commit(
    file: BinaryIO, temp: Path, root: Path, final: Path, check: Callable[[BinaryIO], None]
) -> None:
    """Check the whole temporary file, make it durable, then give it its real name."""
    file.flush()
    file.seek(0)
    check(file)
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
