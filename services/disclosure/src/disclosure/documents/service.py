"""Disclosure documents: drafting, versions, attachments, review, reading, and the documents
the service makes itself (the offering document, approved reports, distribution notices)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from disclosure.annual.layout import annual_report_layout, facts_of
from disclosure.audit import service as audit
from disclosure.audit.rules import AuditEntity
from disclosure.db.models import Attachment, Document, DocumentRead, DocumentVersion, Fund
from disclosure.distributions.layout import notice_facts_of, notice_layout
from disclosure.documents import rules, store
from disclosure.documents.feed import FeedEntry, atom_feed
from disclosure.documents.layout import document_layout
from disclosure.documents.rules import Action, DocumentKind, DocumentStatus, Reader, Visibility
from disclosure.documents.schemas import (
    AttachmentOut,
    DocumentEdit,
    DocumentIn,
    DocumentOut,
    DocumentSummary,
    VersionOut,
)
from disclosure.documents.terms import offering_layout
from disclosure.funds import rules as fund_rules
from disclosure.funds import service as funds
from kumiai.contracts.onboarding import FundOpened, FundOpenedV2
from kumiai.db import UnitOfWork
from kumiai.files import CSV, GIF, JPEG, PDF, PNG, WEBP, XLSX, FileStore, StoredFile, accept
from kumiai.pagination import Page
from kumiai.pdf import render_pdf
from kumiai.principal import Principal, Role
from kumiai.problems import NotFound

log = structlog.get_logger(__name__)

THE_SERVICE = Principal(subject="disclosure", role=Role.SERVICE, tenant="disclosure")
"""Who the records name as the author of what the service makes itself."""

TERMS_IDENTITY = frozenset(
    {"fund_id", "msme_id", "application_id", "municipality_code", "terms_digest"}
)
"""Fields of ``FundOpened`` that identify the fund rather than state a term."""


PRIVATE_TERMS = frozenset({"application_id"})
"""Fields of ``FundOpened`` a public document does not show: onboarding's own reference."""


class UnknownDocument(NotFound):
    problem = "unknown-document"
    title = "No such document"


# -- what a caller is to a fund ----------------------------------------------------------


async def reader_of(uow: UnitOfWork, principal: Principal | None, fund: Fund) -> Reader:
    """The caller as the access rules see it: staff, the fund's business, a holder, or not."""
    if principal is None:
        return Reader(None)
    return Reader(
        principal,
        business=fund_rules.is_business_of(principal, fund.msme_id),
        holder=await funds.holds(uow, principal=principal, fund_id=fund.fund_id),
    )


async def _readable(
    uow: UnitOfWork, document_id: UUID, principal: Principal | None, *, lock: bool = False
) -> tuple[Document, Fund, Reader]:
    """The document if the caller may read some version of it; 404 naming only its id."""
    doc = await store.document(uow.session, document_id, lock=lock)
    if doc is None:
        raise UnknownDocument(f"no document {document_id}")
    fund = await funds.fund_of(uow, doc.fund_id)
    reader = await reader_of(uow, principal, fund)
    working = await store.version(uow.session, doc.id, doc.current_version)
    assert working is not None
    may = rules.may_read_working(reader, Visibility(working.visibility)) or (
        doc.published_visibility is not None
        and rules.may_read_published(reader, Visibility(doc.published_visibility))
    )
    if not may:
        raise UnknownDocument(f"no document {document_id}")
    return doc, fund, reader


async def _shown_version(uow: UnitOfWork, doc: Document, reader: Reader) -> DocumentVersion | None:
    """The version the reader gets: the latest for staff and the business, else the published."""
    working = await store.version(uow.session, doc.id, doc.current_version)
    assert working is not None
    if rules.may_read_working(reader, Visibility(working.visibility)):
        return working
    if doc.published_version is None:
        return None
    return await store.version(uow.session, doc.id, doc.published_version)


