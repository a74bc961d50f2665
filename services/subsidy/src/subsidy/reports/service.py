"""Reports: where a programme stands, and what a fiscal year's subsidies leveraged (as
JSON, as a CSV file for Excel, and as a chart for a council report)."""

from __future__ import annotations

from uuid import UUID

from kumiai.db import UnitOfWork
from kumiai.principal import Principal
from subsidy.applications import service as applications
from subsidy.applications.rules import ApplicationStatus, ranks, score_text
from subsidy.awards import service as awards
from subsidy.awards.rules import AwardStatus
from subsidy.programmes import rules as programme_rules
from subsidy.programmes import service as programmes
from subsidy.reports import charts, files, store
from subsidy.reports.programme_report import ApplicantAwardOut, ApplicantOut, ProgrammeReportOut
from subsidy.reports.rules import LeverageTable, leverage_table
from subsidy.reports.schemas import LeverageOut, leverage_out


async def programme_report(
    uow: UnitOfWork, *, programme_id: UUID, principal: Principal
) -> ProgrammeReportOut:
    """The programme's budget and awards used and left, and every applicant with its
    status, score, rank, reviewers and award: for staff and the programme's municipality."""
    programme = await programmes.managed(uow, programme_id=programme_id, principal=principal)
    rows = await applications.of_programme(uow, programme_id)
    granted = {a.programme_application_id: a for a in await awards.of_programme(uow, programme_id)}
    places = ranks([row.score_centi for row in rows])
    applicants = []
    for row, rank in zip(rows, places, strict=True):
        award = granted.get(row.id)
        applicants.append(
            ApplicantOut(
                programme_application_id=row.id,
                application_id=row.application_id,
                msme_id=row.msme_id,
                municipality_code=row.municipality_code,
                status=ApplicationStatus(row.status),
                score=score_text(row.score_centi),
                score_centi=row.score_centi,
                rank=rank,
                reviewers=row.reviewers,
                passed=row.passed,
                award=None
                if award is None
                else ApplicantAwardOut(
                    award_id=award.id,
                    fund_id=award.fund_id,
                    amount=award.amount,
                    status=AwardStatus(award.status),
                    granted_at=award.granted_at,
                    repayment_due=award.repayment_due,
                ),
            )
        )
    return ProgrammeReportOut(
        programme_id=programme.id,
        municipality_code=programme.municipality_code,
        name=programme.name,
        fiscal_year=programme.fiscal_year,
        budget=programme.budget,
        used=programme.reserved,
        left=programme_rules.left(programme.budget, programme.reserved),
        max_awards=programme.max_awards,
        awards_used=programme.awards_count,
        awards_left=programme_rules.left(programme.max_awards, programme.awards_count),
        pass_mark=programme.pass_mark,
        reviewers_required=programme.reviewers_required,
        applications_close_at=programme.applications_close_at,
        applicants=applicants,
    )


async def _leverage(
    uow: UnitOfWork, *, principal: Principal, fiscal_year: int, municipality_code: str | None
) -> tuple[LeverageTable, str | None]:
    code = programme_rules.reported_municipality(principal, municipality_code)
    facts = await store.leverage_facts(uow.session, fiscal_year=fiscal_year, municipality_code=code)
    return leverage_table(facts, fiscal_year=fiscal_year), code


async def leverage(
    uow: UnitOfWork, *, principal: Principal, fiscal_year: int, municipality_code: str | None
) -> LeverageOut:
    """What the fiscal year's programmes leveraged, one line each and the total: staff for
    every municipality or one, a municipality for its own."""
    table, _ = await _leverage(
        uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
    )
    return leverage_out(table)


async def leverage_csv(
    uow: UnitOfWork, *, principal: Principal, fiscal_year: int, municipality_code: str | None
) -> tuple[str, bytes]:
    """The leverage report as a CSV file Excel opens in Japanese: its name and bytes."""
    table, code = await _leverage(
        uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
    )
    return files.leverage_csv_filename(fiscal_year, code), files.leverage_csv(table)


async def leverage_chart(
    uow: UnitOfWork, *, principal: Principal, fiscal_year: int, municipality_code: str | None
) -> tuple[str, bytes]:
    """The leverage report as an SVG chart for a council report: its name and bytes."""
    table, code = await _leverage(
        uow, principal=principal, fiscal_year=fiscal_year, municipality_code=municipality_code
    )
    return charts.leverage_svg_filename(fiscal_year, code), charts.leverage_svg(table)
