"""Documents in the database: versions, their statuses, and whose documents a caller may handle."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal
from kumiai.problems import NotFound
from onboarding.db.models import Application, Document
from onboarding.documents import rules
from onboarding.documents.rules import DocumentStatus


async def readable_application(
    session: AsyncSession, application_id: UUID, principal: Principal, *, lock: bool = False
) -> Application:
    """The application whose documents ``principal`` may handle (``rules.may_read``); 404
    naming only its id otherwise. ``lock`` makes changes to its documents take turns."""
    application = await session.get(Application, application_id, with_for_update=lock)
    if application is None or not rules.may_read(principal, application):
        raise NotFound(f"no application {application_id}")
    return application


async def document_of(
    session: AsyncSession, application_id: UUID, document_id: UUID, *, lock: bool = False
) -> Document:
    """One version of a document of the application; 404 if it belongs to another."""
    doc = await session.get(Document, document_id, with_for_update=lock)
    if doc is None or doc.application_id != application_id:
        raise NotFound(f"no document {document_id}")
    return doc


async def current_statuses(
    session: AsyncSession, application_ids: Sequence[UUID]
) -> dict[UUID, dict[str, DocumentStatus]]:
    """The status of the latest version of each kind, per application."""
    if not application_ids:
        return {}
    rows = (
        await session.execute(
            select(Document.application_id, Document.kind, Document.status)
            .ext(distinct_on(Document.application_id, Document.kind))
            .where(Document.application_id.in_(application_ids))
            .order_by(Document.application_id, Document.kind, Document.version.desc())
        )
    ).all()
    out: dict[UUID, dict[str, DocumentStatus]] = {}
    for application_id, kind, status in rows:
        out.setdefault(application_id, {})[kind] = DocumentStatus(status)
    return out


async def latest(session: AsyncSession, application_id: UUID, kind: str) -> Document | None:
    """The newest version of one kind of document, if any."""
    return await session.scalar(
        select(Document)
        .where(Document.application_id == application_id, Document.kind == kind)
        .order_by(Document.version.desc())
        .limit(1)
    )


async def latest_of_each_kind(session: AsyncSession, application_id: UUID) -> dict[str, Document]:
    """The newest version of every kind the application has uploaded."""
    return {
        d.kind: d
        for d in await session.scalars(
            select(Document)
            .ext(distinct_on(Document.kind))
            .where(Document.application_id == application_id)
            .order_by(Document.kind, Document.version.desc())
        )
    }


async def versions(session: AsyncSession, application_id: UUID, kind: str) -> Sequence[Document]:
    """Every version of one kind, newest first."""
    return (
        await session.scalars(
            select(Document)
            .where(Document.application_id == application_id, Document.kind == kind)
            .order_by(Document.version.desc())
        )
    ).all()


async def insert(session: AsyncSession, doc: Document) -> None:
    """Write a new version; ``uq_documents_version`` refuses a second one of the same number."""
    session.add(doc)
    await session.flush()
    await session.refresh(doc)
