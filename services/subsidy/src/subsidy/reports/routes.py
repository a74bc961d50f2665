"""Reports: a programme's standing, and the leverage of a fiscal year's subsidies as JSON,
CSV (Excel, Japanese) and an SVG chart."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, UnprocessableContent, problems
from kumiai.service import UnitOfWorkDep
from subsidy.programmes.routes import MunicipalityFilter
from subsidy.programmes.rules import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    InvalidMunicipalityCode,
    UnknownMunicipality,
    UnknownProgramme,
)
from subsidy.reports import service
from subsidy.reports.programme_report import ProgrammeReportOut
from subsidy.reports.schemas import PROGRAMME_REPORT_EXAMPLE, LeverageOut

router = APIRouter(tags=["reports"])

# Whose programmes: the service decides (``programmes.rules.reported_municipality``).
Runner = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MUNICIPALITY))]
FiscalYear = Annotated[
    int,
    Query(
        ge=FIRST_FISCAL_YEAR,
        le=LAST_FISCAL_YEAR,
        description="Japanese government fiscal year (April to March), named by the year "
        "it starts in",
    ),
]
LEVERAGE_PROBLEMS = problems(
    Unauthorized, Forbidden, UnknownMunicipality, InvalidMunicipalityCode, UnprocessableContent
)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SVG_MEDIA_TYPE = "image/svg+xml"


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            # The chart is a document of its own: nothing in it may run or load anything.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def _download(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}
    }


@router.get(
    "/programmes/{programme_id}/report",
    response_model=ProgrammeReportOut,
    summary="Get a programme's report",
    operation_id="get_programme_report",
    responses={
        **problems(Unauthorized, Forbidden, UnknownProgramme),
        200: {"content": {"application/json": {"example": PROGRAMME_REPORT_EXAMPLE}}},
    },
)
async def get_programme_report(
    programme_id: UUID, principal: Runner, uow: UnitOfWorkDep
) -> ProgrammeReportOut:
    """Where a programme stands: budget used (reserved by live awards) and left, awards
    made and left, and every applicant with status, score, rank, reviewers and award; for
    staff and the programme's municipality."""
    async with uow:
        return await service.programme_report(uow, programme_id=programme_id, principal=principal)


@router.get(
    "/leverage",
    response_model=LeverageOut,
    summary="Get the leverage report",
    operation_id="get_leverage",
    responses=LEVERAGE_PROBLEMS,
)
async def get_leverage(
    principal: Runner,
    uow: UnitOfWorkDep,
    fiscal_year: FiscalYear,
    municipality_code: MunicipalityFilter = None,
) -> LeverageOut:
    """What the fiscal year's subsidies leveraged, per programme and in total: money raised
    by the subsidised funds that formed, subsidy granted and paid, and raised / paid
    rounded down to one decimal. Staff: every municipality, or the one asked for; a
    municipality: its own (another's is 404)."""
    async with uow:
        return await service.leverage(
            uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
        )


@router.get(
    "/leverage.csv",
    summary="Download the leverage report (CSV)",
    operation_id="get_leverage_csv",
    response_class=Response,
    responses={
        **_download(
            "text/csv",
            "UTF-8 with a byte order mark and CRLF (Excel opens it in Japanese): a header, a "
            "record per programme, then the total (合計)",
        ),
        **LEVERAGE_PROBLEMS,
    },
)
async def get_leverage_csv(
    principal: Runner,
    uow: UnitOfWorkDep,
    fiscal_year: FiscalYear,
    municipality_code: MunicipalityFilter = None,
) -> Response:
    """The leverage report as a CSV file for Excel (the same figures as ``GET /leverage``)."""
    async with uow:
        name, content = await service.leverage_csv(
            uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
        )
    return _file(content, CSV_MEDIA_TYPE, name)


@router.get(
    "/leverage.svg",
    summary="Download the leverage chart (SVG)",
    operation_id="get_leverage_chart",
    response_class=Response,
    responses={
        **_download(
            SVG_MEDIA_TYPE,
            "A standalone SVG bar chart (no script, nothing fetched) that Word, PowerPoint "
            "and LibreOffice open: per programme the money raised and the subsidy paid",
        ),
        **LEVERAGE_PROBLEMS,
    },
)
async def get_leverage_chart(
    principal: Runner,
    uow: UnitOfWorkDep,
    fiscal_year: FiscalYear,
    municipality_code: MunicipalityFilter = None,
) -> Response:
    """The leverage report as a chart a municipality pastes into its council report: per
    programme the money raised and the subsidy paid, with the ratio (``GET /leverage``)."""
    async with uow:
        name, content = await service.leverage_chart(
            uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
        )
    return _file(content, SVG_MEDIA_TYPE, name)
