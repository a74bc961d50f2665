"""Distributions: declared from approved sales, one period at a time; statements and the
yearly payment records; the simulation anyone may run before a fund exists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import structlog

from kumiai.cipher import FieldCipher
from kumiai.contracts.disclosure import SalesReported
from kumiai.contracts.subscription import (
    MAX_ALLOCATION_LINES,
    AllocationLine,
    DistributionAllocated,
    DividendDeclared,
)
from kumiai.db import UnitOfWork
from kumiai.pagination import Page, page_of
from kumiai.periods import japan_date
from kumiai.principal import Principal
from kumiai.problems import NotFound
from kumiai.references import new_reference
from subscription.audit import service as audit
from subscription.audit.rules import AuditEntity
from subscription.db.models import Offering, ReportedSales
from subscription.distributions import documents, fees, payment_records, rules, store
from subscription.distributions.rules import DistributionTerms, PeriodSales
from subscription.distributions.schemas import (
    FundPaymentsOut,
    HolderOut,
    PaymentRecordOut,
    PaymentTotalsOut,
    PeriodOut,
    SimulationIn,
    SimulationOut,
    StatementLine,
)
from subscription.investors import rules as investor_rules
from subscription.investors.schemas import PersonalDetailsOut
from subscription.offerings.rules import OfferingStatus
from subscription.subscriptions import rules as subscription_rules

log = structlog.get_logger(__name__)

ONE_HOLDER = "holder"


async def record_sales(uow: UnitOfWork, *, event: SalesReported, payment_days: int) -> None:
    """Keep a period's approved sales and declare every period now complete, in order.

    Sales of a fund this service never offered are refused by nobody and kept by nobody:
    they are logged and dropped (disclosure reports only on funds that formed here).
    """
    session = uow.session
    offering = await store.offering(session, event.fund_id)
    if offering is None:
        log.warning("sales of a fund never offered here are dropped", fund=str(event.fund_id))
        return
    await store.keep_sales(
        session,
        {
            "fund_id": event.fund_id,
            "period_number": event.period_number,
            "report_id": event.report_id,
            "period_start": event.period_start,
            "period_end": event.period_end,
            "sales": event.sales,
            "adjustment": event.adjustment,
            "approved_at": event.approved_at,
        },
    )
    if offering.terms is None:
        log.warning("sales of a fund without terms are kept only", fund=str(event.fund_id))
        return
    if OfferingStatus(offering.status) is not OfferingStatus.CLOSED_SUCCEEDED:
        log.warning("sales of a fund that did not form are kept only", fund=str(event.fund_id))
        return
    reported = await store.sales(session, event.fund_id)
    last = await store.last_declared(session, event.fund_id)
    for number in rules.next_to_declare(last, [r.period_number for r in reported]):
        await _declare(uow, offering, reported[:number], payment_days=payment_days)


async def _declare(
    uow: UnitOfWork,
    offering: Offering,
    reported: Sequence[ReportedSales],
    *,
    payment_days: int,
) -> None:
    """Declare the last of ``reported`` (periods 1..k, in order): compute, keep, announce."""
    assert offering.terms is not None
    register = await store.register(uow.session, offering.fund_id)
    schedule = rules.distribute(
        rules.terms_from(offering.terms),
        register,
        [PeriodSales(r.sales, r.adjustment) for r in reported],
        lines_of={reported[-1].period_number},
    )
    number = reported[-1].period_number
    if len(schedule.periods) < number:
        log.warning("sales after the fund matured are not distributed", fund=str(offering.fund_id))
        return
    result = schedule.periods[number - 1]
    period = reported[-1]
    now = datetime.now(UTC)
    # A formed offering closed when it formed (its end, if an older row lacks the time).
    formed_at = offering.closed_at or offering.offering_end
    due = fees.fees_due(
        fees.fee_terms_from(offering.terms),
        formed_on=japan_date(formed_at),
        raised=schedule.units * offering.unit_price,
        period_end=period.period_end,
        last=result.last,
        charged=await store.charged_fees(uow.session, offering.fund_id),
    )
    fees_total = sum(fee.amount for fee in due)
    owes = fees_total + result.total_gross + result.success_fee
    reference = new_reference() if owes else None
    payment_due = japan_date(now) + timedelta(days=payment_days) if owes else None
    figures = {
        "fund_id": offering.fund_id,
        "period_number": number,
        "period_start": period.period_start,
        "period_end": period.period_end,
        "sales": result.sales,
        "adjustment": result.adjustment,
        "cumulative_sales": result.cumulative_sales,
        "distributable_sales": result.distributable_sales,
        "below_recoup": result.below_recoup,
        "above_recoup": result.above_recoup,
        "distributable_amount": result.distributable_amount,
        "units": schedule.units,
        "per_unit": result.per_unit,
        "retained": result.retained,
        "success_fee": result.success_fee,
        "investor_count": len(result.lines),
        "total_gross": result.total_gross,
        "total_tax": result.total_tax,
        "total_net": result.total_net,
        "fees": [fee.model_dump(mode="json") for fee in due],
        "fees_total": fees_total,
        "business_owes": owes,
        "payment_reference": reference,
        "payment_due": payment_due,
        "matures": result.last,
    }
    lines = [
        (
            offering.fund_id,
            number,
            UUID(line.holder),
            line.units,
            line.gross,
            line.tax,
            line.net,
            line.cumulative_gross,
            line.cumulative_tax,
            line.remaining_to_recoup,
            line.perk,
        )
        for line in result.lines
    ]
    await store.add_distribution(uow.session, figures, lines)
    count = rules.batches(len(lines), MAX_ALLOCATION_LINES)
    subject = str(offering.fund_id)
    await uow.emit(
        DividendDeclared(
            **{k: v for k, v in figures.items() if k != "fund_id"},
            fund_id=offering.fund_id,
            msme_id=offering.msme_id,
            currency=offering.currency,
            batches=count,
            declared_at=now,
        ),
        subject=subject,
    )
    for batch in range(count):
        chunk = result.lines[batch * MAX_ALLOCATION_LINES : (batch + 1) * MAX_ALLOCATION_LINES]
        await uow.emit(
            DistributionAllocated(
                fund_id=offering.fund_id,
                period_number=number,
                batch=batch + 1,
                batches=count,
                lines=[
                    AllocationLine(
                        investor_id=UUID(line.holder),
                        units=line.units,
                        gross=line.gross,
                        tax=line.tax,
                        net=line.net,
                        cumulative_gross=line.cumulative_gross,
                    )
                    for line in chunk
                ],
                allocated_at=now,
            ),
            subject=subject,
        )


class StatementLineNotFound(NotFound):
    problem = "distribution-line-not-found"
    title = "No distribution to this investor for that fund and period"


def _statement_line(row: store.StatementRow) -> StatementLine:
    line, dist, name, paid_on = row
    return StatementLine(
        fund_id=line.fund_id,
        fund_name=name,
        period_number=line.period_number,
        period_start=dist.period_start,
        period_end=dist.period_end,
        units=line.units,
        per_unit=dist.per_unit,
        gross=line.gross,
        tax=line.tax,
        net=line.net,
        cumulative_gross=line.cumulative_gross,
        cumulative_tax=line.cumulative_tax,
        remaining_to_recoup=line.remaining_to_recoup,
        perk=line.perk,
        declared_at=dist.declared_at,
        paid_on=paid_on,
        payment_status=payment_records.payment_status(paid_on),
    )


async def statement(
    uow: UnitOfWork, *, investor_id: UUID, principal: Principal, cursor: str | None, limit: int
) -> Page[StatementLine]:
    """My page: the investor's distribution statement, a line per fund and period, newest
    period first, each declared or paid (and when)."""
    subscription_rules.check_my_page(principal, investor_id=investor_id)
    rows = await store.statement(uow.session, investor_id, cursor=cursor, limit=limit)
    return page_of(rows, limit=limit, item=_statement_line, key=store.statement_key)


async def statement_line(
    uow: UnitOfWork, *, investor_id: UUID, fund_id: UUID, period_number: int, principal: Principal
) -> StatementLine:
    """One period's line of the investor's statement, for the investor itself and staff."""
    subscription_rules.check_my_page(principal, investor_id=investor_id)
    row = await store.statement_line(uow.session, investor_id, fund_id, period_number)
    if row is None:
        raise StatementLineNotFound(f"no distribution of period {period_number} of this fund")
    return _statement_line(row)


async def statement_pdf(
    uow: UnitOfWork, *, investor_id: UUID, fund_id: UUID, period_number: int, principal: Principal
) -> tuple[str, bytes]:
    """A period's statement as the PDF the investor keeps, and the name to save it under.
    (Rendered in a worker thread: it takes a few tens of milliseconds.)"""
    line = await statement_line(
        uow,
        investor_id=investor_id,
        fund_id=fund_id,
        period_number=period_number,
        principal=principal,
    )
    content = await asyncio.to_thread(documents.statement_pdf, line, investor_id=investor_id)
    return payment_records.statement_filename(fund_id, period_number), content


async def payment_record(
    uow: UnitOfWork, *, investor_id: UUID, year: int, principal: Principal, now: datetime
) -> PaymentRecordOut:
    """What the investor was paid in a calendar year, per fund and in total, once the year
    is over in Japan; for the investor itself and staff."""
    subscription_rules.check_my_page(principal, investor_id=investor_id)
    payment_records.check_year_over(year, today=japan_date(now))
    first, last = payment_records.year_span(year)
    funds = await store.paid_to_investor(uow.session, investor_id, first=first, last=last)
    totals = payment_records.year_totals(fund_totals for _, _, _, fund_totals in funds)
    return PaymentRecordOut(
        investor_id=investor_id,
        year=year,
        available_from=payment_records.available_from(year),
        funds=[
            FundPaymentsOut(fund_id=fund_id, fund_name=name, msme_id=msme_id, **asdict(fund_totals))
            for fund_id, name, msme_id, fund_totals in funds
        ],
        totals=PaymentTotalsOut(**asdict(totals)),
    )


async def payment_record_pdf(
    uow: UnitOfWork, *, investor_id: UUID, year: int, principal: Principal, now: datetime
) -> tuple[str, bytes]:
    """The year's payment record as the PDF the investor keeps, and the name to save it
    under; it says so when nothing was paid."""
    record = await payment_record(
        uow, investor_id=investor_id, year=year, principal=principal, now=now
    )
    content = await asyncio.to_thread(documents.payment_record_pdf, record)
    return payment_records.record_filename(year, investor_id), content


def payment_records_csv(
    uow: UnitOfWork, *, year: int, principal: Principal, cipher: FieldCipher
) -> tuple[str, AsyncIterator[bytes]]:
    """Staff: every investor's payments of a calendar year, per fund, with the investor's
    name and address, as CSV for the tax filing; the file's name and its bytes, streamed
    (the caller sends them as they come, the database read in batches)."""
    payment_records.check_may_read_all_payment_records(principal)
    first, last = payment_records.year_span(year)
    return payment_records.csv_filename(year), _csv(
        uow, first=first, last=last, principal=principal, cipher=cipher
    )


async def _csv(
    uow: UnitOfWork, *, first: date, last: date, principal: Principal, cipher: FieldCipher
) -> AsyncIterator[bytes]:
    yield payment_records.csv_start().encode()
    rows = 0
    async with uow:
        # Personal data leaves with this file: recorded, and committed before any of it.
        await audit.record(
            uow,
            principal=principal,
            action="payment_records_exported",
            entity=AuditEntity.PAYMENT_RECORDS,
            entity_id=first.year,
        )
        await uow.session.commit()
        investor: UUID | None = None
        personal: PersonalDetailsOut | None = None
        async for batch in store.paid_to_everyone(uow.session, first=first, last=last):
            records = []
            for investor_id, blob, fund_id, fund_name, msme_id, totals in batch:
                # Rows come by investor: each investor's details are decrypted once.
                if investor_id != investor or personal is None:
                    investor, personal = investor_id, _personal(investor_id, blob, cipher)
                records.append(
                    payment_records.RecordRow(
                        investor_id=investor_id,
                        full_name=personal.full_name,
                        address=personal.address,
                        fund_id=fund_id,
                        fund_name=fund_name,
                        msme_id=msme_id,
                        totals=totals,
                    )
                )
            rows += len(records)
            yield payment_records.csv_rows(records).encode()
    log.info("payment records sent", year=first.year, rows=rows)


def _personal(investor_id: UUID, blob: bytes, cipher: FieldCipher) -> PersonalDetailsOut:
    """The investor's personal details, decrypted as the investor read does."""
    return PersonalDetailsOut.model_validate(
        cipher.decrypt_json(blob, context=investor_rules.personal_data_context(investor_id))
    )


