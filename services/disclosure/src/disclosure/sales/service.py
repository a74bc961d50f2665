"""Sales reports: submitted per settlement period by a fund's business, confirmed by its
accountant, approved or returned by staff; and the fund's schedule of disclosures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from disclosure.audit import service as audit
from disclosure.audit.rules import AuditEntity
from disclosure.db.models import Fund, SalesReport, SalesReportFile
from disclosure.deadlines import service as deadlines
from disclosure.deadlines.rules import OverdueItem
from disclosure.deadlines.schemas import DeadlineOut
from disclosure.documents import service as documents
from disclosure.documents.rules import DocumentKind, Visibility
from disclosure.funds import service as funds
from disclosure.funds.rules import FundOutcome, Span
from disclosure.sales import rules, store
from disclosure.sales.rules import ConfirmerKind, FilePurpose, Line, ReportStatus
from disclosure.sales.schemas import (
    BreakdownLineOut,
    ConfirmationOut,
    DisclosureScheduleOut,
    ReportFileOut,
    SalesReportIn,
    SalesReportOut,
    ScheduledPeriod,
    ScheduledYear,
)
from kumiai.contracts.disclosure import SalesReported
from kumiai.db import UnitOfWork
from kumiai.files import StoredFile
from kumiai.pagination import Page
from kumiai.periods import japan_date
from kumiai.principal import Principal

# -- what a caller sees ------------------------------------------------------------------


def report_out(report: SalesReport, files: list[SalesReportFile]) -> SalesReportOut:
    return SalesReportOut(
        id=report.id,
        fund_id=report.fund_id,
        msme_id=report.msme_id,
        period_number=report.period_number,
        period_start=report.period_start,
        period_end=report.period_end,
        sales=report.sales,
        breakdown=[BreakdownLineOut.model_validate(line) for line in report.breakdown],
        adjustment=report.adjustment,
        adjustment_reason=report.adjustment_reason,
        confirmation=ConfirmationOut(
            confirmation_id=report.confirmation_id,
            confirmer_kind=ConfirmerKind(report.confirmer_kind),
            confirmer_name=report.confirmer_name,
            registration_number=report.confirmer_registration,
            confirmed_on=report.confirmed_on,
        ),
        status=ReportStatus(report.status),
        submitted_by=report.submitted_by,
        submitted_at=report.submitted_at,
        reviewed_by=report.reviewed_by,
        reviewed_at=report.reviewed_at,
        return_reason=report.return_reason,
        document_id=report.document_id,
        files=[ReportFileOut.model_validate(f, from_attributes=True) for f in files],
    )


async def _with_files(uow: UnitOfWork, report: SalesReport) -> SalesReportOut:
    files = await store.files_of(uow.session, [report.id])
    return report_out(report, files[report.id])


async def _readable_fund(
    uow: UnitOfWork, fund_id: UUID, principal: Principal, *, lock: bool = False
) -> Fund:
    """The fund if the caller may see its reports (``rules.may_read``); 404 naming its id."""
    fund = await funds.fund_of(uow, fund_id, lock=lock)
    if not rules.may_read(principal, fund.msme_id):
        raise funds.UnknownFund(f"no fund {fund_id}")
    return fund


def _outcome(fund: Fund) -> FundOutcome | None:
    return None if fund.outcome is None else FundOutcome(fund.outcome)


# -- submitting --------------------------------------------------------------------------


async def submit(
    uow: UnitOfWork, *, fund_id: UUID, body: SalesReportIn, principal: Principal
) -> SalesReportOut:
    """A new report of one ended settlement period of the fund, as submitted."""
    now = datetime.now(UTC)
    today = japan_date(now)
    fund = await _readable_fund(uow, fund_id, principal)
    rules.check_formed(_outcome(fund))
    periods, _ = funds.calendar_of(fund)
    period = rules.period_of(periods, body.period_number)
    rules.check_period_ended(period, today)
    rules.check_confirmation(
        body.confirmed_on, body.registration_number, period=period, today=today
    )
    breakdown = _lines(body)
    rules.check_breakdown(body.sales, breakdown)
    reason = rules.check_adjustment(period.number, body.adjustment, body.adjustment_reason)
    rules.check_no_other_report(
        await store.live_status(uow.session, fund_id, period.number), period.number
    )
    approved = await store.approved_figures(uow.session, fund_id)
    rules.check_cumulative(approved, body.sales, body.adjustment)
    assert fund.msme_id is not None  # a fund whose terms are known has its business
    report = SalesReport(
        id=uuid.uuid4(),
        fund_id=fund_id,
        msme_id=fund.msme_id,
        period_number=period.number,
        period_start=period.starts_on,
        period_end=period.ends_on,
        sales=body.sales,
        breakdown=[{"label": line.label, "amount": line.amount} for line in breakdown or ()],
        adjustment=body.adjustment,
        adjustment_reason=reason,
        confirmation_id=uuid.uuid4(),
        confirmer_kind=body.confirmer_kind.value,
        confirmer_name=body.confirmer_name,
        confirmer_registration=body.registration_number,
        confirmed_on=body.confirmed_on,
        status=ReportStatus.SUBMITTED.value,
        submitted_by=principal.subject,
        submitted_at=now,
    )
    if not await store.insert_once(uow.session, report):
        raise rules.ReportExists(f"period {period.number} already has a live report")
    await audit.record(
        uow,
        principal=principal,
        action="sales_report.submitted",
        entity=AuditEntity.SALES_REPORT,
        entity_id=report.id,
        fund_id=str(fund_id),
        period_number=period.number,
        sales=body.sales,
        adjustment=body.adjustment,
        confirmation_id=str(report.confirmation_id),
    )
    return report_out(report, [])


def _lines(body: SalesReportIn) -> tuple[Line, ...] | None:
    if body.breakdown is None:
        return None
    return tuple(Line(label=line.label, amount=line.amount) for line in body.breakdown)


# -- files -------------------------------------------------------------------------------


async def check_upload(uow: UnitOfWork, *, report_id: UUID, principal: Principal) -> None:
    """Refuse a file before any byte is stored."""
    report = await store.readable_report(uow.session, report_id, principal)
    rules.check_files_open(ReportStatus(report.status))


async def record_upload(
    uow: UnitOfWork,
    *,
    report_id: UUID,
    purpose: FilePurpose,
    filename: str,
    stored: StoredFile,
    principal: Principal,
) -> SalesReportOut:
    """Add the stored file to the report, if it is still submitted."""
    report = await store.readable_report(uow.session, report_id, principal, lock=True)
    rules.check_files_open(ReportStatus(report.status))
    row = SalesReportFile(
        id=uuid.uuid4(),
        report_id=report.id,
        purpose=purpose.value,
        filename=filename,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by=principal.subject,
        uploaded_at=datetime.now(UTC),
    )
    store.add_file(uow.session, row)
    await audit.record(
        uow,
        principal=principal,
        action="sales_report.file_added",
        entity=AuditEntity.SALES_REPORT,
        entity_id=report.id,
        file_id=str(row.id),
        purpose=purpose.value,
        sha256=stored.sha256,
        size=stored.size,
    )
    await uow.session.flush()
    return await _with_files(uow, report)


# -- review ------------------------------------------------------------------------------


async def approve(uow: UnitOfWork, *, report_id: UUID, principal: Principal) -> SalesReportOut:
    """Approve a submitted report: announce it (once per fund and period), meet its deadline
    and publish it to the fund's investors. Approving it again changes nothing."""
    rules.check_reviewer(principal)
    report = await store.readable_report(uow.session, report_id, principal, lock=True)
    changes = rules.check_approval(
        ReportStatus(report.status),
        has_confirmation=await store.has_file(uow.session, report.id, FilePurpose.CONFIRMATION),
    )
    if not changes:
        return await _with_files(uow, report)
    # Approvals of one fund take turns, so each sees the others' figures.
    await funds.fund_of(uow, report.fund_id, lock=True)
    approved = await store.approved_figures(uow.session, report.fund_id, besides=report.id)
    cumulative = rules.check_cumulative(approved, report.sales, report.adjustment)
    now = datetime.now(UTC)
    report.status = ReportStatus.APPROVED.value
    report.reviewed_by = principal.subject
    report.reviewed_at = now
    await deadlines.meet(
        uow,
        fund_id=report.fund_id,
        item=OverdueItem.SALES_REPORT,
        number=report.period_number,
        now=now,
    )
    figures = _figures(report, cumulative)
    report.document_id = await documents.publish_made(
        uow,
        fund_id=report.fund_id,
        kind=DocumentKind.SALES_REPORT,
        title=rules.document_title(report.period_number),
        body=rules.document_body(figures),
        visibility=Visibility.INVESTORS,
        data=rules.document_data(figures),
        principal=principal,
    )
    await uow.emit(
        SalesReported(
            report_id=report.id,
            fund_id=report.fund_id,
            msme_id=report.msme_id,
            period_number=report.period_number,
            period_start=report.period_start,
            period_end=report.period_end,
            sales=report.sales,
            adjustment=report.adjustment,
            confirmation_id=report.confirmation_id,
            approved_at=now,
        ),
        subject=str(report.fund_id),
    )
    await audit.record(
        uow,
        principal=principal,
        action="sales_report.approved",
        entity=AuditEntity.SALES_REPORT,
        entity_id=report.id,
        fund_id=str(report.fund_id),
        period_number=report.period_number,
        cumulative_sales=cumulative,
        document_id=str(report.document_id),
    )
    return await _with_files(uow, report)


