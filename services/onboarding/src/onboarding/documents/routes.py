"""Documents of an application: upload, checklist, review, download."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import anyio
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator
from starlette.types import Receive

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.guard import LargeBody
from kumiai.service import UnitOfWorkDep
from onboarding.documents import service
from onboarding.documents.rules import (
    ALLOWED_CONTENT_TYPES,
    MAX_FILENAME,
    DocumentRefused,
    InvalidFilename,
    TooLarge,
    UnsupportedType,
    check_filename,
)
from onboarding.documents.schemas import ChecklistOut, DocumentOut, ReviewIn
from onboarding.documents.storage import DocumentStore
from onboarding.settings import SettingsDep

router = APIRouter(prefix="/applications/{application_id}/documents", tags=["documents"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Documents belong to the business and staff (``rules.may_read``); partner banks follow
# progress, never files.
DocumentHandler = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]


async def document_store(request: Request) -> DocumentStore:
    """The service's document store (set up by ``create_app``)."""
    store: DocumentStore = request.app.state.document_store
    return store


FileStore = Annotated[DocumentStore, Depends(document_store)]

UPLOAD_PATH = re.compile(r"/applications/[^/]+/documents/[^/]+")
"""Where files are uploaded: the one route that takes a body larger than the default."""


def upload_body(max_bytes: int) -> LargeBody:
    """The request guard's limit for uploads: the largest document accepted."""
    return LargeBody(method="POST", path=UPLOAD_PATH, max_bytes=max_bytes)


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
        DocumentRefused,
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
    files: FileStore,
    settings: SettingsDep,
    content_type: Annotated[str, Header(max_length=200)],
) -> DocumentOut:
    """Upload the next version of a checklist document (the business itself or staff).

    The body is the file itself, up to the service's document limit (413 beyond
    it, before anything is stored). Its SHA-256 is recorded; a rejected or
    unreviewed version may be replaced, an accepted one may not.
    """
    async with uow:
        await service.check_upload(
            uow, application_id=application_id, kind=kind, principal=principal
        )
    stored = await service.store_content(
        files=files,
        chunks=request.stream(),
        content_type=content_type,
        max_bytes=settings.document_max_bytes,
    )
    try:
        async with uow:
            return await service.record_upload(
                uow,
                application_id=application_id,
                kind=kind,
                filename=filename,
                stored=stored,
                principal=principal,
            )
    except BaseException:
        await service.discard_content(files=files, stored=stored)
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
        return await service.checklist(uow, application_id=application_id, principal=principal)


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
        return await service.versions(
            uow, application_id=application_id, kind=kind, principal=principal
        )


@router.post(
    "/{kind}/versions/{document_id}/review",
    response_model=DocumentOut,
    operation_id="review_document",
    responses=problems(Unauthorized, Forbidden, NotFound, DocumentRefused, UnprocessableContent),
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
        return await service.review(
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
    files: FileStore,
) -> DocumentStream:
    """The file itself: for the business that uploaded it and for staff only."""
    async with uow:
        doc = await service.for_download(
            uow,
            application_id=application_id,
            kind=kind,
            document_id=document_id,
            principal=principal,
        )
    content = await service.open_content(files=files, doc=doc)
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
