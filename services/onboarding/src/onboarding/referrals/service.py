"""A partner bank's referrals: the businesses it referred, where their latest application
stands, and each fund with what was raised and whether it counts as capital-like debt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

from kumiai.auth import Principal
from kumiai.db import UnitOfWork
from kumiai.pagination import MAX_LIMIT, Page
from onboarding.applications.rules import Step
from onboarding.db.models import Application, Fund, Msme
from onboarding.referrals import files, rules, store
from onboarding.referrals.schemas import (
    LatestApplicationOut,
    ReferralOut,
    ReferredFundOut,
    ecldb_out,
)


def fund_out(fund: Fund, as_of: date) -> ReferredFundOut:
    """A fund as its business's bank sees it on ``as_of``."""
    facts = rules.facts_of(fund)
    eligibility = rules.ecldb_eligibility(facts, as_of)
    return ReferredFundOut(
        id=fund.id,
        name=fund.name,
        status=facts.status,
        amount_raised=fund.amount_raised,
        currency=fund.currency,
        term_months=facts.term_months,
        formed_on=facts.formed_on,
        term_ends_on=eligibility.term_ends_on,
        remaining_term_months=eligibility.remaining_months,
        subordinated=facts.subordinated,
        ecldb=ecldb_out(eligibility),
    )


def _business(msme: Msme) -> ReferralOut:
    return ReferralOut(
        msme_id=msme.id,
        company_name=msme.company_name,
        corporate_number=msme.corporate_number,
        municipality_code=msme.municipality_code,
        latest_application=None,
        funds=[],
    )


def _completed(
    referral: ReferralOut,
    applications: Mapping[UUID, Application],
    funds: Mapping[UUID, Sequence[Fund]],
    as_of: date,
) -> ReferralOut:
    application = applications.get(referral.msme_id)
    return referral.model_copy(
        update={
            "latest_application": None
            if application is None
            else LatestApplicationOut(
                id=application.id,
                step=Step(application.step),
                step_entered_at=application.step_entered_at,
            ),
            "funds": [fund_out(f, as_of) for f in funds.get(referral.msme_id, ())],
        }
    )


async def _page(
    uow: UnitOfWork, *, bank_id: str, as_of: date, cursor: str | None, limit: int
) -> Page[ReferralOut]:
    session = uow.session
    page = await store.referred_businesses(
        session, bank_id=bank_id, cursor=cursor, limit=limit, item=_business
    )
    ids = [r.msme_id for r in page.items]
    applications = await store.latest_applications(session, ids)
    funds = await store.funds_of(session, ids)
    return Page[ReferralOut](
        items=[_completed(r, applications, funds, as_of) for r in page.items],
        next_cursor=page.next_cursor,
    )


async def list_referrals(
    uow: UnitOfWork,
    *,
    bank_id: str,
    principal: Principal,
    as_of: date,
    cursor: str | None,
    limit: int,
) -> Page[ReferralOut]:
    """The businesses a bank referred, oldest first, with their funds' eligibility as
    capital-like debt on ``as_of``; for the bank itself and staff."""
    bank_id = await store.readable_bank(uow.session, bank_id, principal)
    return await _page(uow, bank_id=bank_id, as_of=as_of, cursor=cursor, limit=limit)


async def referrals_csv(
    uow: UnitOfWork, *, bank_id: str, principal: Principal, as_of: date
) -> tuple[str, bytes]:
    """Every business a bank referred as a CSV file Excel opens in Japanese: its name and
    bytes."""
    bank_id = await store.readable_bank(uow.session, bank_id, principal)
    referrals: list[ReferralOut] = []
    cursor: str | None = None
    while True:
        page = await _page(uow, bank_id=bank_id, as_of=as_of, cursor=cursor, limit=MAX_LIMIT)
        referrals.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return files.referrals_csv_filename(bank_id, as_of), files.referrals_csv(referrals, as_of)