def _figures(report: SalesReport, cumulative: int) -> rules.Figures:
    return rules.Figures(
        report_id=report.id,
        period=Span(report.period_number, report.period_start, report.period_end),
        sales=report.sales,
        breakdown=tuple(Line(label=x["label"], amount=x["amount"]) for x in report.breakdown),
        adjustment=report.adjustment,
        adjustment_reason=report.adjustment_reason,
        cumulative=cumulative,
        confirmer_kind=ConfirmerKind(report.confirmer_kind),
        confirmed_on=report.confirmed_on,
        confirmation_id=report.confirmation_id,
    )


async def return_report(
    uow: UnitOfWork, *, report_id: UUID, reason: str, principal: Principal
) -> SalesReportOut:
    """Send a submitted report back to the business with a reason; it may then report the
    period again. Returning it again changes nothing."""
    rules.check_reviewer(principal)
    report = await store.readable_report(uow.session, report_id, principal, lock=True)
    kept = rules.check_return(ReportStatus(report.status), reason)
    if kept is not None:
        report.status = ReportStatus.RETURNED.value
        report.reviewed_by = principal.subject
        report.reviewed_at = datetime.now(UTC)
        report.return_reason = kept
        await audit.record(
            uow,
            principal=principal,
            action="sales_report.returned",
            entity=AuditEntity.SALES_REPORT,
            entity_id=report.id,
            fund_id=str(report.fund_id),
            period_number=report.period_number,
            reason=kept,
        )
    return await _with_files(uow, report)


