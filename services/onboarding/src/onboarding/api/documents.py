"""Documents of an application: upload, checklist, review, download."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import anyio
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator
from starlette.types import Receive

from kumiai.errors import (
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    UnprocessableContent,
    problems,
)
from kumiai.guard import LargeBody
from kumiai.service import UnitOfWorkDep
from onboarding import documents
from onboarding.api.deps import DocumentHandler, SettingsDep, Staff, StoreDep
from onboarding.domain.documents import MAX_FILENAME, InvalidFilename, check_filename
from onboarding.schemas import ChecklistOut, DocumentOut, ReviewIn
from onboarding.storage import (
    ALLOWED_CONTENT_TYPES,
    ContentTypeRefused,
    DocumentTooLarge,
    EmptyDocument,
)

router = APIRouter(prefix="/applications/{application_id}/documents", tags=["documents"])

UPLOAD_PATH = re.compile(r"/applications/[^/]+/documents/[^/]+")
"""Where files are uploaded: the one route that takes a body larger than the default."""


def upload_body(max_bytes: int) -> LargeBody:
    """The request guard's limit for uploads: the largest document accepted."""
    return LargeBody(method="POST", path=UPLOAD_PATH, max_bytes=max_bytes)


class TooLarge(ProblemError):
    status = 413
    problem = "document-too-large"
    title = "The document is larger than allowed"


class UnsupportedType(ProblemError):
    status = 415
    problem = "unsupported-media-type"
    title = "This kind of file is not accepted"


_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": dict.fromkeys(sorted(ALLOWED_CONTENT_TYPES), _BINARY),
    }
}


def _filename(name: str) -> str:
    try:
        return check_filename(name)
    except InvalidFilename as exc:
        raise ValueError(str(exc)) from None


Filename = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_FILENAME,
        description="The file's name as the business knows it: no folders, no control "
        "or formatting characters",
    ),
    AfterValidator(_filename),
]
Kind = Annotated[str, Path(max_length=64, description="A kind on the document checklist")]


class DocumentStream(StreamingResponse):
    """A stored file, streamed to the caller."""

    async def listen_for_disconnect(self, receive: Receive) -> None:
        # The request guard hands the app a replay of the request that never reports a
        # disconnect, so polling it would keep the event loop busy; the stream ends
        # when the file does.
        await anyio.sleep_forever()


@router.post(
    "/{kind}",
    status_code=201,
    response_model=DocumentOut,
    operation_id="upload_document",
    openapi_extra=_UPLOAD_BODY,
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        documents.DocumentRefused,
        TooLarge,
        UnsupportedType,
        UnprocessableContent,
    ),
)
async def upload_document(
    application_id: UUID,
    kind: Kind,
    filename: Filename,
    request: Request,
    principal: DocumentHandler,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
    content_type: Annotated[str, Header(max_length=200)],
) -> DocumentOut:
    """Upload the next version of a checklist document (the business itself or staff).

    The body is the file itself, up to the service's document limit (413 beyond
    it, before anything is stored). Its SHA-256 is recorded; a rejected or
    unreviewed version may be replaced, an accepted one may not.
    """
    async with uow:
        await documents.check_upload(
            uow, application_id=application_id, kind=kind, principal=principal
        )
    try:
        stored = await store.put(
            request.stream(), content_type=content_type, max_bytes=settings.document_max_bytes
        )
    except DocumentTooLarge as exc:
        raise TooLarge(str(exc), limit=exc.limit) from exc
    except ContentTypeRefused as exc:
        raise UnsupportedType(str(exc), accepted=sorted(ALLOWED_CONTENT_TYPES)) from exc
    except EmptyDocument as exc:
        raise UnprocessableContent(str(exc)) from exc
    try:
        async with uow:
            return await documents.record_upload(
                uow,
                application_id=application_id,
                kind=kind,
                filename=filename,
                stored=stored,
                principal=principal,
            )
    except BaseException:
        await store.delete(stored.key)
        raise


@router.get(
    "",
    response_model=ChecklistOut,
    operation_id="get_document_checklist",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_checklist(
    application_id: UUID, principal: DocumentHandler, uow: UnitOfWorkDep
) -> ChecklistOut:
    """The checklist with the latest version of each document and what is missing."""
    async with uow:
        return await documents.checklist(uow, application_id=application_id, principal=principal)


@router.get(
    "/{kind}/versions",
    response_model=list[DocumentOut],
    operation_id="list_document_versions",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def list_versions(
    application_id: UUID, kind: Kind, principal: DocumentHandler, uow: UnitOfWorkDep
) -> list[DocumentOut]:
    """Every version of one checklist item, newest first (a handful at most)."""
    async with uow:
        return await documents.versions(
            uow, application_id=application_id, kind=kind, principal=principal
        )


@router.post(
    "/{kind}/versions/{document_id}/review",
    response_model=DocumentOut,
    operation_id="review_document",
    responses=problems(
        Unauthorized, Forbidden, NotFound, documents.DocumentRefused, UnprocessableContent
    ),
)
async def review_document(
    application_id: UUID,
    kind: Kind,
    document_id: UUID,
    body: ReviewIn,
    principal: Staff,
    uow: UnitOfWorkDep,
) -> DocumentOut:
    """Accept a document, or reject it with a reason the business can act on."""
    async with uow:
        return await documents.review(
            uow,
            application_id=application_id,
            document_id=document_id,
            body=body,
            principal=principal,
        )


@router.get(
    "/{kind}/versions/{document_id}/content",
    operation_id="download_document",
    response_class=DocumentStream,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": _BINARY}},
        **problems(Unauthorized, Forbidden, NotFound),
    },
)
async def download_document(
    application_id: UUID,
    kind: Kind,
    document_id: UUID,
    principal: DocumentHandler,
    uow: UnitOfWorkDep,
    store: StoreDep,
) -> DocumentStream:
    """The file itself: for the business that uploaded it and for staff only."""
    async with uow:
        doc = await documents.for_download(
            uow, application_id=application_id, document_id=document_id, principal=principal
        )
    if doc.kind != kind:
        raise NotFound(f"no {kind} document {document_id}")
    try:
        content = await store.open(doc.storage_key)
    except KeyError as exc:
        raise NotFound(f"the file of document {document_id} is missing") from exc
    digest = base64.b64encode(bytes.fromhex(doc.sha256)).decode()
    return DocumentStream(
        content,
        media_type=doc.content_type,
        headers={
            "Content-Length": str(doc.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
            "Repr-Digest": f"sha-256=:{digest}:",
            "ETag": f'"{doc.sha256}"',
        },
    )
