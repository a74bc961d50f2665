"""Documents of an application: upload (versioned), review, checklist, download."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from uuid import UUID

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.files import FileStore, StoredFile
from kumiai.problems import NotFound
from onboarding.applications.rules import Step
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.db.models import Document
from onboarding.documents import rules, store
from onboarding.documents.rules import CHECKLIST, DocumentStatus
from onboarding.documents.schemas import ChecklistItemOut, ChecklistOut, DocumentOut, ReviewIn


def document_out(doc: Document) -> DocumentOut:
    """One version of a document as answered (never its storage key)."""
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


async def current_statuses(
    uow: UnitOfWork, *, application_ids: Sequence[UUID]
) -> dict[UUID, dict[str, DocumentStatus]]:
    """Where each checklist item of each application stands (its latest version's status)."""
    return await store.current_statuses(uow.session, application_ids)


async def complete(uow: UnitOfWork, *, application_id: UUID) -> bool:
    """Whether every required checklist document of the application has been accepted."""
    statuses = await current_statuses(uow, application_ids=[application_id])
    return not rules.missing_documents(statuses.get(application_id, {}))


async def check_upload(
    uow: UnitOfWork, *, application_id: UUID, kind: str, principal: Principal
) -> None:
    """Refuse an upload before any byte is stored."""
    application = await store.readable_application(uow.session, application_id, principal)
    rules.check_kind(kind)
    rules.check_open(Step(application.step))


async def record_upload(
    uow: UnitOfWork,
    *,
    application_id: UUID,
    kind: str,
    filename: str,
    stored: StoredFile,
    principal: Principal,
) -> DocumentOut:
    """Add the stored bytes as the next version of ``kind``; the previous one is superseded."""
    session = uow.session
    application = await store.readable_application(session, application_id, principal, lock=True)
    rules.check_open(Step(application.step))
    latest = await store.latest(session, application_id, rules.check_kind(kind))
    rules.check_replacement(None if latest is None else DocumentStatus(latest.status))
    if latest is not None:
        latest.status = DocumentStatus.SUPERSEDED.value
    doc = Document(
        id=uuid.uuid4(),
        application_id=application_id,
        kind=kind,
        version=rules.next_version(None if latest is None else latest.version),
        filename=filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        status=DocumentStatus.SUBMITTED.value,
        uploaded_by=principal.subject,
    )
    await store.insert(session, doc)
    await audit.record(
        uow,
        principal=principal,
        action="document.uploaded",
        entity=AuditEntity.APPLICATION,
        entity_id=application_id,
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
    rules.check_reviewer(principal)
    session = uow.session
    await store.readable_application(session, application_id, principal, lock=True)
    doc = await store.document_of(session, application_id, document_id, lock=True)
    decision = DocumentStatus(body.decision)
    rules.check_rejection_reason(decision, body.reason)
    rules.check_review(DocumentStatus(doc.status))
    doc.status = decision.value
    doc.review_reason = body.reason
    doc.reviewed_by = principal.subject
    doc.reviewed_at = datetime.now(UTC)
    await audit.record(
        uow,
        principal=principal,
        action=f"document.{decision.value}",
        entity=AuditEntity.APPLICATION,
        entity_id=application_id,
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
    await store.readable_application(session, application_id, principal)
    latest = await store.latest_of_each_kind(session, application_id)
    missing = rules.missing_documents({k: DocumentStatus(d.status) for k, d in latest.items()})
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
    await store.readable_application(uow.session, application_id, principal)
    rows = await store.versions(uow.session, application_id, rules.check_kind(kind))
    return [document_out(d) for d in rows]


async def for_download(
    uow: UnitOfWork, *, application_id: UUID, kind: str, document_id: UUID, principal: Principal
) -> Document:
    """The document row, if ``principal`` may download it (the business itself or staff)."""
    await store.readable_application(uow.session, application_id, principal)
    doc = await store.document_of(uow.session, application_id, document_id)
    if doc.kind != kind:
        raise NotFound(f"no {kind} document {document_id}")
    return doc


async def open_content(*, files: FileStore, doc: Document) -> AsyncIterator[bytes]:
    """The bytes of a document's file; 404 if the file has gone missing from the store."""
    try:
        return await files.open(doc.storage_key)
    except KeyError as exc:
        raise NotFound(f"the file of document {doc.id} is missing") from exc