def version_out(row: DocumentVersion) -> VersionOut:
    return VersionOut(
        version=row.version,
        title=row.title,
        body=row.body,
        visibility=Visibility(row.visibility),
        sha256=row.sha256,
        attachments=[AttachmentOut.model_validate(a) for a in row.attachments],
        data=row.data,
        author=row.author,
        author_role=row.author_role,
        created_at=row.created_at,
    )


def document_out(doc: Document, shown: DocumentVersion | None, reader: Reader) -> DocumentOut:
    content = shown if rules.sees_content(reader, DocumentStatus(doc.status)) else None
    return DocumentOut(
        id=doc.id,
        fund_id=doc.fund_id,
        kind=DocumentKind(doc.kind),
        status=DocumentStatus(doc.status),
        shown=version_out(content) if content is not None else None,
        current_version=doc.current_version,
        published_version=doc.published_version,
        published_at=doc.published_at,
        return_reason=doc.return_reason,
        retraction_reason=doc.retraction_reason,
        retracted_at=doc.retracted_at,
    )


# -- drafting ----------------------------------------------------------------------------


async def create(
    uow: UnitOfWork, *, fund_id: UUID, body: DocumentIn, principal: Principal
) -> DocumentOut:
    """A new document of the fund, as its first draft version."""
    fund = await funds.fund_of(uow, fund_id)
    reader = await reader_of(uow, principal, fund)
    if not (reader.staff or reader.business):
        raise funds.UnknownFund(f"no fund {fund_id}")
    rules.check_author(principal, body.kind, business=reader.business)
    rules.check_visibility_choice(principal, body.visibility)
    doc = Document(
        id=uuid.uuid4(),
        fund_id=fund_id,
        kind=body.kind.value,
        status=DocumentStatus.DRAFT.value,
        current_version=1,
        created_by=principal.subject,
    )
    version = _version(doc, 1, body.title, body.body, body.visibility, [], principal)
    await store.add(uow.session, doc)
    await store.add(uow.session, version)
    await audit.record(
        uow,
        principal=principal,
        action="document.drafted",
        entity=AuditEntity.DOCUMENT,
        entity_id=doc.id,
        fund_id=str(fund_id),
        kind=body.kind.value,
        version=1,
        sha256=version.sha256,
    )
    return document_out(doc, version, reader)


def _version(
    doc: Document,
    number: int,
    title: str,
    body: str,
    visibility: Visibility,
    attachments: list[dict[str, Any]],
    principal: Principal,
    data: dict[str, Any] | None = None,
    *,
    sha256: str | None = None,
) -> DocumentVersion:
    return DocumentVersion(
        document_id=doc.id,
        version=number,
        title=title,
        body=body,
        visibility=visibility.value,
        sha256=sha256 or rules.digest(body),
        attachments=attachments,
        data=data,
        author=principal.subject,
        author_role=principal.role.value,
        created_at=datetime.now(UTC),
    )