def simulate(body: SimulationIn) -> SimulationOut:
    """The distributions the terms give for these sales, period by period and per holder."""
    terms = DistributionTerms(**body.terms.model_dump())
    register = (
        {h.holder: h.units for h in body.holders}
        if body.holders is not None
        else {ONE_HOLDER: body.units or 0}
    )
    schedule = rules.distribute(
        terms, register, [PeriodSales(p.sales, p.adjustment) for p in body.periods]
    )
    return SimulationOut(
        units=schedule.units,
        recoup_sales=schedule.recoup_sales,
        matured_at_period=schedule.matured_at_period,
        periods=[
            PeriodOut(
                number=p.number,
                sales=p.sales,
                adjustment=p.adjustment,
                cumulative_sales=p.cumulative_sales,
                distributable_sales=p.distributable_sales,
                below_recoup=p.below_recoup,
                above_recoup=p.above_recoup,
                distributable_amount=p.distributable_amount,
                per_unit=p.per_unit,
                retained=p.retained,
                success_fee=p.success_fee,
                total_gross=p.total_gross,
                total_tax=p.total_tax,
                total_net=p.total_net,
                last=p.last,
                holders=[HolderOut(**line._asdict()) for line in p.lines],
            )
            for p in schedule.periods
        ],
    )
