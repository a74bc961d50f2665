"""Offerings in the database: what is read, and the statements that close one.

Closing follows the lock order of decision 0007 (subscription -> position ->
issuer commitment -> offering -> outbox): the closer locks the fund's live
subscriptions (``subscriptions.service``) before this module takes the
offering's row, ``FOR NO KEY UPDATE`` like every writer of that row, so the
foreign-key checks of an order's new rows (``KEY SHARE``) never queue behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import Exists, Select, and_, exists, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kumiai.pagination import decode_cursor
from kumiai.principal import Principal
from subscription.db.models import Holding, Offering, Subscription
from subscription.offerings import rules
from subscription.offerings.rules import OfferingStatus, OfferingTerms
from subscription.subscriptions.rules import SubscriptionStatus

# Every column travels as one array: a batch of openings is one statement and one
# execution, whatever its size. WITH ORDINALITY keeps the batch's order, so the first
# opening of a fund in it is the one inserted.
_INSERT_OFFERINGS = text(
    "INSERT INTO offerings (fund_id, msme_id, name, currency, unit_price,"
    " handling_fee_per_unit, donation_per_unit, units_offered, units_sold,"
    " units_confirmed, investors, formation_threshold_units, max_units_per_investor,"
    " offering_start, offering_end, terms_digest, terms, status, opened_by_event) "
    "SELECT o.fund_id, o.msme_id, o.name, o.currency, o.unit_price,"
    " o.handling_fee_per_unit, o.donation_per_unit, o.units_offered, 0, 0, 0,"
    " o.formation_threshold_units, o.max_units_per_investor, o.offering_start,"
    " o.offering_end, o.terms_digest, CAST(o.terms AS jsonb), :status, o.opened_by_event "
    "FROM unnest(CAST(:fund_ids AS uuid[]), CAST(:msme_ids AS uuid[]),"
    " CAST(:names AS text[]), CAST(:currencies AS text[]), CAST(:unit_prices AS bigint[]),"
    " CAST(:handling_fees AS bigint[]), CAST(:donations AS bigint[]),"
    " CAST(:units_offered AS integer[]), CAST(:thresholds AS integer[]),"
    " CAST(:maxima AS integer[]), CAST(:starts AS timestamptz[]),"
    " CAST(:ends AS timestamptz[]), CAST(:digests AS text[]), CAST(:terms AS text[]),"
    " CAST(:event_ids AS uuid[])) WITH ORDINALITY AS o(fund_id, msme_id, name, currency,"
    " unit_price, handling_fee_per_unit, donation_per_unit, units_offered,"
    " formation_threshold_units, max_units_per_investor, offering_start, offering_end,"
    " terms_digest, terms, opened_by_event, ordinal) "
    "ORDER BY o.ordinal "
    "ON CONFLICT (fund_id) DO NOTHING"
)


async def insert_offerings(
    session: AsyncSession, opened: Iterable[tuple[OfferingTerms, UUID]]
) -> None:
    """Put funds on offer once each, however often their opening events are delivered
    (one statement for a batch of openings; the first opening of a fund wins)."""
    # Read once, column by column: each opening's terms are freed as soon as they are
    # copied, so a large batch keeps only plain values alive until the statement runs.
    columns: dict[str, list[object]] = {name: [] for name in (*_COLUMNS, "event_ids")}
    for terms, event_id in opened:
        for name, attribute in _COLUMNS.items():
            columns[name].append(getattr(terms, attribute))
        columns["terms"][-1] = None if terms.terms is None else _json(terms.terms)
        columns["event_ids"].append(event_id)
    if not columns["event_ids"]:
        return
    await session.execute(_INSERT_OFFERINGS, {"status": OfferingStatus.OPEN.value, **columns})


_COLUMNS = {
    "fund_ids": "fund_id",
    "msme_ids": "msme_id",
    "names": "name",
    "currencies": "currency",
    "unit_prices": "unit_price",
    "handling_fees": "handling_fee_per_unit",
    "donations": "donation_per_unit",
    "units_offered": "units_offered",
    "thresholds": "formation_threshold_units",
    "maxima": "max_units_per_investor",
    "starts": "offering_start",
    "ends": "offering_end",
    "digests": "terms_digest",
    "terms": "terms",
}
"""The statement's array parameters, each from one attribute of ``OfferingTerms``."""


def _json(terms: dict[str, object]) -> str:
    # The terms are already JSON-ready (``rules.terms_of``); serialised without Python's
    # encoder, which costs as much as the rest of a row.
    return to_json(terms).decode()


