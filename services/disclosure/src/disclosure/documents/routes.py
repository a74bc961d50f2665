"""Disclosure documents: drafting and review, reading, My page, and the public's view."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from fastapi.responses import Response as RawResponse

from disclosure.documents import service
from disclosure.documents.rules import Action, DocumentFull, DocumentRefused, DocumentRetracted
from disclosure.documents.schemas import (
    DocumentEdit,
    DocumentIn,
    DocumentOut,
    DocumentSummary,
    ReasonIn,
    VersionOut,
)
from disclosure.settings import SettingsDep
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.files import FileStore, TooLarge, UnsupportedType
from kumiai.guard import LargeBody
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import BINARY, Filename, FileStream, file_headers, receive_file, upload_openapi

router = APIRouter(tags=["documents"])
public = APIRouter(prefix="/public", tags=["public documents"])

Author = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
Reader = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME, Role.INVESTOR))]
Investor = Annotated[Principal, Depends(require_roles(Role.INVESTOR))]

ATTACH_PATH = r"/documents/[^/]+/attachments"


def attachment_body(max_bytes: int) -> LargeBody:
    """The request guard's limit for attachments: the largest file accepted."""
    return LargeBody(method="POST", path=re.compile(ATTACH_PATH), max_bytes=max_bytes)


async def file_store(request: Request) -> FileStore:
    """The service's file store (set up by ``create_app``)."""
    store: FileStore = request.app.state.file_store
    return store


Files = Annotated[FileStore, Depends(file_store)]

_PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "The document as PDF", "content": {"application/pdf": BINARY}}
}

# ReasonIn's own example returns a document to draft; a retraction gives its own reason.
RETRACTION_EXAMPLES = {
    "retraction": {"value": {"reason": "The tasting was cancelled; a new date will follow"}}
}


@router.post(
    "/funds/{fund_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    summary="Draft a disclosure document",
    operation_id="create_document",
    responses=problems(
        Unauthorized, Forbidden, NotFound, UnprocessableContent, IdempotencyKeyReused
    ),
)
async def create_document(
    fund_id: UUID,
    body: DocumentIn,
    principal: Author,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Draft a new document of the fund (the business: fund news and notices; staff: any kind
    but those the service makes). It is version 1, in draft. A retried request with the same
    ``Idempotency-Key`` gets the same document, not a second one."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"create_document:{fund_id}",
            body=body,
            action=lambda: service.create(uow, fund_id=fund_id, body=body, principal=principal),
        )


