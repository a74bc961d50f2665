"""Annual reports: the business writes, staff publish."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from disclosure.annual import service
from disclosure.annual.rules import AnnualReportRefused
from disclosure.annual.schemas import AnnualReportIn, AnnualReportOut
from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent, problems
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import BINARY

router = APIRouter(prefix="/funds/{fund_id}/annual-reports", tags=["annual reports"])

Author = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
FiscalYear = Annotated[
    int, Path(ge=2000, le=2200, description="The calendar year the fiscal year ends in")
]


@router.put(
    "/{fiscal_year}",
    response_model=AnnualReportOut,
    summary="Write an annual report",
    operation_id="write_annual_report",
    responses=problems(
        Unauthorized, Forbidden, NotFound, AnnualReportRefused, UnprocessableContent
    ),
)
async def write_annual_report(
    fund_id: UUID,
    fiscal_year: FiscalYear,
    body: AnnualReportIn,
    principal: Author,
    uow: UnitOfWorkDep,
) -> AnnualReportOut:
    """Write the business overview, the use of the raised money and the confirmation of the
    books (the business or staff), until the report is published."""
    async with uow:
        return await service.write(
            uow, fund_id=fund_id, fiscal_year=fiscal_year, body=body, principal=principal
        )


@router.get(
    "/{fiscal_year}",
    response_model=AnnualReportOut,
    summary="Get an annual report",
    operation_id="get_annual_report",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_annual_report(
    fund_id: UUID, fiscal_year: FiscalYear, principal: Author, uow: UnitOfWorkDep
) -> AnnualReportOut:
    """The report and what it will say: the sections, the year's approved sales, the
    distributions and the confirmation. Investors read the published document."""
    async with uow:
        return await service.get(uow, fund_id=fund_id, fiscal_year=fiscal_year, principal=principal)


@router.get(
    "/{fiscal_year}/pdf",
    summary="Preview an annual report as PDF",
    operation_id="preview_annual_report_pdf",
    response_class=Response,
    responses={
        200: {"description": "The report as PDF", "content": {"application/pdf": BINARY}},
        **problems(Unauthorized, Forbidden, NotFound),
    },
)
async def preview_annual_report_pdf(
    fund_id: UUID, fiscal_year: FiscalYear, principal: Author, uow: UnitOfWorkDep
) -> Response:
    """The report rendered as it would be published."""
    async with uow:
        content = await service.preview_pdf(
            uow, fund_id=fund_id, fiscal_year=fiscal_year, principal=principal
        )
    return Response(content, media_type="application/pdf")


@router.post(
    "/{fiscal_year}/publish",
    response_model=AnnualReportOut,
    summary="Publish an annual report",
    operation_id="publish_annual_report",
    responses=problems(Unauthorized, Forbidden, NotFound, AnnualReportRefused),
)
async def publish_annual_report(
    fund_id: UUID, fiscal_year: FiscalYear, principal: Staff, uow: UnitOfWorkDep
) -> AnnualReportOut:
    """Publish the report to the fund's investors once the year is over (staff)."""
    async with uow:
        return await service.publish(
            uow, fund_id=fund_id, fiscal_year=fiscal_year, principal=principal
        )
