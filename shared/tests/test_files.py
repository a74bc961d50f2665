"""Uploaded files: the content rules (pure) and the local store (real files)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kumiai.files import (
    CHUNK_SIZE,
    CONTENT_RULES,
    CSV,
    DOCX,
    GIF,
    JPEG,
    PDF,
    PNG,
    WEBP,
    XLSX,
    ContentTypeRefused,
    EmptyFile,
    FileTooLarge,
    InvalidFilename,
    LocalDirectoryStore,
    TooLarge,
    UnsupportedType,
    accept,
    accepted_type,
    check_content,
    check_filename,
    check_not_empty,
    check_size,
    check_whole_file,
)
from kumiai.problems import ProblemError
from kumiai.uploads import file_headers, upload_openapi

EVERY_TYPE = accept(*CONTENT_RULES)
DOCUMENTS = accept(PDF, JPEG, PNG, CSV, XLSX, DOCX)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 16
GIF_BYTES = b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;"
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


def ooxml(*parts: str) -> bytes:
    """A zip archive holding ``parts`` (an Office file when they are the right ones)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            archive.writestr(part, "<x/>")
    return out.getvalue()


XLSX_BYTES = ooxml("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")
DOCX_BYTES = ooxml("[Content_Types].xml", "_rels/.rels", "word/document.xml")


def from_the_future(archive: bytes) -> bytes:
    """``archive`` with its first directory entry needing a zip version no reader has."""
    at = archive.index(b"PK\x01\x02") + 6
    return archive[:at] + b"\xff\x00" + archive[at + 2 :]


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def read_all(store: LocalDirectoryStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def put(
    store: LocalDirectoryStore,
    *chunks: bytes,
    content_type: str = PDF,
    max_bytes: int = 100,
    accepted: frozenset[str] = DOCUMENTS,
) -> str:
    stored = await store.put(
        stream(*chunks), content_type=content_type, max_bytes=max_bytes, accepted=accepted
    )
    return stored.key


# -- The types a service accepts -----------------------------------------------------------


def test_a_service_accepts_only_types_whose_content_is_checked() -> None:
    assert accept(PDF, CSV) == {PDF, CSV}
    with pytest.raises(ValueError, match="application/zip"):
        accept(PDF, "application/zip")


def test_the_declared_type_is_normalised_and_must_be_accepted() -> None:
    assert accepted_type("Application/PDF; charset=binary", DOCUMENTS) == PDF
    with pytest.raises(ContentTypeRefused, match="not an accepted document type") as caught:
        accepted_type("application/x-msdownload", DOCUMENTS)
    assert isinstance(caught.value, UnsupportedType)
    assert (caught.value.status, caught.value.problem) == (415, "unsupported-media-type")
    assert caught.value.extra == {"accepted": sorted(DOCUMENTS)}
    with pytest.raises(ContentTypeRefused) as narrower:
        accepted_type(JPEG, accept(PDF))
    assert narrower.value.extra == {"accepted": [PDF]}, "each call lists its own types"


# -- Content -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        (PDF, b"%PDF-1.7"),
        (PNG, PNG_BYTES),
        (JPEG, JPEG_BYTES),
        (GIF, GIF_BYTES),
        (GIF, b"GIF87a" + b"\x00" * 8),
        (WEBP, WEBP_BYTES),
        (CSV, "\ufeff品目,金額\n".encode()),
        (XLSX, XLSX_BYTES),
        (DOCX, DOCX_BYTES),
    ],
)
def test_the_first_bytes_of_each_type_are_recognised(content_type: str, data: bytes) -> None:
    check_content(content_type, data, complete=True)
    check_whole_file(content_type, io.BytesIO(data))


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        (PNG, b"%PDF-1.7"),
        (PDF, PNG_BYTES),
        (JPEG, b"\xff\xd8"),
        (GIF, b"GIF88a" + b"\x00" * 8),
        (WEBP, b"RIFF\x24\x00\x00\x00WAVEfmt "),
        (WEBP, b"RIFF\x24\x00\x00WEBP"),
        (XLSX, b"%PDF-1.7"),
        (DOCX, PNG_BYTES),
    ],
)
def test_first_bytes_of_another_type_are_refused(content_type: str, data: bytes) -> None:
    with pytest.raises(ContentTypeRefused, match="first bytes") as caught:
        check_content(content_type, data, complete=True, accepted=DOCUMENTS)
    assert caught.value.content_type == content_type
    assert caught.value.extra == {"accepted": sorted(DOCUMENTS)}


