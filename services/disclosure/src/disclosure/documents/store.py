"""Documents in the database: versions, attachments, reads, and the lists readers get."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from disclosure.db.models import Attachment, Document, DocumentRead, DocumentVersion
from disclosure.documents.rules import Visibility
from kumiai.pagination import decode_cursor, encode_cursor


async def document(
    session: AsyncSession, document_id: UUID, *, lock: bool = False
) -> Document | None:
    return await session.get(Document, document_id, with_for_update=lock)


async def version(session: AsyncSession, document_id: UUID, number: int) -> DocumentVersion | None:
    return await session.get(DocumentVersion, (document_id, number))


async def versions(session: AsyncSession, document_id: UUID) -> Sequence[DocumentVersion]:
    return (
        await session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.version.desc())
        )
    ).all()


async def add(session: AsyncSession, *rows: Any) -> None:
    """Write new rows (versions, attachments and reads are append-only in the database)."""
    session.add_all(rows)
    await session.flush()


async def attachment(
    session: AsyncSession, document_id: UUID, attachment_id: UUID
) -> Attachment | None:
    row = await session.get(Attachment, attachment_id)
    return row if row is not None and row.document_id == document_id else None


async def unread_of(
    session: AsyncSession, reader: str, documents: Collection[tuple[UUID, int]]
) -> set[tuple[UUID, int]]:
    """Which (document, version) pairs ``reader`` has not opened."""
    if not documents:
        return set()
    read = set(
        (
            await session.execute(
                select(DocumentRead.document_id, DocumentRead.version)
                .where(
                    DocumentRead.reader == reader,
                    tuple_(DocumentRead.document_id, DocumentRead.version).in_(list(documents)),
                )
                .distinct()
            )
        ).all()
    )
    return {pair for pair in documents if pair not in read}


def _published(visibilities: Collection[Visibility]) -> list[ColumnElement[bool]]:
    """Published, with one of ``visibilities``."""
    return [
        Document.published_version.is_not(None),
        Document.published_visibility.in_([v.value for v in visibilities]),
    ]


async def _newest_first(
    session: AsyncSession,
    query: Select[Document],
    at: InstrumentedAttribute[datetime | None] | InstrumentedAttribute[datetime],
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Document], str | None]:
    """One page of ``query`` newest first by ``at`` (then id), after ``cursor``."""
    if cursor is not None:
        after, ident = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(or_(at < after, and_(at == after, Document.id < ident)))
    rows = (
        await session.scalars(query.order_by(at.desc(), Document.id.desc()).limit(limit + 1))
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    return rows, encode_cursor(getattr(last, at.key), last.id) if last is not None else None


async def fund_documents(
    session: AsyncSession,
    fund_id: UUID,
    *,
    working: bool,
    visibilities: Collection[Visibility],
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Document], str | None]:
    """One page of the fund's documents: every one newest first by creation (``working``),
    or only the published ones of ``visibilities``, newest first by publication."""
    query = select(Document).where(Document.fund_id == fund_id)
    if working:
        return await _newest_first(session, query, Document.created_at, cursor, limit)
    query = query.where(*_published(visibilities))
    return await _newest_first(session, query, Document.published_at, cursor, limit)


async def documents_of_funds(
    session: AsyncSession,
    fund_ids: Collection[UUID],
    *,
    visibilities: Collection[Visibility],
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Document], str | None]:
    """Published documents of ``fund_ids`` newest first, one page after ``cursor``."""
    if not fund_ids:
        return [], None
    query = select(Document).where(Document.fund_id.in_(list(fund_ids)), *_published(visibilities))
    return await _newest_first(session, query, Document.published_at, cursor, limit)


async def working_titles(
    session: AsyncSession, docs: Sequence[Document]
) -> dict[UUID, DocumentVersion]:
    """The latest version of each document (for the lists staff and the business see)."""
    if not docs:
        return {}
    rows = await session.scalars(
        select(DocumentVersion).where(
            tuple_(DocumentVersion.document_id, DocumentVersion.version).in_(
                [(d.id, d.current_version) for d in docs]
            )
        )
    )
    return {row.document_id: row for row in rows}


async def has_document(session: AsyncSession, fund_id: UUID, kind: str) -> bool:
    found = await session.scalar(
        select(exists().where(Document.fund_id == fund_id, Document.kind == kind))
    )
    return bool(found)
