"""Documents of an application: upload (versioned), review, checklist, download."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.auth import Principal, Role
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, Forbidden, NotFound, UnprocessableContent
from onboarding import audit
from onboarding.db.models import Application, Document
from onboarding.domain.documents import (
    CHECKLIST,
    KINDS,
    DocumentStatus,
    ReviewRefused,
    check_replacement,
    check_review,
    missing_documents,
)
from onboarding.domain.pipeline import Step
from onboarding.schemas import ChecklistItemOut, ChecklistOut, DocumentOut, ReviewIn
from onboarding.storage import StoredDocument


class DocumentRefused(Conflict):
    problem = "document-refused"
    title = "The document cannot be changed that way"


class UnknownDocumentKind(NotFound):
    problem = "unknown-document-kind"
    title = "No such item on the document checklist"


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


def document_out(doc: Document) -> DocumentOut:
    return DocumentOut(
        id=doc.id,
        kind=doc.kind,
        version=doc.version,
        filename=doc.filename,
        content_type=doc.content_type,
        size=doc.size,
        sha256=doc.sha256,
        status=doc.status,
        review_reason=doc.review_reason,
        reviewed_by=doc.reviewed_by,
        reviewed_at=doc.reviewed_at,
        uploaded_by=doc.uploaded_by,
        uploaded_at=doc.uploaded_at,
    )


def may_handle_documents(principal: Principal, application: Application) -> bool:
    """Documents belong to the business and staff; partner banks never see them."""
    return principal.role is Role.STAFF or (
        principal.role is Role.MSME and principal.tenant == str(application.msme_id)
    )


async def _own_application(
    session: AsyncSession, application_id: UUID, principal: Principal, *, lock: bool = False
) -> Application:
    application = await session.get(Application, application_id, with_for_update=lock)
    if application is None or not may_handle_documents(principal, application):
        raise NotFound(f"no application {application_id}")
    return application


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise UnknownDocumentKind(f"{kind!r} is not on the checklist", kinds=list(KINDS))
    return kind


async def check_upload(
    uow: UnitOfWork, *, application_id: UUID, kind: str, principal: Principal
) -> None:
    """Refuse an upload before any byte is stored."""
    application = await _own_application(uow.session, application_id, principal)
    _kind(kind)
    if Step(application.step).terminal:
        raise DocumentRefused(f"the application is {application.step}")


async def record_upload(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    kind: str,
    filename: str,
    stored: StoredDocument,
    principal: Principal,
) -> DocumentOut:
    """Add the stored bytes as the next version of ``kind``; the previous one is superseded."""
    session = uow.session
    application = await _own_application(session, application_id, principal, lock=True)
    if Step(application.step).terminal:
        raise DocumentRefused(f"the application is {application.step}")
    latest = await session.scalar(
        select(Document)
        .where(Document.application_id == application_id, Document.kind == _kind(kind))
        .order_by(Document.version.desc())
        .limit(1)
    )
    try:
        check_replacement(None if latest is None else DocumentStatus(latest.status))
    except ReviewRefused as exc:
        raise DocumentRefused(str(exc)) from exc
    if latest is not None:
        latest.status = DocumentStatus.SUPERSEDED.value
    doc = Document(
        id=uuid.uuid4(),
        application_id=application_id,
        kind=kind,
        version=1 if latest is None else latest.version + 1,
        filename=filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        status=DocumentStatus.SUBMITTED.value,
        uploaded_by=principal.subject,
    )
    session.add(doc)
    await session.flush()
    await session.refresh(doc)
    await audit.record(
        uow,
        principal,
        "document.uploaded",
        "application",
        application_id,
        document_id=str(doc.id),
        kind=kind,
        version=doc.version,
        sha256=stored.sha256,
        size=stored.size,
    )
    return document_out(doc)


async def review(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    document_id: UUID,
    body: ReviewIn,
    principal: Principal,
) -> DocumentOut:
    """Staff accept the current version of a document, or reject it with a reason."""
    if principal.role is not Role.STAFF:
        raise Forbidden("only staff review documents")
    session = uow.session
    await _own_application(session, application_id, principal, lock=True)
    doc = await session.get(Document, document_id, with_for_update=True)
    if doc is None or doc.application_id != application_id:
        raise NotFound(f"no document {document_id}")
    if body.decision == "rejected" and not (body.reason and len(body.reason.strip()) >= 3):
        raise UnprocessableContent(
            "a rejection needs a reason the business can act on",
            invalid_params=[{"name": "body.reason", "reason": "required when rejecting"}],
        )
    try:
        check_review(DocumentStatus(doc.status))
    except ReviewRefused as exc:
        raise DocumentRefused(str(exc)) from exc
    doc.status = body.decision
    doc.review_reason = body.reason
    doc.reviewed_by = principal.subject
    doc.reviewed_at = datetime.now(UTC)
    await audit.record(
        uow,
        principal,
        f"document.{body.decision}",
        "application",
        application_id,
        document_id=str(doc.id),
        kind=doc.kind,
        version=doc.version,
        reason=body.reason,
    )
    await session.flush()
    return document_out(doc)


async def checklist(uow: UnitOfWork, *, application_id: UUID, principal: Principal) -> ChecklistOut:
    """Each checklist item with its latest version, and what is still missing."""
    session = uow.session
    await _own_application(session, application_id, principal)
    latest = {
        d.kind: d
        for d in await session.scalars(
            select(Document)
            .ext(distinct_on(Document.kind))
            .where(Document.application_id == application_id)
            .order_by(Document.kind, Document.version.desc())
        )
    }
    missing = missing_documents({k: DocumentStatus(d.status) for k, d in latest.items()})
    return ChecklistOut(
        items=[
            ChecklistItemOut(
                kind=item.kind,
                title=item.title,
                required=item.required,
                current=document_out(latest[item.kind]) if item.kind in latest else None,
            )
            for item in CHECKLIST
        ],
        missing=missing,
        complete=not missing,
    )


async def versions(
    uow: UnitOfWork, *, application_id: UUID, kind: str, principal: Principal
) -> list[DocumentOut]:
    """Every version of one checklist item, newest first."""
    await _own_application(uow.session, application_id, principal)
    rows = await uow.session.scalars(
        select(Document)
        .where(Document.application_id == application_id, Document.kind == _kind(kind))
        .order_by(Document.version.desc())
    )
    return [document_out(d) for d in rows]


async def for_download(
    uow: UnitOfWork, *, application_id: UUID, document_id: UUID, principal: Principal
) -> Document:
    """The document row, if ``principal`` may download it (the business itself or staff)."""
    await _own_application(uow.session, application_id, principal)
    doc = await uow.session.get(Document, document_id)
    if doc is None or doc.application_id != application_id:
        raise NotFound(f"no document {document_id}")
    return doc
