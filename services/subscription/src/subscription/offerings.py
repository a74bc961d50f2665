"""Offerings: created from ``FundOpened``, read by anyone (public progress)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from kumiai.contracts.onboarding import AnyFundOpened, FundOpened
from kumiai.db import UnitOfWork
from kumiai.errors import NotFound
from kumiai.pagination import Page, decode_cursor, page_of
from subscription.db.models import Offering
from subscription.domain.offerings import days_left, offering_phase
from subscription.schemas import OfferingOut


class OfferingNotFound(NotFound):
    problem = "offering-not-found"
    title = "No such offering"


async def open_offering(uow: UnitOfWork, event: AnyFundOpened, *, event_id: UUID) -> None:
    """Put a newly opened fund on offer (once, however often the event is delivered)."""
    await uow.session.execute(
        insert(Offering)
        .values(
            fund_id=event.fund_id,
            msme_id=event.msme_id,
            name=event.name,
            currency=event.currency,
            unit_price=event.unit_price,
            handling_fee_per_unit=event.handling_fee_per_unit,
            donation_per_unit=event.donation_per_unit if isinstance(event, FundOpened) else 0,
            units_offered=event.units_offered,
            units_sold=0,
            units_confirmed=0,
            investors=0,
            formation_threshold_units=event.formation_threshold_units,
            max_units_per_investor=event.max_units_per_investor,
            offering_start=event.offering_start,
            offering_end=event.offering_end,
            terms_digest=event.terms_digest if isinstance(event, FundOpened) else None,
            status="open",
            opened_by_event=event_id,
        )
        .on_conflict_do_nothing(index_elements=[Offering.fund_id])
    )


def offering_out(offering: Offering, now: datetime) -> OfferingOut:
    return OfferingOut(
        fund_id=offering.fund_id,
        msme_id=offering.msme_id,
        name=offering.name,
        currency=offering.currency,
        unit_price=offering.unit_price,
        handling_fee_per_unit=offering.handling_fee_per_unit,
        donation_per_unit=offering.donation_per_unit,
        price_per_unit_with_fee=offering.unit_price + offering.handling_fee_per_unit,
        units_offered=offering.units_offered,
        units_sold=offering.units_sold,
        units_confirmed=offering.units_confirmed,
        investors=offering.investors,
        formation_threshold_units=offering.formation_threshold_units,
        max_units_per_investor=offering.max_units_per_investor,
        offering_start=offering.offering_start,
        offering_end=offering.offering_end,
        terms_digest=offering.terms_digest,
        status=offering.status,
        phase=offering_phase(
            now=now,
            start=offering.offering_start,
            end=offering.offering_end,
            units_sold=offering.units_sold,
            units_offered=offering.units_offered,
        ),
        days_left=days_left(now=now, end=offering.offering_end),
    )


async def get_offering(uow: UnitOfWork, *, fund_id: UUID) -> OfferingOut:
    """One offering's public progress."""
    offering = await uow.session.get(Offering, fund_id)
    if offering is None:
        raise OfferingNotFound("no such offering")
    return offering_out(offering, datetime.now(UTC))


async def list_offerings(uow: UnitOfWork, *, limit: int, cursor: str | None) -> Page[OfferingOut]:
    """Offerings in a stable order (by fund id), a page at a time."""
    query = select(Offering).order_by(Offering.fund_id).limit(limit + 1)
    if cursor is not None:
        (after,) = decode_cursor(cursor, UUID)
        query = query.where(Offering.fund_id > after)
    rows = (await uow.session.scalars(query)).all()
    now = datetime.now(UTC)
    return page_of(
        rows, limit=limit, item=lambda o: offering_out(o, now), key=lambda o: (o.fund_id,)
    )