def test_csv_is_utf8_text_without_nul() -> None:
    with pytest.raises(ContentTypeRefused, match="NUL"):
        check_content(CSV, b"a,b\x00", complete=True)
    check_content(CSV, "名前,金額".encode()[:4], complete=False)
    with pytest.raises(ContentTypeRefused, match="UTF-8"):
        check_content(CSV, "名前,金額".encode()[:4], complete=True)
    with pytest.raises(ContentTypeRefused, match="UTF-8"):
        check_content(CSV, "品目,金額\n".encode("shift_jis"), complete=True)


def test_a_type_without_a_rule_is_refused() -> None:
    with pytest.raises(ContentTypeRefused, match="no way to check"):
        check_content("application/zip", b"PK\x03\x04", complete=True)


@pytest.mark.parametrize(
    ("content_type", "data", "reason"),
    [
        (XLSX, DOCX_BYTES, "no xl/workbook.xml"),
        (DOCX, XLSX_BYTES, "no word/document.xml"),
        (XLSX, ooxml("xl/workbook.xml"), r"no \[Content_Types\].xml"),
        (XLSX, ooxml("readme.txt"), "no"),
        (XLSX, b"PK\x03\x04" + b"\x00" * 64, "not a readable zip"),
        (DOCX, DOCX_BYTES[: len(DOCX_BYTES) // 2], "not a readable zip"),
        (DOCX, from_the_future(DOCX_BYTES), "not a readable zip"),
    ],
)
def test_an_office_file_is_a_zip_holding_its_parts(
    content_type: str, data: bytes, reason: str
) -> None:
    check_content(content_type, data, complete=True)  # its first bytes prove nothing
    with pytest.raises(ContentTypeRefused, match=reason):
        check_whole_file(content_type, io.BytesIO(data), accepted=DOCUMENTS)


@settings(max_examples=200)
@given(
    content_type=st.sampled_from([XLSX, DOCX]),
    cut=st.integers(min_value=0, max_value=len(XLSX_BYTES)),
    flips=st.lists(st.tuples(st.integers(0, len(XLSX_BYTES) - 1), st.integers(1, 255))),
)
def test_a_damaged_office_file_is_refused_never_a_crash(
    content_type: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray((XLSX_BYTES if content_type == XLSX else DOCX_BYTES)[:cut])
    for at, mask in flips:
        if at < len(data):
            data[at] ^= mask
    try:
        check_whole_file(content_type, io.BytesIO(bytes(data)))
    except ContentTypeRefused:
        return
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert set(CONTENT_RULES[content_type].zip_parts) <= set(archive.namelist())


def test_other_types_need_no_whole_file_check() -> None:
    for content_type in (PDF, PNG, JPEG, GIF, WEBP, CSV):
        check_whole_file(content_type, io.BytesIO(b"anything"))


# -- Size ----------------------------------------------------------------------------------


@given(received=st.integers(min_value=0, max_value=10_000), limit=st.integers(0, 10_000))
def test_a_file_is_at_most_the_limit_inclusive(received: int, limit: int) -> None:
    if received <= limit:
        check_size(received, limit)
    else:
        with pytest.raises(FileTooLarge) as caught:
            check_size(received, limit)
        assert isinstance(caught.value, TooLarge)
        assert (caught.value.status, caught.value.problem) == (413, "document-too-large")
        assert caught.value.extra == {"limit": limit}


def test_an_empty_file_is_refused() -> None:
    check_not_empty(1)
    with pytest.raises(EmptyFile, match="0 bytes") as caught:
        check_not_empty(0)
    assert (caught.value.status, caught.value.problem) == (422, "unprocessable")


# -- File names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["tax return 2025.pdf", "決算書.pdf", "ceo_cv (v2).docx", ".profile.csv"]
)
def test_a_plain_file_name_is_kept_as_given(name: str) -> None:
    assert check_filename(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 201,
        "../etc/passwd",
        "C:\\boot.ini",
        "report\x00.pdf",
        "report\x7f.pdf",
        "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
        "zero\u200bwidth.pdf",
        " padded.pdf",
        "..",
    ],
)
def test_a_file_name_with_folders_or_hidden_characters_is_refused(name: str) -> None:
    with pytest.raises(InvalidFilename):
        check_filename(name)


@given(st.text(min_size=1, max_size=200))
def test_an_accepted_file_name_is_printable_and_has_no_folder(name: str) -> None:
    try:
        check_filename(name)
    except InvalidFilename:
        return
    assert not {"/", "\\"} & set(name)
    assert all(unicodedata.category(c)[0] != "C" for c in name)


# -- The HTTP side -------------------------------------------------------------------------


def test_download_headers_name_the_file_and_its_digest() -> None:
    data = b"%PDF-1.7"
    sha256 = hashlib.sha256(data).hexdigest()
    headers = file_headers("決算書 2025/v2.pdf", len(data), sha256)
    assert headers == {
        "Content-Length": "8",
        "Content-Disposition": "attachment; filename*=UTF-8''"
        "%E6%B1%BA%E7%AE%97%E6%9B%B8%202025%2Fv2.pdf",
        "Repr-Digest": f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:",
        "ETag": f'"{sha256}"',
    }


def test_an_upload_body_lists_the_accepted_types() -> None:
    body = upload_openapi(accept(PNG, PDF))["requestBody"]
    assert body["required"] is True
    assert list(body["content"]) == [PDF, PNG]
    assert body["content"][PDF] == {"schema": {"type": "string", "format": "binary"}}


# -- The local store -----------------------------------------------------------------------


async def test_round_trip_keeps_bytes_hash_and_size(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "docs")
    chunks = [b"%PDF-1.7\n", b"x" * 100_000, b"", b"\x00\xff tail"]
    data = b"".join(chunks)

    stored = await store.put(
        stream(*chunks), content_type=PDF, max_bytes=1_000_000, accepted=DOCUMENTS
    )

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
    first = await store.put(stream(b"%PDF-a"), content_type=PDF, max_bytes=100, accepted=DOCUMENTS)
    second = await store.put(stream(b"%PDF-a"), content_type=PDF, max_bytes=100, accepted=DOCUMENTS)
    assert first.key != second.key
    assert first.sha256 == second.sha256


async def test_a_file_is_not_under_its_key_until_complete(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    seen: list[list[str]] = []

    async def watched() -> AsyncIterator[bytes]:
        yield b"%PDF-"
        seen.append([p.name for p in files_under(tmp_path)])
        yield b"rest"

    stored = await store.put(watched(), content_type=PDF, max_bytes=100, accepted=DOCUMENTS)

    assert len(seen) == 1
    assert len(seen[0]) == 1
    assert seen[0][0].startswith(".upload-")
    assert files_under(tmp_path) == [tmp_path / stored.key]


async def test_limit_is_inclusive(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(
        stream(b"%PDF-", b"12345"), content_type=PDF, max_bytes=10, accepted=DOCUMENTS
    )
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

    with pytest.raises(FileTooLarge, match="limit of 10 bytes") as refused:
        await store.put(chunks(), content_type=PDF, max_bytes=10, accepted=DOCUMENTS)

    assert refused.value.limit == 10
    assert refused.value.received == 11
    assert pulled == [b"%PDF-", b"12345", b"6"]
    assert files_under(tmp_path) == []


async def test_content_type_not_accepted_is_refused_before_reading(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    pulled: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        pulled.append(b"GIF89a")
        yield b"GIF89a"

    with pytest.raises(ContentTypeRefused, match="image/gif") as refused:
        await store.put(chunks(), content_type=GIF, max_bytes=100, accepted=DOCUMENTS)

    assert refused.value.extra == {"accepted": sorted(DOCUMENTS)}
    assert pulled == []
    assert files_under(tmp_path) == []


async def test_declared_type_is_normalised(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(
        stream(b"%PDF-1.4"), content_type=" Application/PDF; x=y", max_bytes=100, accepted=DOCUMENTS
    )
    assert stored.content_type == PDF


@pytest.mark.parametrize(
    ("content_type", "data"), [(PDF, PNG_BYTES), (PNG, b"%PDF-1.7\n" + b"x" * 32)]
)
async def test_bytes_of_another_type_are_refused_and_leave_nothing(
    tmp_path: Path, content_type: str, data: bytes
) -> None:
    store = LocalDirectoryStore(tmp_path)

    with pytest.raises(ContentTypeRefused, match=re.escape(content_type)) as refused:
        await put(store, data, content_type=content_type, max_bytes=1_000)

    assert refused.value.content_type == content_type
    assert refused.value.extra == {"accepted": sorted(DOCUMENTS)}
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        (PNG, PNG_BYTES),
        (JPEG, JPEG_BYTES),
        (GIF, GIF_BYTES),
        (WEBP, WEBP_BYTES),
        (XLSX, XLSX_BYTES),
        (DOCX, DOCX_BYTES),
    ],
)
async def test_each_type_is_stored_when_its_content_matches(
    tmp_path: Path, content_type: str, data: bytes
) -> None:
    store = LocalDirectoryStore(tmp_path)
    key = await put(store, data, content_type=content_type, max_bytes=10_000, accepted=EVERY_TYPE)
    assert await read_all(store, key) == data


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        (XLSX, DOCX_BYTES),
        (XLSX, ooxml("[Content_Types].xml", "data.csv")),
        (DOCX, b"PK\x03\x04" + b"\x00" * 64),
    ],
)
async def test_an_office_file_that_is_not_one_is_refused_and_leaves_nothing(
    tmp_path: Path, content_type: str, data: bytes
) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused, match=re.escape(content_type)) as refused:
        await put(store, data, content_type=content_type, max_bytes=10_000)
    assert refused.value.status == 415
    assert files_under(tmp_path) == []


