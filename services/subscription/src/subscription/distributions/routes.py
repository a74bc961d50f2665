"""Distributions: the public simulation; investors' statements (JSON and PDF) and the
yearly payment records (the investor's, and every investor's for staff as CSV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import Response as RawResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.errors import Forbidden, Unauthorized, UnprocessableContent, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import BINARY, FileStream
from subscription.distributions import payment_records, service
from subscription.distributions.payment_records import YearNotOver
from subscription.distributions.rules import InvalidDistribution
from subscription.distributions.schemas import (
    PaymentRecordOut,
    SimulationIn,
    SimulationOut,
    StatementLine,
)
from subscription.distributions.service import StatementLineNotFound
from subscription.investors.routes import CipherDep
from subscription.investors.rules import InvestorNotFound

InvestorOrStaff = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF))]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
MAX_PERIOD = 1_000
"""Far beyond any fund's term (a half-yearly fund of 500 years); keeps the number an int4."""

PeriodNumber = Annotated[int, Path(ge=1, le=MAX_PERIOD, description="1 is the fund's first")]
Year = Annotated[
    int,
    Path(
        ge=payment_records.FIRST_YEAR,
        le=payment_records.LAST_YEAR,
        description="The calendar year the distributions were paid in (days in Japan)",
    ),
]

router = APIRouter(tags=["distributions"])


def _pdf(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/pdf": BINARY}}}


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def _document(filename: str, content: bytes) -> Response:
    return RawResponse(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": _attachment(filename)},
    )


@router.post(
    "/simulations/distributions",
    response_model=SimulationOut,
    summary="Simulate a fund's distributions",
    operation_id="simulate_distributions",
    responses=problems(InvalidDistribution, UnprocessableContent),
)
def simulate_distributions(body: SimulationIn) -> SimulationOut:
    """What investors would receive: per period the split at the threshold and at recoup,
    the distributable amount, the amount per unit, what stays with the business, the
    success fee, and per holder gross, tax withheld, net and cumulative gross. No login:
    businesses, municipalities and investors use it before a fund exists. (Computed in a
    worker thread: a large register does not hold up other requests.)"""
    return service.simulate(body)


@router.get(
    "/investors/{investor_id}/distributions",
    response_model=Page[StatementLine],
    summary="List an investor's distributions",
    operation_id="list_investor_distributions",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound, BadCursor),
)
async def list_investor_distributions(
    investor_id: UUID,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[StatementLine]:
    """My page: the investor's distribution statement, newest period first: units, amount
    per unit, gross, tax withheld, net, cumulative gross and what is left to recoup, and
    whether (and when) it was paid."""
    async with uow:
        return await service.statement(
            uow, investor_id=investor_id, principal=principal, cursor=cursor, limit=limit
        )


LINE = "/investors/{investor_id}/distributions/{fund_id}/{period_number}"


@router.get(
    LINE,
    response_model=StatementLine,
    summary="Get one period's distribution to an investor",
    operation_id="get_investor_distribution",
    responses=problems(Unauthorized, Forbidden, InvestorNotFound, StatementLineNotFound),
)
async def get_investor_distribution(
    investor_id: UUID,
    fund_id: UUID,
    period_number: PeriodNumber,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
) -> StatementLine:
    """One period's line of the investor's statement, for the investor itself and staff."""
    async with uow:
        return await service.statement_line(
            uow,
            investor_id=investor_id,
            fund_id=fund_id,
            period_number=period_number,
            principal=principal,
        )


@router.get(
    f"{LINE}/statement.pdf",
    summary="Download a distribution statement (PDF)",
    operation_id="get_investor_distribution_statement_pdf",
    response_class=RawResponse,
    responses={
        **_pdf("The period's distribution statement"),
        **problems(Unauthorized, Forbidden, InvestorNotFound, StatementLineNotFound),
    },
)
async def get_investor_distribution_statement_pdf(
    investor_id: UUID,
    fund_id: UUID,
    period_number: PeriodNumber,
    principal: InvestorOrStaff,
    uow: UnitOfWorkDep,
) -> Response:
    """The period's distribution statement as a PDF in Japanese and English: fund, period,
    units, per unit, gross, tax withheld, net, cumulative amounts, what is left to recoup,
    the perk and the day it was paid."""
    async with uow:
        name, content = await service.statement_pdf(
            uow,
            investor_id=investor_id,
            fund_id=fund_id,
            period_number=period_number,
            principal=principal,
        )
    return _document(name, content)


@router.get(
    "/payment-records/{year}.csv",
    summary="Export a year's payment records (CSV)",
    operation_id="export_payment_records",
    response_class=RawResponse,
    responses={
        200: {
            "description": "UTF-8 with a byte order mark, CRLF, a header row",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(Unauthorized, Forbidden),
    },
)
async def export_payment_records(
    year: Year, principal: Staff, uow: UnitOfWorkDep, cipher: CipherDep
) -> Response:
    """Staff: a calendar year's payments, one row per investor and fund (the investor's
    name and address, the fund, its business, payments, gross, tax withheld and net), for
    the tax filing. Streamed as it is read."""
    # The unit of work opens when the body starts streaming, and lasts as long as it does.
    name, chunks = service.payment_records_csv(uow, year=year, principal=principal, cipher=cipher)
    return FileStream(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(name)},
    )


RECORD = "/investors/{investor_id}/payment-records/{year}"
RECORD_PROBLEMS = problems(Unauthorized, Forbidden, InvestorNotFound, YearNotOver)


# Before the JSON route: its {year} would otherwise take "2027.pdf" and refuse it.
@router.get(
    f"{RECORD}.pdf",
    summary="Download an investor's yearly payment record (PDF)",
    operation_id="get_investor_payment_record_pdf",
    response_class=RawResponse,
    responses={**_pdf("The year's payment record"), **RECORD_PROBLEMS},
)
async def get_investor_payment_record_pdf(
    investor_id: UUID, year: Year, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> Response:
    """The year's payment record as the PDF the investor keeps (it says so when nothing
    was paid), once the year is over in Japan."""
    async with uow:
        name, content = await service.payment_record_pdf(
            uow, investor_id=investor_id, year=year, principal=principal, now=datetime.now(UTC)
        )
    return _document(name, content)


@router.get(
    RECORD,
    response_model=PaymentRecordOut,
    summary="Get an investor's yearly payment record",
    operation_id="get_investor_payment_record",
    responses=RECORD_PROBLEMS,
)
async def get_investor_payment_record(
    investor_id: UUID, year: Year, principal: InvestorOrStaff, uow: UnitOfWorkDep
) -> PaymentRecordOut:
    """What the investor was paid in a calendar year (by the day in Japan it was paid), per
    fund and in total, once the year is over in Japan (409 before)."""
    async with uow:
        return await service.payment_record(
            uow, investor_id=investor_id, year=year, principal=principal, now=datetime.now(UTC)
        )
