"""Document storage over a local directory (real files)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.documents.rules import ContentTypeRefused, DocumentTooLarge, EmptyDocument
from onboarding.documents.storage import CHUNK_SIZE, LocalDirectoryStore

PDF = "application/pdf"
CSV = "text/csv"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def read_all(store: LocalDirectoryStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_round_trip_keeps_bytes_hash_and_size(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "docs")
    chunks = [b"%PDF-1.7\n", b"x" * 100_000, b"", b"\x00\xff tail"]
    data = b"".join(chunks)

    stored = await store.put(stream(*chunks), content_type=PDF, max_bytes=1_000_000)

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.content_type == PDF
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{30}", stored.key)
    assert await read_all(store, stored.key) == data
    sizes = [len(chunk) async for chunk in await store.open(stored.key)]
    assert sizes == [CHUNK_SIZE, len(data) - CHUNK_SIZE]
    assert files_under(tmp_path / "docs") == [tmp_path / "docs" / stored.key]


async def test_each_put_gets_a_new_key(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    first = await store.put(stream(b"%PDF-a"), content_type=PDF, max_bytes=100)
    second = await store.put(stream(b"%PDF-a"), content_type=PDF, max_bytes=100)
    assert first.key != second.key
    assert first.sha256 == second.sha256


async def test_document_is_not_under_its_key_until_complete(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    seen: list[list[str]] = []

    async def watched() -> AsyncIterator[bytes]:
        yield b"%PDF-"
        seen.append([p.name for p in files_under(tmp_path)])
        yield b"rest"

    stored = await store.put(watched(), content_type=PDF, max_bytes=100)

    assert len(seen) == 1
    assert len(seen[0]) == 1
    assert seen[0][0].startswith(".upload-")
    assert files_under(tmp_path) == [tmp_path / stored.key]


async def test_limit_is_inclusive(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(stream(b"%PDF-", b"12345"), content_type=PDF, max_bytes=10)
    assert stored.size == 10


async def test_too_large_is_refused_at_the_crossing_chunk_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    store = LocalDirectoryStore(tmp_path)
    pulled: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"%PDF-", b"12345", b"6", b"never read"):
            pulled.append(chunk)
            yield chunk

    with pytest.raises(DocumentTooLarge, match="limit of 10 bytes") as refused:
        await store.put(chunks(), content_type=PDF, max_bytes=10)

    assert refused.value.limit == 10
    assert refused.value.received == 11
    assert pulled == [b"%PDF-", b"12345", b"6"]
    assert files_under(tmp_path) == []


async def test_content_type_not_allowed_is_refused_before_reading(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    pulled: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        pulled.append(b"MZ")
        yield b"MZ"

    with pytest.raises(ContentTypeRefused, match="application/x-msdownload"):
        await store.put(chunks(), content_type="application/x-msdownload", max_bytes=100)

    assert pulled == []
    assert files_under(tmp_path) == []


async def test_declared_type_is_normalised(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(
        stream(b"%PDF-1.4"), content_type=" Application/PDF; x=y", max_bytes=100
    )
    assert stored.content_type == PDF


async def test_pdf_declared_but_png_bytes_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)

    with pytest.raises(ContentTypeRefused, match="application/pdf") as refused:
        await store.put(stream(PNG_BYTES), content_type=PDF, max_bytes=1_000)

    assert refused.value.content_type == PDF
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", PNG_BYTES),
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04zz"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ],
)
async def test_matching_magic_is_accepted(tmp_path: Path, content_type: str, data: bytes) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(stream(data), content_type=content_type, max_bytes=1_000)
    assert await read_all(store, stored.key) == data


async def test_magic_split_across_chunks_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(stream(b"%P", b"D", b"F-1.7"), content_type=PDF, max_bytes=100)
    assert stored.size == 8


async def test_document_shorter_than_magic_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused):
        await store.put(stream(b"%PD"), content_type=PDF, max_bytes=100)
    assert files_under(tmp_path) == []


async def test_empty_document_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(EmptyDocument, match="0 bytes"):
        await store.put(stream(b"", b""), content_type=PDF, max_bytes=100)
    assert files_under(tmp_path) == []


async def test_csv_with_nul_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused, match="NUL"):
        await store.put(stream(b"a,b\n1,\x002\n"), content_type=CSV, max_bytes=100)
    assert files_under(tmp_path) == []


async def test_csv_not_utf8_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused, match="UTF-8"):
        await store.put(stream("品目,金額\n".encode("shift_jis")), content_type=CSV, max_bytes=100)
    assert files_under(tmp_path) == []


async def test_csv_with_bom_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    data = "\ufeff品目,金額\n売上,1000\n".encode()
    stored = await store.put(stream(data), content_type=CSV, max_bytes=1_000)
    assert await read_all(store, stored.key) == data


async def test_csv_character_split_across_chunks_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    data = ("a" * 8191 + "金,1\n").encode()
    stored = await store.put(stream(data[:8192], data[8192:]), content_type=CSV, max_bytes=10_000)
    assert stored.size == len(data)


@pytest.mark.parametrize(
    "key",
    [
        "../secret",
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../secret",
        "",
        "ab",
        "ab/" + "c" * 29,
        "ab/" + "c" * 31,
        "AB/" + "C" * 30,
        "ab/" + "c" * 30 + "\n",
        "abc" + "d" * 30,
        "ab/cd/" + "e" * 28,
    ],
)
async def test_malformed_keys_are_refused(tmp_path: Path, key: str) -> None:
    (tmp_path / "secret").write_bytes(b"not yours")
    store = LocalDirectoryStore(tmp_path / "docs")

    with pytest.raises(KeyError):
        await store.open(key)
    with pytest.raises(KeyError):
        await store.delete(key)
    assert (tmp_path / "secret").read_bytes() == b"not yours"


async def test_unknown_key_raises_key_error(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(KeyError):
        await store.open("ab/" + "c" * 30)


async def test_delete_removes_and_is_idempotent(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(stream(b"%PDF-x"), content_type=PDF, max_bytes=100)

    await store.delete(stored.key)
    await store.delete(stored.key)
    await store.delete("ab/" + "c" * 30)

    with pytest.raises(KeyError):
        await store.open(stored.key)
    assert files_under(tmp_path) == []


def test_root_is_created(tmp_path: Path) -> None:
    LocalDirectoryStore(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(parts=st.lists(st.binary(max_size=3 * CHUNK_SIZE // 2), max_size=6))
async def test_any_pdf_round_trips(tmp_path: Path, parts: list[bytes]) -> None:
    store = LocalDirectoryStore(tmp_path)
    chunks = [b"%PDF-", *parts]
    data = b"".join(chunks)

    stored = await store.put(stream(*chunks), content_type=PDF, max_bytes=len(data))

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert await read_all(store, stored.key) == data