async def test_a_large_office_file_is_checked_whole(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/workbook.xml", "<x/>")
        archive.writestr("xl/media/image1.png", b"\x00" * (3 * CHUNK_SIZE))
    data = out.getvalue()
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]

    key = await put(store, *chunks, content_type=XLSX, max_bytes=len(data))
    assert await read_all(store, key) == data

    with pytest.raises(ContentTypeRefused, match="not a readable zip"):
        await put(store, *chunks[:-1], content_type=XLSX, max_bytes=len(data))
    assert files_under(tmp_path) == [tmp_path / key]


async def test_magic_split_across_chunks_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    stored = await store.put(
        stream(b"%P", b"D", b"F-1.7"), content_type=PDF, max_bytes=100, accepted=DOCUMENTS
    )
    assert stored.size == 8


async def test_file_shorter_than_magic_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused):
        await put(store, b"%PD")
    assert files_under(tmp_path) == []


async def test_empty_file_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(EmptyFile, match="0 bytes"):
        await put(store, b"", b"")
    assert files_under(tmp_path) == []


async def test_csv_with_nul_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused, match="NUL"):
        await put(store, b"a,b\n1,\x002\n", content_type=CSV)
    assert files_under(tmp_path) == []


async def test_csv_not_utf8_is_refused(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    with pytest.raises(ContentTypeRefused, match="UTF-8"):
        await put(store, "品目,金額\n".encode("shift_jis"), content_type=CSV)
    assert files_under(tmp_path) == []


async def test_csv_with_bom_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    data = "\ufeff品目,金額\n売上,1000\n".encode()
    key = await put(store, data, content_type=CSV, max_bytes=1_000)
    assert await read_all(store, key) == data


async def test_csv_character_split_across_chunks_is_accepted(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    data = ("a" * 8191 + "金,1\n").encode()
    key = await put(store, data[:8192], data[8192:], content_type=CSV, max_bytes=10_000)
    assert await read_all(store, key) == data


async def test_a_cancelled_upload_leaves_nothing(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"%PDF-1.7"
        started.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(
        store.put(stalled(), content_type=PDF, max_bytes=100, accepted=DOCUMENTS)
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files_under(tmp_path) == []


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
    key = await put(store, b"%PDF-x")

    await store.delete(key)
    await store.delete(key)
    await store.delete("ab/" + "c" * 30)

    with pytest.raises(KeyError):
        await store.open(key)
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

    stored = await store.put(
        stream(*chunks), content_type=PDF, max_bytes=len(data), accepted=DOCUMENTS
    )

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert await read_all(store, stored.key) == data


SAMPLES = [b"", b"%PDF-1.7", PNG_BYTES, JPEG_BYTES, GIF_BYTES, WEBP_BYTES, XLSX_BYTES, DOCX_BYTES]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content_type=st.sampled_from(sorted(EVERY_TYPE)),
    data=st.one_of(st.sampled_from(SAMPLES), st.binary(max_size=256)),
    max_bytes=st.integers(min_value=1, max_value=4096),
)
async def test_a_file_is_stored_whole_or_refused_leaving_nothing(
    tmp_path: Path, content_type: str, data: bytes, max_bytes: int
) -> None:
    root = tmp_path / "store"
    store = LocalDirectoryStore(root)
    refused: ProblemError | None = None
    try:
        key = await put(
            store, data, content_type=content_type, max_bytes=max_bytes, accepted=EVERY_TYPE
        )
    except ProblemError as exc:
        refused = exc
    if refused is not None:
        assert refused.status in {413, 415, 422}
    else:
        assert 0 < len(data) <= max_bytes
        assert await read_all(store, key) == data
        await store.delete(key)
    assert files_under(root) == []