@router.get(
    "/funds/{fund_id}/documents",
    response_model=Page[DocumentSummary],
    summary="List a fund's disclosure documents",
    operation_id="list_fund_documents",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def list_fund_documents(
    fund_id: UUID,
    principal: Reader,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DocumentSummary]:
    """The fund's documents the caller may see, newest first: drafts too for staff and the
    business; published ones for investors (investor-only ones if they hold or held units)."""
    async with uow:
        return await service.fund_documents(
            uow, fund_id=fund_id, principal=principal, cursor=cursor, limit=limit
        )


@router.get(
    "/documents/{document_id}",
    response_model=DocumentOut,
    summary="Get a disclosure document",
    operation_id="get_document",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_document(document_id: UUID, principal: Reader, uow: UnitOfWorkDep) -> DocumentOut:
    """A document: its latest version for staff and the business, the published one for
    readers (the read is recorded). A retracted one says why and shows no content."""
    async with uow:
        return await service.get(uow, document_id=document_id, principal=principal)


@router.put(
    "/documents/{document_id}",
    response_model=DocumentOut,
    summary="Edit a disclosure document",
    operation_id="edit_document",
    responses=problems(
        Unauthorized, Forbidden, NotFound, DocumentRefused, DocumentFull, UnprocessableContent
    ),
)
async def edit_document(
    document_id: UUID, body: DocumentEdit, principal: Author, uow: UnitOfWorkDep
) -> DocumentOut:
    """A new version (what is left out is kept). A published document is revised: readers
    keep the published version until the revision is published."""
    async with uow:
        return await service.edit(uow, document_id=document_id, body=body, principal=principal)


@router.get(
    "/documents/{document_id}/versions",
    response_model=list[VersionOut],
    summary="List a disclosure document's versions",
    operation_id="list_disclosure_document_versions",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def list_document_versions(
    document_id: UUID, principal: Author, uow: UnitOfWorkDep
) -> list[VersionOut]:
    """Every version, newest first, each with its SHA-256, author and time."""
    async with uow:
        return await service.versions(uow, document_id=document_id, principal=principal)


@router.post(
    "/documents/{document_id}/attachments",
    status_code=201,
    response_model=DocumentOut,
    summary="Attach a file to a disclosure document",
    operation_id="attach_file",
    openapi_extra=upload_openapi(service.ATTACHMENT_TYPES),
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        DocumentRefused,
        DocumentFull,
        TooLarge,
        UnsupportedType,
        UnprocessableContent,
    ),
)
async def attach_file(
    document_id: UUID,
    filename: Filename,
    request: Request,
    principal: Author,
    uow: UnitOfWorkDep,
    files: Files,
    settings: SettingsDep,
    content_type: Annotated[str, Header(max_length=200)],
) -> DocumentOut:
    """Attach a file (PDF, image or spreadsheet, checked on its content): a new version."""
    return await receive_file(
        uow,
        files=files,
        chunks=request.stream(),
        content_type=content_type,
        max_bytes=settings.attachment_max_bytes,
        accepted=service.ATTACHMENT_TYPES,
        check=lambda: service.check_attach(uow, document_id=document_id, principal=principal),
        record=lambda stored: service.attach(
            uow, document_id=document_id, filename=filename, stored=stored, principal=principal
        ),
    )


@router.delete(
    "/documents/{document_id}/attachments/{attachment_id}",
    response_model=DocumentOut,
    summary="Detach a file from a disclosure document",
    operation_id="detach_file",
    responses=problems(Unauthorized, Forbidden, NotFound, DocumentRefused, DocumentFull),
)
async def detach_file(
    document_id: UUID, attachment_id: UUID, principal: Author, uow: UnitOfWorkDep
) -> DocumentOut:
    """A new version without the attachment; earlier versions keep it."""
    async with uow:
        return await service.detach(
            uow, document_id=document_id, attachment_id=attachment_id, principal=principal
        )


@router.get(
    "/documents/{document_id}/attachments/{attachment_id}",
    summary="Download a disclosure document's attachment",
    operation_id="download_attachment",
    response_class=FileStream,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": BINARY}},
        **problems(Unauthorized, Forbidden, NotFound, DocumentRetracted),
    },
)
async def download_attachment(
    document_id: UUID, attachment_id: UUID, principal: Reader, uow: UnitOfWorkDep, files: Files
) -> FileStream:
    """A file of the version the caller may read (the read is recorded)."""
    return await _download(uow, files, document_id, attachment_id, principal)


async def _download(
    uow: UnitOfWorkDep,
    files: FileStore,
    document_id: UUID,
    attachment_id: UUID,
    principal: Principal | None,
) -> FileStream:
    async with uow:
        row = await service.attachment_for_download(
            uow, document_id=document_id, attachment_id=attachment_id, principal=principal
        )
    content = await service.open_content(files=files, row=row)
    return FileStream(
        content,
        media_type=row.content_type,
        headers=file_headers(row.filename, row.size, row.sha256),
    )


async def _pdf(uow: UnitOfWorkDep, document_id: UUID, principal: Principal | None) -> Response:
    async with uow:
        name, content = await service.pdf(uow, document_id=document_id, principal=principal)
    return RawResponse(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get(
    "/documents/{document_id}/pdf",
    summary="Render a disclosure document as PDF",
    operation_id="render_document_pdf",
    response_class=RawResponse,
    responses={**_PDF, **problems(Unauthorized, Forbidden, NotFound, DocumentRetracted)},
)
async def render_document_pdf(document_id: UUID, principal: Reader, uow: UnitOfWorkDep) -> Response:
    """The version the caller may read, rendered as PDF (Japanese text is extractable)."""
    return await _pdf(uow, document_id, principal)


async def _act(
    uow: UnitOfWorkDep, document_id: UUID, action: Action, body: ReasonIn | None, who: Principal
) -> DocumentOut:
    async with uow:
        return await service.act(
            uow,
            document_id=document_id,
            action=action,
            reason=body.reason if body else None,
            principal=who,
        )


_ACT = problems(Unauthorized, Forbidden, NotFound, DocumentRefused, UnprocessableContent)


@router.post(
    "/documents/{document_id}/submit",
    response_model=DocumentOut,
    summary="Submit a disclosure document for review",
    operation_id="submit_document",
    responses=_ACT,
)
async def submit_document(document_id: UUID, principal: Author, uow: UnitOfWorkDep) -> DocumentOut:
    """Send a draft for review (the business or staff)."""
    return await _act(uow, document_id, Action.SUBMIT, None, principal)


@router.post(
    "/documents/{document_id}/return",
    response_model=DocumentOut,
    summary="Return a disclosure document to draft",
    operation_id="return_document",
    responses=_ACT,
)
async def return_document(
    document_id: UUID, body: ReasonIn, principal: Staff, uow: UnitOfWorkDep
) -> DocumentOut:
    """Send a document in review back to draft, saying why (staff)."""
    return await _act(uow, document_id, Action.RETURN, body, principal)


@router.post(
    "/documents/{document_id}/publish",
    response_model=DocumentOut,
    summary="Publish a disclosure document",
    operation_id="publish_document",
    responses=_ACT,
)
async def publish_document(document_id: UUID, principal: Staff, uow: UnitOfWorkDep) -> DocumentOut:
    """Publish the version in review to its readers (staff)."""
    return await _act(uow, document_id, Action.PUBLISH, None, principal)


@router.post(
    "/documents/{document_id}/retract",
    response_model=DocumentOut,
    summary="Retract a published disclosure document",
    operation_id="retract_document",
    responses=_ACT,
)
async def retract_document(
    document_id: UUID,
    body: Annotated[ReasonIn, Body(openapi_examples=RETRACTION_EXAMPLES)],
    principal: Staff,
    uow: UnitOfWorkDep,
) -> DocumentOut:
    """Withdraw a published document, saying why; the record stays (staff)."""
    return await _act(uow, document_id, Action.RETRACT, body, principal)


@router.get(
    "/me/documents",
    response_model=Page[DocumentSummary],
    summary="List the documents of the investor's funds",
    operation_id="list_my_documents",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_my_documents(
    principal: Investor, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[DocumentSummary]:
    """My page: the published documents of every fund the investor holds or held, newest
    first, each marked unread until opened."""
    async with uow:
        return await service.my_documents(uow, principal=principal, cursor=cursor, limit=limit)


# -- the public --------------------------------------------------------------------------


@public.get(
    "/funds/{fund_id}/documents",
    response_model=Page[DocumentSummary],
    summary="List a fund's public documents",
    operation_id="list_public_documents",
    responses=problems(NotFound, BadCursor),
)
async def list_public_documents(
    fund_id: UUID, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[DocumentSummary]:
    """The fund's published public documents, newest first (no login)."""
    async with uow:
        return await service.public_documents(uow, fund_id=fund_id, cursor=cursor, limit=limit)


@public.get(
    "/funds/{fund_id}/news.atom",
    summary="Get a fund's public news feed (Atom)",
    operation_id="fund_news_feed",
    response_class=RawResponse,
    responses={
        200: {"description": "Atom feed", "content": {"application/atom+xml": {}}},
        **problems(NotFound),
    },
)
async def fund_news_feed(fund_id: UUID, uow: UnitOfWorkDep, settings: SettingsDep) -> Response:
    """The fund's public news as an Atom feed, newest first."""
    async with uow:
        feed = await service.news_feed(uow, fund_id=fund_id, base_url=settings.public_base_url)
    return RawResponse(feed, media_type="application/atom+xml; charset=utf-8")


@public.get(
    "/documents/{document_id}",
    response_model=DocumentOut,
    summary="Get a public document",
    operation_id="get_public_document",
    responses=problems(NotFound),
)
async def get_public_document(document_id: UUID, uow: UnitOfWorkDep) -> DocumentOut:
    """A published public document (no login)."""
    async with uow:
        return await service.get(uow, document_id=document_id, principal=None)


@public.get(
    "/documents/{document_id}/pdf",
    summary="Render a public document as PDF",
    operation_id="render_public_document_pdf",
    response_class=RawResponse,
    responses={**_PDF, **problems(NotFound, DocumentRetracted)},
)
async def render_public_document_pdf(document_id: UUID, uow: UnitOfWorkDep) -> Response:
    """A published public document as PDF (no login)."""
    return await _pdf(uow, document_id, None)


@public.get(
    "/documents/{document_id}/attachments/{attachment_id}",
    summary="Download a public document's attachment",
    operation_id="download_public_attachment",
    response_class=FileStream,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": BINARY}},
        **problems(NotFound, DocumentRetracted),
    },
)
async def download_public_attachment(
    document_id: UUID, attachment_id: UUID, uow: UnitOfWorkDep, files: Files
) -> FileStream:
    """A file of a published public document (no login)."""
    return await _download(uow, files, document_id, attachment_id, None)
