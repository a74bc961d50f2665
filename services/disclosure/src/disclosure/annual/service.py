"""Annual reports: the business writes its sections, staff publish the report to investors."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from uuid import UUID

from disclosure.annual import rules, store
from disclosure.annual.layout import (
    FACTS,
    AnnualReportFacts,
    Confirmation,
    DistributionFacts,
    PeriodSales,
    annual_report_layout,
)
from disclosure.annual.rules import AnnualStatus
from disclosure.annual.schemas import AnnualReportIn, AnnualReportOut
from disclosure.audit import service as audit
from disclosure.audit.rules import AuditEntity
from disclosure.db.models import AnnualReport, Fund
from disclosure.deadlines import service as deadlines
from disclosure.deadlines.rules import OverdueItem
from disclosure.documents import service as documents
from disclosure.documents.layout import plain_text
from disclosure.documents.rules import DocumentKind, Visibility
from disclosure.funds import rules as fund_rules
from disclosure.funds import service as funds
from disclosure.funds.rules import Span
from kumiai.db import UnitOfWork
from kumiai.pdf import render_pdf
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import NotFound


class NoAnnualReport(NotFound):
    problem = "unknown-annual-report"
    title = "No annual report written for that year yet"


async def _year_of(
    uow: UnitOfWork, fund_id: UUID, fiscal_year: int, principal: Principal
) -> tuple[Fund, Span]:
    """The fund (404 unless the caller is staff or its business) and its fiscal year."""
    fund = await funds.fund_of(uow, fund_id)
    business = fund_rules.is_business_of(principal, fund.msme_id)
    if not (principal.is_staff() or business):
        raise funds.UnknownFund(f"no fund {fund_id}")
    _, years = funds.calendar_of(fund)
    return fund, rules.fiscal_year(years, fiscal_year)


async def facts(uow: UnitOfWork, fund: Fund, span: Span, row: AnnualReport) -> AnnualReportFacts:
    """What the report says: the business's sections, the year's approved sales, the
    distributions declared for its periods (and when paid), the confirmation of the books."""
    sales = await store.approved_sales(uow.session, fund.fund_id, span.starts_on, span.ends_on)
    confirmation = (
        Confirmation(
            kind=row.confirmer_kind,
            name=row.confirmer_name or "",
            registration_number=row.confirmer_registration or "",
            confirmed_on=row.confirmed_on,
        )
        if row.confirmer_kind is not None and row.confirmed_on is not None
        else None
    )
    return AnnualReportFacts(
        fund_name=fund.name or "",
        fiscal_year=span.number,
        starts_on=span.starts_on,
        ends_on=span.ends_on,
        overview=row.overview,
        use_of_funds=row.use_of_funds,
        sales=tuple(
            PeriodSales(
                number=r.period_number,
                starts_on=r.period_start,
                ends_on=r.period_end,
                sales=r.sales,
                adjustment=r.adjustment,
            )
            for r in sales
        ),
        distributions=tuple(
            DistributionFacts(total=d.total_gross, per_unit=d.per_unit, paid_on=d.paid_on)
            for d in await store.distributions(
                uow.session, fund.fund_id, span.starts_on, span.ends_on
            )
        ),
        confirmation=confirmation,
    )


def _out(row: AnnualReport, made: AnnualReportFacts) -> AnnualReportOut:
    return AnnualReportOut(
        id=row.id,
        fund_id=row.fund_id,
        fiscal_year=row.fiscal_year,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        status=AnnualStatus(row.status),
        facts=FACTS.dump_python(made, mode="json"),
        total_sales=made.total_sales,
        document_id=row.document_id,
        published_at=row.published_at,
    )


async def write(
    uow: UnitOfWork, *, fund_id: UUID, fiscal_year: int, body: AnnualReportIn, principal: Principal
) -> AnnualReportOut:
    """Write (or rewrite) the business's sections and the confirmation, while in draft."""
    fund, span = await _year_of(uow, fund_id, fiscal_year, principal)
    rules.check_writer(principal, business=fund_rules.is_business_of(principal, fund.msme_id))
    row = await store.report(uow.session, fund_id, fiscal_year, lock=True)
    if row is None:
        row = AnnualReport(
            id=uuid.uuid4(),
            fund_id=fund_id,
            fiscal_year=fiscal_year,
            starts_on=span.starts_on,
            ends_on=span.ends_on,
            status=AnnualStatus.DRAFT.value,
            overview=body.overview,
            use_of_funds=body.use_of_funds,
            written_by=principal.subject,
        )
        await store.add(uow.session, row)
    rules.check_editable(AnnualStatus(row.status))
    row.overview, row.use_of_funds = body.overview, body.use_of_funds
    row.written_by, row.updated_at = principal.subject, datetime.now(UTC)
    confirmation = body.confirmation
    row.confirmer_kind = confirmation.kind.value if confirmation else None
    row.confirmer_name = confirmation.name if confirmation else None
    row.confirmer_registration = confirmation.registration_number if confirmation else None
    row.confirmed_on = confirmation.confirmed_on if confirmation else None
    await audit.record(
        uow,
        principal=principal,
        action="annual_report.written",
        entity=AuditEntity.ANNUAL_REPORT,
        entity_id=row.id,
        fund_id=str(fund_id),
        fiscal_year=fiscal_year,
        confirmed=confirmation is not None,
    )
    await uow.session.flush()
    return _out(row, await facts(uow, fund, span, row))


