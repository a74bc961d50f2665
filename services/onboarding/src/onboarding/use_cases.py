"""What staff can do in onboarding; each use case runs in one unit of work."""

from __future__ import annotations

import uuid
from uuid import UUID

from sqlalchemy import select

from kumiai.auth import Principal
from kumiai.contracts.onboarding import FundOpened
from kumiai.db import UnitOfWork
from kumiai.errors import NotFound, UnprocessableContent
from onboarding.db.models import Fund
from onboarding.domain.funds import FundTerms, InvalidFundTerms, TermLimits, validate_terms
from onboarding.schemas import FundOut, FundTermsIn


class FundTermsRejected(UnprocessableContent):
    problem = "fund-terms-invalid"
    title = "Fund terms break a rule"


def _out(fund: Fund) -> FundOut:
    return FundOut(
        id=fund.id,
        msme_id=fund.msme_id,
        name=fund.name,
        currency=fund.currency,
        unit_price=fund.unit_price,
        handling_fee_per_unit=fund.handling_fee_per_unit,
        units_offered=fund.units_offered,
        formation_threshold_units=fund.formation_threshold_units,
        max_units_per_investor=fund.max_units_per_investor,
        offering_start=fund.offering_start,
        offering_end=fund.offering_end,
        target_amount=fund.unit_price * fund.units_offered,
        status=fund.status,
        published_at=fund.published_at,
    )


async def publish_fund(
    uow: UnitOfWork, *, terms_in: FundTermsIn, limits: TermLimits, principal: Principal
) -> FundOut:
    """Validate and freeze a fund's terms, and announce it with ``FundOpened``."""
    terms = FundTerms(**terms_in.model_dump())
    try:
        validate_terms(terms, limits)
    except InvalidFundTerms as exc:
        raise FundTermsRejected(
            str(exc),
            invalid_params=[{"name": f"body.{k}", "reason": v} for k, v in exc.problems.items()],
        ) from exc
    fund = Fund(
        id=uuid.uuid4(), status="open", published_by=principal.subject, **terms_in.model_dump()
    )
    uow.session.add(fund)
    await uow.session.flush()
    await uow.emit(
        FundOpened(
            fund_id=fund.id,
            msme_id=terms.msme_id,
            name=terms.name,
            currency=terms.currency,
            unit_price=terms.unit_price,
            handling_fee_per_unit=terms.handling_fee_per_unit,
            units_offered=terms.units_offered,
            formation_threshold_units=terms.formation_threshold_units,
            max_units_per_investor=terms.max_units_per_investor,
            offering_start=terms.offering_start,
            offering_end=terms.offering_end,
        ),
        subject=str(fund.id),
    )
    await uow.session.refresh(fund)
    return _out(fund)


async def get_fund(uow: UnitOfWork, *, fund_id: UUID) -> FundOut:
    """One published fund."""
    fund = await uow.session.scalar(select(Fund).where(Fund.id == fund_id))
    if fund is None:
        raise NotFound(f"no fund {fund_id}")
    return _out(fund)