async def _new_version(
    uow: UnitOfWork,
    doc: Document,
    reader: Reader,
    principal: Principal,
    *,
    action: str,
    title: str | None = None,
    body: str | None = None,
    visibility: Visibility | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> DocumentOut:
    """Write the next version, the rest kept from the current one; a published document goes
    back to draft (a revision) while readers keep seeing what was published."""
    rules.check_editor(principal, business=reader.business)
    doc.status = rules.check_editable(DocumentStatus(doc.status)).value
    current = await store.version(uow.session, doc.id, doc.current_version)
    assert current is not None
    if visibility is not None:
        rules.check_visibility_choice(principal, visibility)
    number = rules.next_version(doc.current_version)
    version = _version(
        doc,
        number,
        title if title is not None else current.title,
        body if body is not None else current.body,
        visibility or Visibility(current.visibility),
        attachments if attachments is not None else current.attachments,
        principal,
    )
    doc.current_version = number
    doc.return_reason = None
    await store.add(uow.session, version)
    await audit.record(
        uow,
        principal=principal,
        action=action,
        entity=AuditEntity.DOCUMENT,
        entity_id=doc.id,
        version=number,
        sha256=version.sha256,
        attachments=[a["sha256"] for a in version.attachments],
    )
    return document_out(doc, version, reader)


async def edit(
    uow: UnitOfWork, *, document_id: UUID, body: DocumentEdit, principal: Principal
) -> DocumentOut:
    """A new version of the document's text or visibility."""
    doc, _, reader = await _readable(uow, document_id, principal, lock=True)
    return await _new_version(
        uow,
        doc,
        reader,
        principal,
        action="document.edited",
        title=body.title,
        body=body.body,
        visibility=body.visibility,
    )


async def check_attach(uow: UnitOfWork, *, document_id: UUID, principal: Principal) -> None:
    """Refuse an attachment before any byte is stored."""
    doc, _, reader = await _readable(uow, document_id, principal)
    rules.check_editor(principal, business=reader.business)
    rules.check_editable(DocumentStatus(doc.status))
    current = await store.version(uow.session, doc.id, doc.current_version)
    assert current is not None
    rules.check_room_for_attachment(len(current.attachments))
    rules.next_version(doc.current_version)


ATTACHMENT_TYPES: frozenset[str] = accept(PDF, JPEG, PNG, GIF, WEBP, CSV, XLSX)
"""What a document may carry: PDFs, photos and spreadsheets, checked on their content."""


async def attach(
    uow: UnitOfWork,
    *,
    document_id: UUID,
    filename: str,
    stored: StoredFile,
    principal: Principal,
) -> DocumentOut:
    """Add the stored file to the document: a new version that carries it."""
    doc, _, reader = await _readable(uow, document_id, principal, lock=True)
    current = await store.version(uow.session, doc.id, doc.current_version)
    assert current is not None
    rules.check_room_for_attachment(len(current.attachments))
    row = Attachment(
        id=uuid.uuid4(),
        document_id=doc.id,
        filename=filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by=principal.subject,
    )
    await store.add(uow.session, row)
    listed = AttachmentOut.model_validate(row, from_attributes=True).model_dump(mode="json")
    return await _new_version(
        uow,
        doc,
        reader,
        principal,
        action="document.attached",
        attachments=[*current.attachments, listed],
    )


async def detach(
    uow: UnitOfWork, *, document_id: UUID, attachment_id: UUID, principal: Principal
) -> DocumentOut:
    """A new version without the attachment (earlier versions keep it)."""
    doc, _, reader = await _readable(uow, document_id, principal, lock=True)
    current = await store.version(uow.session, doc.id, doc.current_version)
    assert current is not None
    kept = [a for a in current.attachments if a["id"] != str(attachment_id)]
    if len(kept) == len(current.attachments):
        raise NotFound(f"no attachment {attachment_id} in the current version")
    return await _new_version(
        uow, doc, reader, principal, action="document.detached", attachments=kept
    )


# -- review ------------------------------------------------------------------------------


async def act(
    uow: UnitOfWork,
    *,
    document_id: UUID,
    action: Action,
    reason: str | None,
    principal: Principal,
) -> DocumentOut:
    """Submit a draft, return it with a reason, publish it, or retract a published one."""
    doc, _, reader = await _readable(uow, document_id, principal, lock=True)
    rules.check_actor(principal, action, business=reader.business)
    reason = rules.check_reason(action, reason)
    after = rules.transition(
        DocumentStatus(doc.status), action, ever_published=doc.published_version is not None
    )
    now = datetime.now(UTC)
    doc.status = after.value
    if action is Action.RETURN:
        doc.return_reason = reason
    if action is Action.PUBLISH:
        current = await store.version(uow.session, doc.id, doc.current_version)
        assert current is not None
        _publish(doc, current, principal, now)
    if action is Action.RETRACT:
        doc.retracted_at, doc.retracted_by, doc.retraction_reason = now, principal.subject, reason
    await audit.record(
        uow,
        principal=principal,
        action=f"document.{action.value}",
        entity=AuditEntity.DOCUMENT,
        entity_id=doc.id,
        version=doc.current_version,
        reason=reason,
    )
    await uow.session.flush()
    return document_out(doc, await _shown_version(uow, doc, reader), reader)


def _publish(doc: Document, version: DocumentVersion, principal: Principal, now: datetime) -> None:
    doc.status = DocumentStatus.PUBLISHED.value
    doc.published_version = version.version
    doc.published_title = version.title
    doc.published_visibility = version.visibility
    doc.published_at = now
    doc.published_by = principal.subject
    doc.return_reason = None


async def publish_made(
    uow: UnitOfWork,
    *,
    fund_id: UUID,
    kind: DocumentKind,
    title: str,
    body: str,
    visibility: Visibility,
    data: dict[str, Any] | None,
    principal: Principal = THE_SERVICE,
    sha256: str | None = None,
) -> UUID:
    """A document the service makes from what it knows, published as made; its id."""
    now = datetime.now(UTC)
    doc = Document(
        id=uuid.uuid4(),
        fund_id=fund_id,
        kind=kind.value,
        status=DocumentStatus.PUBLISHED.value,
        current_version=1,
        created_by=principal.subject,
    )
    version = _version(doc, 1, title, body, visibility, [], principal, data, sha256=sha256)
    _publish(doc, version, principal, now)
    await store.add(uow.session, doc)
    await store.add(uow.session, version)
    await audit.record(
        uow,
        principal=principal,
        action="document.published",
        entity=AuditEntity.DOCUMENT,
        entity_id=doc.id,
        fund_id=str(fund_id),
        kind=kind.value,
        version=1,
        sha256=version.sha256,
    )
    return doc.id


def canonical_terms(event: FundOpenedV2) -> str:
    """The terms as onboarding digested them: canonical JSON of every term (no identifiers)."""
    terms = {k: v for k, v in event.model_dump(mode="json").items() if k not in TERMS_IDENTITY}
    return json.dumps(terms, sort_keys=True, separators=(",", ":"))


async def publish_offering_document(uow: UnitOfWork, *, event: FundOpenedV2) -> None:
    """On ``FundOpened``: the offering document, made from the terms and published to all.

    Its body is the canonical terms, so its SHA-256 is the terms digest investors
    acknowledge when they subscribe.
    """
    if await store.has_document(uow.session, event.fund_id, DocumentKind.OFFERING_DOCUMENT):
        return
    body = canonical_terms(event)
    if rules.digest(body) != event.terms_digest:
        log.warning("offering terms do not reproduce their digest", fund_id=str(event.fund_id))
    await publish_made(
        uow,
        fund_id=event.fund_id,
        kind=DocumentKind.OFFERING_DOCUMENT,
        title=f"募集要項 / Offering document: {event.name}",
        body=body,
        visibility=Visibility.PUBLIC,
        data=event.model_dump(mode="json", exclude=set(PRIVATE_TERMS)),
    )


# -- reading -----------------------------------------------------------------------------


async def _record_read(
    uow: UnitOfWork, doc: Document, version: int, reader: Reader, what: str
) -> None:
    visibility = Visibility(doc.published_visibility or Visibility.STAFF.value)
    if reader.principal is not None and rules.read_is_recorded(reader, visibility):
        await store.add(
            uow.session,
            DocumentRead(
                document_id=doc.id,
                version=version,
                reader=reader.principal.subject
                if reader.principal.role is not Role.INVESTOR
                else reader.principal.tenant,
                reader_role=reader.principal.role.value,
                what=what,
            ),
        )


async def get(uow: UnitOfWork, *, document_id: UUID, principal: Principal | None) -> DocumentOut:
    """The document as the caller may see it; the read is recorded where the rules say."""
    doc, _, reader = await _readable(uow, document_id, principal)
    shown = await _shown_version(uow, doc, reader)
    if shown is not None and rules.sees_content(reader, DocumentStatus(doc.status)):
        await _record_read(uow, doc, shown.version, reader, "document")
    return document_out(doc, shown, reader)


async def readable_content(
    uow: UnitOfWork, *, document_id: UUID, principal: Principal | None, what: str
) -> tuple[Document, DocumentVersion]:
    """The version whose content the caller may have (for a PDF or an attachment); 410 once
    the document is retracted, for readers."""
    doc, _, reader = await _readable(uow, document_id, principal)
    if not rules.sees_content(reader, DocumentStatus(doc.status)):
        raise rules.DocumentRetracted(doc.retraction_reason or "retracted")
    shown = await _shown_version(uow, doc, reader)
    if shown is None:
        raise UnknownDocument(f"no document {document_id}")
    await _record_read(uow, doc, shown.version, reader, what)
    return doc, shown


async def attachment_for_download(
    uow: UnitOfWork, *, document_id: UUID, attachment_id: UUID, principal: Principal | None
) -> Attachment:
    """An attachment of the version the caller may read."""
    _, shown = await readable_content(
        uow, document_id=document_id, principal=principal, what=f"attachment:{attachment_id}"
    )
    if not any(a["id"] == str(attachment_id) for a in shown.attachments):
        raise NotFound(f"no attachment {attachment_id}")
    row = await store.attachment(uow.session, document_id, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    return row


async def open_content(*, files: FileStore, row: Attachment) -> AsyncIterator[bytes]:
    try:
        return await files.open(row.storage_key)
    except KeyError as exc:
        raise NotFound(f"the file of attachment {row.id} is missing") from exc


async def versions(uow: UnitOfWork, *, document_id: UUID, principal: Principal) -> list[VersionOut]:
    """Every version, newest first: for staff and the business (readers get 404)."""
    doc, _, reader = await _readable(uow, document_id, principal)
    working = await store.version(uow.session, doc.id, doc.current_version)
    assert working is not None
    if not rules.may_read_working(reader, Visibility(working.visibility)):
        raise UnknownDocument(f"no document {document_id}")
    return [version_out(v) for v in await store.versions(uow.session, doc.id)]


def _summary(
    doc: Document, version: DocumentVersion | None, unread: bool | None
) -> DocumentSummary:
    return DocumentSummary(
        id=doc.id,
        fund_id=doc.fund_id,
        kind=DocumentKind(doc.kind),
        status=DocumentStatus(doc.status),
        title=version.title if version is not None else (doc.published_title or ""),
        visibility=Visibility(
            version.visibility if version is not None else doc.published_visibility or "staff"
        ),
        published_at=doc.published_at,
        version=version.version if version is not None else (doc.published_version or 0),
        unread=unread,
    )


async def fund_documents(
    uow: UnitOfWork, *, fund_id: UUID, principal: Principal | None, cursor: str | None, limit: int
) -> Page[DocumentSummary]:
    """The fund's documents the caller may see: every one, newest first, for staff and the
    business (drafts too); the published ones it may read, newest first, for others."""
    fund = await funds.fund_of(uow, fund_id)
    reader = await reader_of(uow, principal, fund)
    if reader.staff or reader.business:
        docs, next_cursor = await store.fund_documents(
            uow.session, fund_id, working=True, visibilities=(), cursor=cursor, limit=limit
        )
        latest = await store.working_titles(uow.session, docs)
        items = [
            _summary(d, latest[d.id], None)
            for d in docs
            if rules.may_read_working(reader, Visibility(latest[d.id].visibility))
        ]
        return Page[DocumentSummary](items=items, next_cursor=next_cursor)
    visible = [v for v in Visibility if rules.may_read_published(reader, v)]
    docs, next_cursor = await store.fund_documents(
        uow.session, fund_id, working=False, visibilities=visible, cursor=cursor, limit=limit
    )
    return Page[DocumentSummary](
        items=[_summary(d, None, None) for d in docs], next_cursor=next_cursor
    )


async def my_documents(
    uow: UnitOfWork, *, principal: Principal, cursor: str | None, limit: int
) -> Page[DocumentSummary]:
    """An investor's "My page": published documents of the funds it holds or held, newest
    first, each marked unread until the investor opened that version."""
    investor = funds.investor_id(principal)
    held = await funds.funds_held(uow, investor=investor) if investor else []
    docs, next_cursor = await store.documents_of_funds(
        uow.session,
        held,
        visibilities=(Visibility.PUBLIC, Visibility.INVESTORS),
        cursor=cursor,
        limit=limit,
    )
    pairs = [(d.id, d.published_version or 0) for d in docs]
    unread = await store.unread_of(uow.session, principal.tenant, pairs)
    return Page[DocumentSummary](
        items=[_summary(d, None, (d.id, d.published_version or 0) in unread) for d in docs],
        next_cursor=next_cursor,
    )


async def public_documents(
    uow: UnitOfWork, *, fund_id: UUID, cursor: str | None, limit: int
) -> Page[DocumentSummary]:
    """The fund's published public documents, newest first (no login)."""
    return await fund_documents(uow, fund_id=fund_id, principal=None, cursor=cursor, limit=limit)


FEED_SIZE = 50


async def news_feed(uow: UnitOfWork, *, fund_id: UUID, base_url: str) -> bytes:
    """The Atom feed of the fund's public news, newest first."""
    fund = await funds.fund_of(uow, fund_id)
    docs, _ = await store.fund_documents(
        uow.session,
        fund_id,
        working=False,
        visibilities=(Visibility.PUBLIC,),
        cursor=None,
        limit=FEED_SIZE,
    )
    news = [d for d in docs if d.kind == DocumentKind.FUND_NEWS.value]
    shown = {d.id: await store.version(uow.session, d.id, d.published_version or 0) for d in news}
    base = base_url.rstrip("/")
    entries = [
        FeedEntry(
            id=f"urn:uuid:{d.id}",
            title=d.published_title or "",
            summary=(shown[d.id].body[:500] if shown[d.id] is not None else ""),  # type: ignore[union-attr]
            link=f"{base}/public/documents/{d.id}",
            published=d.published_at or d.created_at,
            updated=d.published_at or d.created_at,
        )
        for d in news
    ]
    return atom_feed(
        feed_id=f"urn:uuid:{fund_id}",
        title=f"{fund.name} — ファンドニュース / Fund news",
        link=f"{base}/public/funds/{fund_id}/documents",
        self_link=f"{base}/public/funds/{fund_id}/news.atom",
        updated=max((e.updated for e in entries), default=fund.created_at),
        entries=entries,
    )


async def pdf(
    uow: UnitOfWork, *, document_id: UUID, principal: Principal | None
) -> tuple[str, bytes]:
    """The document rendered as a PDF (Japanese text embedded as text); its file name too."""
    doc, shown = await readable_content(
        uow, document_id=document_id, principal=principal, what="pdf"
    )
    fund = await funds.fund_of(uow, doc.fund_id)
    kind = DocumentKind(doc.kind)
    footer = f"v{shown.version} · SHA-256 {shown.sha256[:16]}…"
    if kind is DocumentKind.OFFERING_DOCUMENT and shown.data is not None:
        # The layout does not show the application; the document does not keep it.
        terms = {**shown.data, "application_id": str(UUID(int=0))}
        layout = offering_layout(FundOpened.model_validate(terms), footer=footer)
    elif kind is DocumentKind.ANNUAL_REPORT and shown.data is not None:
        layout = annual_report_layout(facts_of(shown.data), footer=footer)
    elif kind is DocumentKind.DISTRIBUTION_NOTICE and shown.data is not None:
        layout = notice_layout(notice_facts_of(shown.data), footer=footer)
    else:
        kind_ja, kind_en = rules.KIND_NAMES[kind]
        layout = document_layout(
            kind_ja=kind_ja,
            kind_en=kind_en,
            title=shown.title,
            body=shown.body,
            fund_name=fund.name or "",
            footer=footer,
        )
    return f"{kind.value}-{doc.id}-v{shown.version}.pdf", await asyncio.to_thread(
        render_pdf, layout
    )
