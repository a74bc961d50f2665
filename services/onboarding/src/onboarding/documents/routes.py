"""Documents of an application: upload, checklist, review, download."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.files import FileStore, TooLarge, UnsupportedType
from kumiai.guard import LargeBody
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import BINARY, Filename, FileStream, file_headers, receive_file, upload_openapi
from onboarding.documents import service
from onboarding.documents.rules import ALLOWED_CONTENT_TYPES, DocumentRefused
from onboarding.documents.schemas import ChecklistOut, DocumentOut, ReviewIn
from onboarding.settings import SettingsDep

router = APIRouter(prefix="/applications/{application_id}/documents", tags=["documents"])

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Documents belong to the business and staff (``rules.may_read``); partner banks follow
# progress, never files.
DocumentHandler = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]


async def document_store(request: Request) -> FileStore:
    """The service's document store (set up by ``create_app``)."""
    store: FileStore = request.app.state.document_store
    return store


Files = Annotated[FileStore, Depends(document_store)]

UPLOAD_PATH = re.compile(r"/applications/[^/]+/documents/[^/]+")
"""Where files are uploaded: the one route that takes a body larger than the default."""


def upload_body(max_bytes: int) -> LargeBody:
    """The request guard's limit for uploads: the largest document accepted."""
    return LargeBody(method="POST", path=UPLOAD_PATH, max_bytes=max_bytes)


Kind = Annotated[str, Path(max_length=64, description="A kind on the document checklist")]


@router.post(
    "/{kind}",
    status_code=201,
    response_model=DocumentOut,
    summary="Upload a checklist document",
    operation_id="upload_document",
    openapi_extra=upload_openapi(ALLOWED_CONTENT_TYPES),
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
    files: Files,
    settings: SettingsDep,
    content_type: Annotated[str, Header(max_length=200)],
) -> DocumentOut:
    """Upload the next version of a checklist document (the business itself or staff).

    The body is the file itself, up to the service's document limit (413 beyond
    it, before anything is stored). Its SHA-256 is recorded; a rejected or
    unreviewed version may be replaced, an accepted one may not.
    """
    return await receive_file(
        uow,
        files=files,
        chunks=request.stream(),
        content_type=content_type,
        max_bytes=settings.document_max_bytes,
        accepted=ALLOWED_CONTENT_TYPES,
        check=lambda: service.check_upload(
            uow, application_id=application_id, kind=kind, principal=principal
        ),
        record=lambda stored: service.record_upload(
            uow,
            application_id=application_id,
            kind=kind,
            filename=filename,
            stored=stored,
            principal=principal,
        ),
    )


@router.get(
    "",
    response_model=ChecklistOut,
    summary="Get an application's document checklist",
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
    summary="List a checklist document's versions",
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
    summary="Accept or reject a document",
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
    summary="Download a checklist document",
    operation_id="download_document",
    response_class=FileStream,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": BINARY}},
        **problems(Unauthorized, Forbidden, NotFound),
    },
)
async def download_document(
    application_id: UUID,
    kind: Kind,
    document_id: UUID,
    principal: DocumentHandler,
    uow: UnitOfWorkDep,
    files: Files,
) -> FileStream:
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
    return FileStream(
        content,
        media_type=doc.content_type,
        headers=file_headers(doc.filename, doc.size, doc.sha256),
    )
