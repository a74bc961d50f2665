"""Documents of an application: upload, checklist, review, download."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from kumiai.errors import (
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    UnprocessableContent,
    problems,
)
from kumiai.service import UnitOfWorkDep
from onboarding import documents
from onboarding.api.deps import Participant, SettingsDep, Staff, StoreDep
from onboarding.schemas import ChecklistOut, DocumentOut, ReviewIn
from onboarding.storage import (
    ALLOWED_CONTENT_TYPES,
    ContentTypeRefused,
    DocumentTooLarge,
    EmptyDocument,
)

router = APIRouter(prefix="/applications/{application_id}/documents", tags=["documents"])


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
Filename = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[^/\\\x00-\x1f]+$",
        description="The file's name as the business knows it",
    ),
]


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
    kind: str,
    filename: Filename,
    request: Request,
    principal: Participant,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
    content_type: Annotated[str, Header()],
) -> DocumentOut:
    """Upload the next version of a checklist document (the business itself or staff).

    The body is the file itself. Its SHA-256 is recorded; a rejected or
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
    application_id: UUID, principal: Participant, uow: UnitOfWorkDep
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
    application_id: UUID, kind: str, principal: Participant, uow: UnitOfWorkDep
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
    kind: str,
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
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": _BINARY}},
        **problems(Unauthorized, Forbidden, NotFound),
    },
)
async def download_document(
    application_id: UUID,
    kind: str,
    document_id: UUID,
    principal: Participant,
    uow: UnitOfWorkDep,
    store: StoreDep,
) -> StreamingResponse:
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
    return StreamingResponse(
        content,
        media_type=doc.content_type,
        headers={
            "Content-Length": str(doc.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
            "Repr-Digest": f"sha-256=:{digest}:",
            "ETag": f'"{doc.sha256}"',
        },
    )
