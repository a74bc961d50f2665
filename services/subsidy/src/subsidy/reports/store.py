"""The figures the reports add up, read from programmes, awards and funds in one query."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subsidy.awards.rules import SUBSIDISING, AwardStatus
from subsidy.db.models import Award, FundFact, Programme
from subsidy.facts.rules import FundStatus
from subsidy.reports.rules import LeverageFacts


async def leverage_facts(
    session: AsyncSession, *, fiscal_year: int, municipality_code: str | None
) -> list[LeverageFacts]:
    """Each programme of the fiscal year (of one municipality if given) with its figures:
    its granted or paid awards whose fund formed and what those funds raised, the subsidy
    granted (granted or paid) and the subsidy paid (``reports.rules.LeverageFacts``)."""
    subsidising = Award.status.in_([s.value for s in SUBSIDISING])
    formed = subsidising & (FundFact.status == FundStatus.FORMED.value)
    query = (
        select(
            Programme.id,
            Programme.municipality_code,
            Programme.name,
            Programme.fiscal_year,
            Programme.currency,
            func.count(Award.id).filter(formed),
            func.coalesce(func.sum(FundFact.amount_raised).filter(formed), 0),
            func.coalesce(func.sum(Award.amount).filter(subsidising), 0),
            func.coalesce(func.sum(Award.amount).filter(Award.status == AwardStatus.PAID.value), 0),
        )
        .outerjoin(Award, Award.programme_id == Programme.id)
        .outerjoin(FundFact, FundFact.fund_id == Award.fund_id)
        .where(Programme.fiscal_year == fiscal_year)
        .group_by(Programme.id)
    )
    if municipality_code is not None:
        query = query.where(Programme.municipality_code == municipality_code)
    rows = (await session.execute(query)).all()
    return [
        LeverageFacts(
            programme_id=row[0],
            municipality_code=row[1],
            name=row[2],
            fiscal_year=row[3],
            currency=row[4],
            funds=int(row[5] or 0),
            raised=int(row[6] or 0),
            subsidy_granted=int(row[7] or 0),
            subsidy_paid=int(row[8] or 0),
        )
        for row in rows
    ]