async def readable_offering(
    session: AsyncSession, fund_id: UUID, principal: Principal | None = None
) -> Offering:
    """The offering, if ``rules.may_read`` lets the caller see it; 404 otherwise."""
    offering = await session.get(Offering, fund_id)
    if offering is None or not rules.may_read(principal):
        raise rules.no_offering()
    return offering


async def readable_offerings(
    session: AsyncSession, *, cursor: str | None, limit: int, principal: Principal | None = None
) -> Sequence[Offering]:
    """Up to ``limit + 1`` offerings the caller may see, by fund id, after ``cursor``."""
    if not rules.may_read(principal):
        return []
    query = select(Offering).order_by(Offering.fund_id).limit(limit + 1)
    if cursor is not None:
        (after,) = decode_cursor(cursor, UUID)
        query = query.where(Offering.fund_id > after)
    return (await session.scalars(query)).all()


def _unpaid(fund_id: InstrumentedAttribute[UUID]) -> Exists:
    return exists().where(
        Subscription.fund_id == fund_id, Subscription.status == SubscriptionStatus.PLACED.value
    )


def _cooling_off(fund_id: InstrumentedAttribute[UUID], now: datetime) -> Exists:
    return exists().where(
        Subscription.fund_id == fund_id,
        Subscription.status == SubscriptionStatus.CONFIRMED.value,
        Subscription.cooling_off_until > now,
    )


async def next_due_to_close(session: AsyncSession, now: datetime) -> UUID | None:
    """An open offering that ``rules.may_close`` would close at ``now``, earliest end first:
    ended or sold out, with nothing unpaid and nothing still in its cooling-off period."""
    fund_id: UUID | None = await session.scalar(
        select(Offering.fund_id)
        .where(
            Offering.status == OfferingStatus.OPEN.value,
            or_(Offering.offering_end <= now, Offering.units_sold >= Offering.units_offered),
            ~_unpaid(Offering.fund_id),
            ~_cooling_off(Offering.fund_id, now),
        )
        .order_by(Offering.offering_end)
        .limit(1)
    )
    return fund_id


async def lock_open_offering(session: AsyncSession, fund_id: UUID) -> Offering | None:
    """Lock the offering's row if it is still open and no other closer holds it."""
    offering: Offering | None = await session.scalar(
        select(Offering)
        .where(Offering.fund_id == fund_id, Offering.status == OfferingStatus.OPEN.value)
        .with_for_update(key_share=True, skip_locked=True)
    )
    return offering


async def lock_offering(session: AsyncSession, fund_id: UUID) -> Offering:
    """Lock the offering's row (waiting for it) and read it afresh."""
    offering = await session.get(
        Offering, fund_id, with_for_update={"key_share": True}, populate_existing=True
    )
    assert offering is not None, "offerings are never deleted"
    return offering


async def pending_subscriptions(
    session: AsyncSession, fund_id: UUID, now: datetime
) -> tuple[int, int]:
    """How many of the fund's subscriptions await payment, and how many paid ones may still
    be cancelled (``rules.may_close``), read afresh under the offering's lock."""
    unpaid, cooling = (
        await session.execute(
            select(
                func.count().filter(Subscription.status == SubscriptionStatus.PLACED.value),
                func.count().filter(
                    and_(
                        Subscription.status == SubscriptionStatus.CONFIRMED.value,
                        Subscription.cooling_off_until > now,
                    )
                ),
            ).where(Subscription.fund_id == fund_id)
        )
    ).one()
    return int(unpaid), int(cooling)


def _paid_per_investor(fund_id: UUID) -> Select[UUID, UUID, int, int | None]:
    # Holdings are the paid subscriptions (subscriptions.rules.is_held), one line per investor.
    return (
        select(
            Subscription.fund_id,
            Subscription.investor_id,
            func.sum(Subscription.units).label("units"),
            func.sum(Subscription.amount_paid).label("amount_paid"),
        )
        .where(
            Subscription.fund_id == fund_id,
            Subscription.status == SubscriptionStatus.CONFIRMED.value,
        )
        .group_by(Subscription.fund_id, Subscription.investor_id)
    )


async def paying_investors(session: AsyncSession, fund_id: UUID) -> int:
    """How many investors paid for units of the fund."""
    subquery = _paid_per_investor(fund_id).subquery()
    return int(await session.scalar(select(func.count()).select_from(subquery)) or 0)


async def freeze_register(session: AsyncSession, fund_id: UUID) -> None:
    """Write the formed fund's holdings register: who paid for how many units (append-only)."""
    await session.execute(
        insert(Holding).from_select(
            ["fund_id", "investor_id", "units", "amount_paid"], _paid_per_investor(fund_id)
        )
    )


async def reread(session: AsyncSession, offering: Offering) -> None:
    """Read the offering's row again, as the statements of this transaction left it."""
    await session.refresh(offering)