async def get(
    uow: UnitOfWork, *, fund_id: UUID, fiscal_year: int, principal: Principal
) -> AnnualReportOut:
    """The report as it stands and what it will say (staff and the business)."""
    fund, span = await _year_of(uow, fund_id, fiscal_year, principal)
    row = await store.report(uow.session, fund_id, fiscal_year)
    if row is None:
        raise NoAnnualReport(f"no annual report of {fiscal_year} yet")
    return _out(row, await facts(uow, fund, span, row))


async def preview_pdf(
    uow: UnitOfWork, *, fund_id: UUID, fiscal_year: int, principal: Principal
) -> bytes:
    """The report rendered as it would be published."""
    fund, span = await _year_of(uow, fund_id, fiscal_year, principal)
    row = await store.report(uow.session, fund_id, fiscal_year)
    if row is None:
        raise NoAnnualReport(f"no annual report of {fiscal_year} yet")
    layout = annual_report_layout(await facts(uow, fund, span, row), footer="preview")
    return await asyncio.to_thread(render_pdf, layout)


async def publish(
    uow: UnitOfWork, *, fund_id: UUID, fiscal_year: int, principal: Principal
) -> AnnualReportOut:
    """Staff publish the report to the fund's investors: a document they read on My page."""
    fund, span = await _year_of(uow, fund_id, fiscal_year, principal)
    row = await store.report(uow.session, fund_id, fiscal_year, lock=True)
    if row is None:
        raise NoAnnualReport(f"no annual report of {fiscal_year} yet")
    now = datetime.now(UTC)
    rules.check_publishable(
        span,
        japan_date(now),
        status=AnnualStatus(row.status),
        confirmed=row.confirmer_kind is not None,
    )
    made = await facts(uow, fund, span, row)
    row.document_id = await documents.publish_made(
        uow,
        fund_id=fund_id,
        kind=DocumentKind.ANNUAL_REPORT,
        title=f"年次報告書 {fiscal_year}年度 / Annual report {fiscal_year}",
        body=plain_text(annual_report_layout(made)),
        visibility=Visibility.INVESTORS,
        data=FACTS.dump_python(made, mode="json"),
        principal=principal,
    )
    row.status, row.published_by, row.published_at = (
        AnnualStatus.PUBLISHED.value,
        principal.subject,
        now,
    )
    await deadlines.meet(
        uow, fund_id=fund_id, item=OverdueItem.ANNUAL_REPORT, number=fiscal_year, now=now
    )
    await audit.record(
        uow,
        principal=principal,
        action="annual_report.published",
        entity=AuditEntity.ANNUAL_REPORT,
        entity_id=row.id,
        document_id=str(row.document_id),
    )
    await uow.session.flush()
    return _out(row, made)
