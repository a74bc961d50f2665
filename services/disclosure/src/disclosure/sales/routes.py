"""Sales reports: submission by the fund's business, files, staff review, and the fund's
schedule of disclosures."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from disclosure.sales import service
from disclosure.sales.rules import (
    FILE_TYPES,
    ConfirmationMissing,
    CumulativeSalesNegative,
    FilePurpose,
    FundNotFormed,
    PeriodNotEnded,
    ReportExists,
    ReportRefused,
    UnknownPeriod,
)
from disclosure.sales.schemas import (
    DisclosureScheduleOut,
    ReturnIn,
    SalesReportIn,
    SalesReportOut,
)
from disclosure.settings import SettingsDep
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.files import FileStore, TooLarge, UnsupportedType
from kumiai.guard import LargeBody
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import Filename, receive_file, upload_openapi

router = APIRouter(tags=["sales reports"])

# Which fund's business: the readable queries decide (``rules.may_read``).
Reporter = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]

UPLOAD_PATH = r"/sales-reports/[^/]+/files"
"""Where a report's files are uploaded: the one route of this router with a large body."""


def upload_body(max_bytes: int) -> LargeBody:
    """The request guard's limit for a report's files: the largest file accepted."""
    return LargeBody(method="POST", path=re.compile(UPLOAD_PATH), max_bytes=max_bytes)


async def file_store(request: Request) -> FileStore:
    """The service's file store (set up by ``create_app``)."""
    store: FileStore = request.app.state.file_store
    return store


Files = Annotated[FileStore, Depends(file_store)]


@router.post(
    "/funds/{fund_id}/sales-reports",
    status_code=201,
    response_model=SalesReportOut,
    summary="Submit a sales report",
    operation_id="submit_sales_report",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        PeriodNotEnded,
        ReportExists,
        FundNotFormed,
        UnknownPeriod,
        CumulativeSalesNegative,
        UnprocessableContent,
        IdempotencyKeyReused,
    ),
)
async def submit_sales_report(
    fund_id: UUID,
    body: SalesReportIn,
    principal: Reporter,
    uow: UnitOfWorkDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Report the sales of one ended settlement period of the fund (the business itself or
    staff for it), confirmed by a certified public or tax accountant. One live report per
    period: a second is refused until staff return the first."""
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"submit_sales_report:{fund_id}",
            body=body,
            action=lambda: service.submit(uow, fund_id=fund_id, body=body, principal=principal),
        )


@router.get(
    "/funds/{fund_id}/sales-reports",
    response_model=Page[SalesReportOut],
    summary="List a fund's sales reports",
    operation_id="list_sales_reports",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def list_sales_reports(
    fund_id: UUID,
    principal: Reporter,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[SalesReportOut]:
    """The fund's sales reports, returned ones too, by period: for staff and its business."""
    async with uow:
        return await service.fund_reports(
            uow, fund_id=fund_id, principal=principal, cursor=cursor, limit=limit
        )


@router.get(
    "/sales-reports/{report_id}",
    response_model=SalesReportOut,
    summary="Get a sales report",
    operation_id="get_sales_report",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_sales_report(
    report_id: UUID, principal: Reporter, uow: UnitOfWorkDep
) -> SalesReportOut:
    """One sales report with its files and its confirmation: for staff and the business."""
    async with uow:
        return await service.get(uow, report_id=report_id, principal=principal)


@router.post(
    "/sales-reports/{report_id}/files",
    status_code=201,
    response_model=SalesReportOut,
    summary="Upload a sales report's file",
    operation_id="upload_sales_report_file",
    openapi_extra=upload_openapi(FILE_TYPES),
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        ReportRefused,
        TooLarge,
        UnsupportedType,
        UnprocessableContent,
    ),
)
async def upload_sales_report_file(
    report_id: UUID,
    purpose: Annotated[FilePurpose, Query(description="A supporting file, or the confirmation")],
    filename: Filename,
    request: Request,
    principal: Reporter,
    uow: UnitOfWorkDep,
    files: Files,
    settings: SettingsDep,
    content_type: Annotated[str, Header(max_length=200)],
) -> SalesReportOut:
    """Add a supporting file or the accountant's signed confirmation to a submitted report.

    The body is the file itself (PDF, JPEG, PNG, CSV or XLSX, checked on its content), up
    to the service's attachment limit (413 beyond it, before anything is stored).
    """
    return await receive_file(
        uow,
        files=files,
        chunks=request.stream(),
        content_type=content_type,
        max_bytes=settings.attachment_max_bytes,
        accepted=FILE_TYPES,
        check=lambda: service.check_upload(uow, report_id=report_id, principal=principal),
        record=lambda stored: service.record_upload(
            uow,
            report_id=report_id,
            purpose=purpose,
            filename=filename,
            stored=stored,
            principal=principal,
        ),
    )


@router.post(
    "/sales-reports/{report_id}/approve",
    response_model=SalesReportOut,
    summary="Approve a sales report",
    operation_id="approve_sales_report",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        ReportRefused,
        ConfirmationMissing,
        CumulativeSalesNegative,
    ),
)
async def approve_sales_report(
    report_id: UUID, principal: Staff, uow: UnitOfWorkDep
) -> SalesReportOut:
    """Approve a submitted report that carries its confirmation file: it is announced
    (``SalesReported``), meets its deadline and is published to the fund's investors. An
    approved report is final; approving it again answers the same and changes nothing."""
    async with uow:
        return await service.approve(uow, report_id=report_id, principal=principal)


@router.post(
    "/sales-reports/{report_id}/return",
    response_model=SalesReportOut,
    summary="Return a sales report to the business",
    operation_id="return_sales_report",
    responses=problems(Unauthorized, Forbidden, NotFound, ReportRefused, UnprocessableContent),
)
async def return_sales_report(
    report_id: UUID, body: ReturnIn, principal: Staff, uow: UnitOfWorkDep
) -> SalesReportOut:
    """Send a submitted report back to the business with a reason; it may then report the
    period again."""
    async with uow:
        return await service.return_report(
            uow, report_id=report_id, reason=body.reason, principal=principal
        )


@router.get(
    "/funds/{fund_id}/disclosure-schedule",
    response_model=DisclosureScheduleOut,
    summary="Get a fund's disclosure schedule",
    operation_id="get_disclosure_schedule",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_disclosure_schedule(
    fund_id: UUID, principal: Reporter, uow: UnitOfWorkDep
) -> DisclosureScheduleOut:
    """The fund's settlement periods and fiscal years, when each report is due and where it
    stands, and each period's live sales report: for staff and the fund's business."""
    async with uow:
        return await service.schedule(uow, fund_id=fund_id, principal=principal)