# -- reading -----------------------------------------------------------------------------


async def get(uow: UnitOfWork, *, report_id: UUID, principal: Principal) -> SalesReportOut:
    """One report with its files, for staff and the fund's business."""
    report = await store.readable_report(uow.session, report_id, principal)
    return await _with_files(uow, report)


async def fund_reports(
    uow: UnitOfWork, *, fund_id: UUID, principal: Principal, cursor: str | None, limit: int
) -> Page[SalesReportOut]:
    """The fund's reports (returned ones too), by period, for staff and its business."""
    await _readable_fund(uow, fund_id, principal)
    return await store.fund_reports(
        uow.session, fund_id, cursor=cursor, limit=limit, item=report_out
    )


async def schedule(
    uow: UnitOfWork, *, fund_id: UUID, principal: Principal
) -> DisclosureScheduleOut:
    """The fund's settlement periods and fiscal years, when each report is due and where it
    stands, and each period's live report; for staff and the fund's business."""
    fund = await _readable_fund(uow, fund_id, principal)
    periods, years = funds.calendar_of(fund)
    due = {(d.item, d.number): d for d in await deadlines.of_fund(uow, fund_id=fund_id)}
    live = await store.live_reports(uow.session, fund_id)
    return DisclosureScheduleOut(
        fund_id=fund_id,
        periods=[
            _period(p, due.get((OverdueItem.SALES_REPORT, p.number)), live.get(p.number))
            for p in periods
        ],
        fiscal_years=[_year(y, due.get((OverdueItem.ANNUAL_REPORT, y.number))) for y in years],
    )


def _period(
    span: Span, deadline: DeadlineOut | None, report: SalesReport | None
) -> ScheduledPeriod:
    return ScheduledPeriod(
        number=span.number,
        starts_on=span.starts_on,
        ends_on=span.ends_on,
        due_on=deadline.due_on if deadline else None,
        deadline_status=deadline.status if deadline else None,
        met_at=deadline.met_at if deadline else None,
        overdue_at=deadline.overdue_at if deadline else None,
        report_id=report.id if report else None,
        report_status=ReportStatus(report.status) if report else None,
    )


def _year(span: Span, deadline: DeadlineOut | None) -> ScheduledYear:
    return ScheduledYear(
        number=span.number,
        starts_on=span.starts_on,
        ends_on=span.ends_on,
        due_on=deadline.due_on if deadline else None,
        deadline_status=deadline.status if deadline else None,
        met_at=deadline.met_at if deadline else None,
        overdue_at=deadline.overdue_at if deadline else None,
    )
