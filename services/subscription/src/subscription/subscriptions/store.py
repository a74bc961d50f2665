"""Subscriptions in the database: the conditional statements that hold the inventory and
the limits, the timers' claims, and what a caller may read.

Every change to an offering's inventory is one conditional statement on its
row, taken after the investor's own rows and before the outbox, in the same
order everywhere: subscription -> position -> issuer commitment -> offering
-> outbox (decision 0007). So no interleaving oversells and none deadlocks.
Statuses in SQL text are the values of ``rules.SubscriptionStatus`` and
``offerings.rules.OfferingStatus``, written as literals where a partial index
or the statement's plan needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, TextClause, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kumiai.outbox import guarded_events_statement
from kumiai.pagination import decode_cursor
from kumiai.principal import Principal
from subscription.db.models import Holding, Offering, Position, Subscription
from subscription.investors.rules import Standing, VerificationStatus
from subscription.offerings.rules import OfferingStatus
from subscription.subscriptions import rules
from subscription.subscriptions.rules import (
    FailedFundRefund,
    NewSubscription,
    Offer,
    OrderFacts,
    Release,
    SubscriptionStatus,
)

# What an order is decided on (rules.OrderFacts), in one statement read before any lock:
# the investor's standing (investors.rules.Standing), the offering, and the investor's
# position in the fund (none if it never ordered in it: rules.refused_before_key).
ORDER_FACTS = text(
    "SELECT i.id IS NOT NULL AS registered, i.verification, i.risk_notice_version, "
    "o.fund_id IS NOT NULL AS offered, o.status, o.offering_start, o.offering_end, "
    "o.terms_digest, o.units_sold, o.units_offered, o.unit_price, o.handling_fee_per_unit, "
    "o.currency, o.msme_id, o.max_units_per_investor, p.units AS held "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN investors AS i ON i.id = :investor "
    "LEFT JOIN offerings AS o ON o.fund_id = :fund "
    "LEFT JOIN positions AS p ON p.fund_id = :fund AND p.investor_id = :investor"
)
# The fund's maximum per investor (rules.check_investor_limit): the investor's position
# grows only while it stays within :most; on a first order the caller compares.
RESERVE_POSITION = text(
    "INSERT INTO positions (fund_id, investor_id, units) VALUES (:fund, :investor, :units) "
    "ON CONFLICT (fund_id, investor_id) DO UPDATE SET units = positions.units + EXCLUDED.units "
    "WHERE positions.units + EXCLUDED.units <= :most RETURNING units"
)
# The yearly limit per issuer (rules.check_issuer_limit), in two statements. First the
# investor's row for the issuer is created or locked (LOCK_ISSUER, the second part), and
# stays locked until commit, so the investor's subscriptions to one issuer are placed one
# at a time. It is taken in the statement of RESERVE_POSITION (repeated as its first part),
# from the position's answer: so always after the position (the lock order), and only when
# the position was granted.
RESERVE_POSITION_AND_LOCK_ISSUER = text(
    "WITH position AS ("
    "INSERT INTO positions (fund_id, investor_id, units) VALUES (:fund, :investor, :units) "
    "ON CONFLICT (fund_id, investor_id) DO UPDATE SET units = positions.units + EXCLUDED.units "
    "WHERE positions.units + EXCLUDED.units <= :most RETURNING units"
    "), issuer AS ("
    "INSERT INTO issuer_commitments (investor_id, msme_id, last_placed_at) "
    "SELECT CAST(:investor AS uuid), CAST(:msme AS uuid), CAST(:now AS timestamptz) "
    "FROM position WHERE position.units <= :most "
    "ON CONFLICT (investor_id, msme_id) DO UPDATE "
    "SET last_placed_at = greatest(issuer_commitments.last_placed_at, EXCLUDED.last_placed_at)"
    ") SELECT units FROM position"
)
# A new subscription's row, written before the offering's (the lock order).
ADD_SUBSCRIPTION = text(
    "INSERT INTO subscriptions (id, fund_id, investor_id, msme_id, units, unit_price, "
    "handling_fee_per_unit, amount_due, currency, payment_reference, payment_deadline, "
    "cooling_off_until, terms_digest, status, placed_at) VALUES (:id, :fund, :investor, :msme, "
    ":units, :unit_price, :fee, :amount_due, :currency, :reference, :deadline, :cooling_off, "
    ":terms_digest, :status, :placed_at)"
)
# ... then, in a statement whose snapshot is taken after the lock (so it sees every
# subscription committed before), the live ones (rules.LIVE_STATUSES, written out for the
# partial index ix_subscriptions_issuer_window) since rules.issuer_limit_window_start are
# summed (COMMITTED_TO_ISSUER, the CTE). No upper bound on placed_at: one placed by a server
# whose clock runs ahead counts. The same statement writes the new subscription (ADD_SUBSCRIPTION;
# the sum's snapshot does not see it): if the sum refuses it, the order raises and the
# transaction, row included, rolls back before the issuer's row is released.
ADD_SUBSCRIPTION_COUNTING_ISSUER = text(
    "WITH committed AS ("
    "SELECT coalesce(sum(units::bigint * unit_price), 0) AS total FROM subscriptions "
    "WHERE investor_id = :investor AND msme_id = :msme "
    "AND status IN ('placed', 'confirmed') AND placed_at > :since"
    ") INSERT INTO subscriptions (id, fund_id, investor_id, msme_id, units, unit_price, "
    "handling_fee_per_unit, amount_due, currency, payment_reference, payment_deadline, "
    "cooling_off_until, terms_digest, status, placed_at) VALUES (:id, :fund, :investor, :msme, "
    ":units, :unit_price, :fee, :amount_due, :currency, :reference, :deadline, :cooling_off, "
    ":terms_digest, :status, :placed_at) RETURNING (SELECT total FROM committed)"
)
# No overselling (rules.check_units_left) and only while the offering takes subscriptions
# (offerings.rules.takes_subscriptions; 'open' is OfferingStatus.OPEN): the offering's row
# is the hot one, so this is the order's last statement before the outbox. A group of
# orders (subscriptions.placing) is taken at once: placed between :first and :last.
_TAKE_UNITS = (
    "UPDATE offerings SET units_sold = units_sold + :units, investors = investors + :new "
    "WHERE fund_id = :fund AND status = 'open' AND units_sold + :units <= units_offered "
    "AND offering_start <= :first AND offering_end > :last RETURNING units_sold"
)
TAKE_UNITS = text(_TAKE_UNITS)
# A group's TAKE_UNITS and its events (kumiai.outbox.record_events) in one statement: the
# offering's row is held for that statement and the commit only.
TAKE_UNITS_AND_RECORD = guarded_events_statement(_TAKE_UNITS)
# Why TAKE_UNITS took nothing (rules.refuse_lost_race), read after it.
OFFERING_STATE = text("SELECT status, offering_end FROM offerings WHERE fund_id = :fund")
# A cancelled subscription's units go back (rules.release): position, then offering.
RELEASE_POSITION = text(
    "UPDATE positions SET units = units - :units "
    "WHERE fund_id = :fund AND investor_id = :investor RETURNING units"
)
RELEASE_UNITS = text(
    "UPDATE offerings SET units_sold = units_sold - :units, "
    "units_confirmed = units_confirmed - :confirmed, investors = investors - :gone "
    "WHERE fund_id = :fund"
)
CONFIRM_UNITS = text(
    "UPDATE offerings SET units_confirmed = units_confirmed + :units WHERE fund_id = :f"
)


# -- Placing -----------------------------------------------------------------------------


async def order_facts(engine: AsyncEngine, *, fund_id: UUID, investor_id: UUID) -> OrderFacts:
    """What an order is decided on (``ORDER_FACTS``), read on a connection of its own
    without a transaction: one round trip, and no lock."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await conn.execute(ORDER_FACTS, {"fund": fund_id, "investor": investor_id})).one()
    standing = (
        Standing(
            verification=VerificationStatus(row.verification),
            risk_notice_version=row.risk_notice_version,
        )
        if row.registered
        else None
    )
    offer = (
        Offer(
            status=OfferingStatus(row.status),
            start=row.offering_start,
            end=row.offering_end,
            terms_digest=row.terms_digest,
            units_sold=row.units_sold,
            units_offered=row.units_offered,
            unit_price=row.unit_price,
            handling_fee_per_unit=row.handling_fee_per_unit,
            currency=row.currency,
            msme_id=row.msme_id,
            max_units_per_investor=row.max_units_per_investor,
        )
        if row.offered
        else None
    )
    return OrderFacts(standing=standing, offer=offer, held=row.held)


async def reserve_position(
    session: AsyncSession,
    *,
    fund_id: UUID,
    investor_id: UUID,
    units: int,
    most: int,
    lock_issuer: UUID | None,
    now: datetime,
) -> int | None:
    """Add ``units`` to the investor's position in the fund within ``most``
    (``RESERVE_POSITION``): the units held afterwards, or none if that would pass ``most``.

    With ``lock_issuer``, the investor's row for that issuer is then locked until commit in
    the same statement (``RESERVE_POSITION_AND_LOCK_ISSUER``).
    """
    params = {"fund": fund_id, "investor": investor_id, "units": units, "most": most}
    if lock_issuer is None:
        held: int | None = await session.scalar(RESERVE_POSITION, params)
        return held
    params |= {"msme": lock_issuer, "now": now}
    held = await session.scalar(RESERVE_POSITION_AND_LOCK_ISSUER, params)
    return held


async def add_subscription(
    session: AsyncSession, subscription: NewSubscription, *, issuer_window_start: datetime | None
) -> int:
    """Write a new subscription's row (before the offering's, in the lock order); with
    ``issuer_window_start``, answer in the same statement what the investor had committed to
    the issuer since then (``ADD_SUBSCRIPTION_COUNTING_ISSUER``), else 0."""
    params = {
        "id": subscription.id,
        "fund": subscription.fund_id,
        "investor": subscription.investor_id,
        "msme": subscription.msme_id,
        "units": subscription.units,
        "unit_price": subscription.unit_price,
        "fee": subscription.handling_fee_per_unit,
        "amount_due": subscription.amount_due,
        "currency": subscription.currency,
        "reference": subscription.payment_reference,
        "deadline": subscription.payment_deadline,
        "cooling_off": subscription.cooling_off_until,
        "terms_digest": subscription.terms_digest,
        "status": subscription.status.value,
        "placed_at": subscription.placed_at,
    }
    if issuer_window_start is None:
        await session.execute(ADD_SUBSCRIPTION, params)
        return 0
    params["since"] = issuer_window_start
    return int(await session.scalar(ADD_SUBSCRIPTION_COUNTING_ISSUER, params) or 0)


async def take_units(
    session: AsyncSession,
    *,
    fund_id: UUID,
    units: int,
    new_investors: int,
    first: datetime,
    last: datetime | None = None,
) -> int | None:
    """Take ``units`` from the offering for orders placed from ``first`` to ``last`` (one
    order: its time), ``new_investors`` of whom join the fund (``TAKE_UNITS``): the units
    sold afterwards, or none if it sold out, closed or ended meanwhile."""
    sold: int | None = await session.scalar(
        TAKE_UNITS,
        {
            "fund": fund_id,
            "units": units,
            "new": new_investors,
            "first": first,
            "last": first if last is None else last,
        },
    )
    return sold


async def offering_state(session: AsyncSession, fund_id: UUID) -> tuple[OfferingStatus, datetime]:
    """The offering's status and end, as another transaction left them (``OFFERING_STATE``)."""
    row = (await session.execute(OFFERING_STATE, {"fund": fund_id})).one()
    return OfferingStatus(row.status), row.offering_end


# -- Placing in groups (subscriptions.placing) ------------------------------------------
# The statements of one fund's orders placed together, each the group form of the
# single order's statement above, taken in the same lock order: positions (by investor),
# issuer rows (by investor), subscriptions, the offering, the outbox. Rows go in sorted by
# investor, so that two groups of the fund take their rows in one order and never deadlock.
# The issuer's part runs only with :lock_issuer (rules.issuer_limit_applies), in the same
# statement: the issuer rows of investors whose position was granted, in investor order.
RESERVE_POSITIONS = text(
    "WITH wanted AS (SELECT * FROM unnest(CAST(:investors AS uuid[]), CAST(:units AS int[])) "
    "AS w(investor_id, units)), position AS ("
    "INSERT INTO positions (fund_id, investor_id, units) "
    "SELECT CAST(:fund AS uuid), investor_id, units FROM wanted ORDER BY investor_id "
    "ON CONFLICT (fund_id, investor_id) DO UPDATE SET units = positions.units + EXCLUDED.units "
    "WHERE positions.units + EXCLUDED.units <= :most RETURNING investor_id, units"
    "), issuer AS ("
    "INSERT INTO issuer_commitments (investor_id, msme_id, last_placed_at) "
    "SELECT investor_id, CAST(:msme AS uuid), CAST(:now AS timestamptz) FROM position "
    "WHERE CAST(:lock_issuer AS boolean) AND units <= :most ORDER BY investor_id "
    "ON CONFLICT (investor_id, msme_id) DO UPDATE "
    "SET last_placed_at = greatest(issuer_commitments.last_placed_at, EXCLUDED.last_placed_at)"
    ") SELECT investor_id, units FROM position"
)
# ADD_SUBSCRIPTION(_COUNTING_ISSUER) for a group: with :counting, each investor's live
# subscriptions to the issuer since its own window start, summed under the issuer rows'
# locks (the sum's snapshot does not see the rows the statement adds).
ADD_SUBSCRIPTIONS = text(
    "WITH committed AS ("
    "SELECT s.investor_id, sum(s.units::bigint * s.unit_price) AS total FROM subscriptions s "
    "JOIN unnest(CAST(:investors AS uuid[]), CAST(:since AS timestamptz[])) AS w(investor_id, "
    "since) ON s.investor_id = w.investor_id "
    "WHERE CAST(:counting AS boolean) AND s.msme_id = :msme "
    "AND s.status IN ('placed', 'confirmed') AND s.placed_at > w.since "
    "GROUP BY s.investor_id), added AS ("
    "INSERT INTO subscriptions (id, fund_id, investor_id, msme_id, units, unit_price, "
    "handling_fee_per_unit, amount_due, currency, payment_reference, payment_deadline, "
    "cooling_off_until, terms_digest, status, placed_at) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:funds AS uuid[]), "
    "CAST(:investors AS uuid[]), CAST(:msmes AS uuid[]), CAST(:units AS int[]), "
    "CAST(:unit_prices AS bigint[]), CAST(:fees AS bigint[]), CAST(:amounts_due AS bigint[]), "
    "CAST(:currencies AS text[]), CAST(:references AS text[]), "
    "CAST(:deadlines AS timestamptz[]), CAST(:cooling_offs AS timestamptz[]), "
    "CAST(:terms_digests AS text[]), CAST(:statuses AS text[]), "
    "CAST(:placed_ats AS timestamptz[]))"
    ") SELECT investor_id, total FROM committed"
)
# The units left and whether the offering takes orders, under its row's lock, when a
# group's TAKE_UNITS took nothing (subscriptions.placing shares out what is left).
# FOR NO KEY UPDATE, like every writer of the row: the group's and other groups' new
# positions and subscriptions hold KEY SHARE on it (their foreign keys), which FOR UPDATE
# would wait for while they wait behind it.
LOCK_OFFERING = text(
    "SELECT status, offering_start, offering_end, units_offered - units_sold AS units_left "
    "FROM offerings WHERE fund_id = :fund FOR NO KEY UPDATE"
)


async def reserve_positions(
    session: AsyncSession,
    *,
    fund_id: UUID,
    msme_id: UUID,
    units: dict[UUID, int],
    most: int,
    lock_issuer: bool,
    now: datetime,
) -> dict[UUID, int]:
    """``reserve_position`` for several investors of one fund (``RESERVE_POSITIONS``): the
    units each holds afterwards; an investor whose order would pass ``most`` is missing.
    With ``lock_issuer``, the granted investors' rows for the issuer are locked too."""
    investors = sorted(units)
    params = {
        "fund": fund_id,
        "msme": msme_id,
        "investors": investors,
        "units": [units[i] for i in investors],
        "most": most,
        "lock_issuer": lock_issuer,
        "now": now,
    }
    rows = (await session.execute(RESERVE_POSITIONS, params)).all()
    return {row.investor_id: row.units for row in rows}


async def add_subscriptions(
    session: AsyncSession,
    subscriptions: Sequence[NewSubscription],
    *,
    issuer_window_starts: dict[UUID, datetime] | None,
) -> dict[UUID, int]:
    """``add_subscription`` for several investors' subscriptions to one issuer, one each
    (``ADD_SUBSCRIPTIONS``); with ``issuer_window_starts`` (per investor), answers what each
    had committed to the issuer since then (missing: 0)."""
    starts = issuer_window_starts or {}
    params = {
        "ids": [s.id for s in subscriptions],
        "funds": [s.fund_id for s in subscriptions],
        "investors": [s.investor_id for s in subscriptions],
        "msmes": [s.msme_id for s in subscriptions],
        "units": [s.units for s in subscriptions],
        "unit_prices": [s.unit_price for s in subscriptions],
        "fees": [s.handling_fee_per_unit for s in subscriptions],
        "amounts_due": [s.amount_due for s in subscriptions],
        "currencies": [s.currency for s in subscriptions],
        "references": [s.payment_reference for s in subscriptions],
        "deadlines": [s.payment_deadline for s in subscriptions],
        "cooling_offs": [s.cooling_off_until for s in subscriptions],
        "terms_digests": [s.terms_digest for s in subscriptions],
        "statuses": [s.status.value for s in subscriptions],
        "placed_ats": [s.placed_at for s in subscriptions],
        "counting": issuer_window_starts is not None,
        "msme": subscriptions[0].msme_id,
        "since": [starts.get(s.investor_id, s.placed_at) for s in subscriptions],
    }
    rows = (await session.execute(ADD_SUBSCRIPTIONS, params)).all()
    return {row.investor_id: int(row.total) for row in rows}


def take_units_guard(
    *, fund_id: UUID, units: int, new_investors: int, first: datetime, last: datetime
) -> tuple[TextClause, dict[str, object]]:
    """``TAKE_UNITS`` as the guard of a group's events (``TAKE_UNITS_AND_RECORD``): they are
    written only if the units are taken."""
    return TAKE_UNITS_AND_RECORD, {
        "fund": fund_id,
        "units": units,
        "new": new_investors,
        "first": first,
        "last": last,
    }


async def lock_offering(session: AsyncSession, fund_id: UUID) -> Row[Any]:
    """The offering's status, dates and units left, its row locked (``LOCK_OFFERING``)."""
    return (await session.execute(LOCK_OFFERING, {"fund": fund_id})).one()


# -- Paying, cancelling, expiring ---------------------------------------------------------


async def fund_status(session: AsyncSession, fund_id: UUID) -> OfferingStatus:
    """The status of a subscription's offering."""
    offering = await session.get(Offering, fund_id)
    assert offering is not None, "a subscription's offering exists (foreign key)"
    return OfferingStatus(offering.status)


async def give_back_position(session: AsyncSession, subscription: Subscription) -> int | None:
    """Take a cancelled subscription's units off its investor's position: what stays held."""
    held: int | None = await session.scalar(
        RELEASE_POSITION,
        {
            "units": subscription.units,
            "fund": subscription.fund_id,
            "investor": subscription.investor_id,
        },
    )
    return held


async def give_back_units(session: AsyncSession, *, fund_id: UUID, release: Release) -> None:
    """Put a cancelled subscription's units back on sale (``RELEASE_UNITS``)."""
    await session.execute(
        RELEASE_UNITS,
        {
            "units": release.units,
            "confirmed": release.units_confirmed,
            "gone": release.investors,
            "fund": fund_id,
        },
    )


async def confirm_units(session: AsyncSession, *, fund_id: UUID, units: int) -> None:
    """Count paid units towards the fund (``CONFIRM_UNITS``)."""
    await session.execute(CONFIRM_UNITS, {"units": units, "f": fund_id})


async def subscription_for_payment(
    session: AsyncSession, subscription_id: UUID
) -> Subscription | None:
    """The subscription a payment is for, locked."""
    return await session.get(Subscription, subscription_id, with_for_update=True)


async def next_fund_with_overdue(session: AsyncSession, now: datetime) -> UUID | None:
    """The fund of the subscription whose payment deadline passed first (``rules.is_overdue``)."""
    fund_id: UUID | None = await session.scalar(
        select(Subscription.fund_id)
        .where(
            Subscription.status == SubscriptionStatus.PLACED.value,
            Subscription.payment_deadline <= now,
        )
        .order_by(Subscription.payment_deadline)
        .limit(1)
    )
    return fund_id


async def lock_overdue(
    session: AsyncSession, fund_id: UUID, now: datetime
) -> Sequence[Subscription]:
    """Claim up to 200 of the fund's overdue subscriptions (``rules.is_overdue``), skipping
    rows another transaction holds."""
    return (
        await session.scalars(
            select(Subscription)
            .where(
                Subscription.fund_id == fund_id,
                Subscription.status == SubscriptionStatus.PLACED.value,
                Subscription.payment_deadline <= now,
            )
            .order_by(Subscription.payment_deadline)
            .limit(200)
            .with_for_update(skip_locked=True)
        )
    ).all()


# -- Closing and withdrawing an offering --------------------------------------------------


async def lock_live(session: AsyncSession, fund_id: UUID) -> list[Subscription]:
    """Lock the fund's live subscriptions (in id order, as every closer takes them)."""
    return list(
        (
            await session.scalars(
                select(Subscription)
                .where(
                    Subscription.fund_id == fund_id,
                    Subscription.status.in_([s.value for s in rules.LIVE_STATUSES]),
                )
                .order_by(Subscription.id)
                .with_for_update()
            )
        ).all()
    )


async def lock_positions(session: AsyncSession, fund_id: UUID) -> None:
    """Lock the fund's positions (in investor order)."""
    await session.execute(
        select(Position.investor_id)
        .where(Position.fund_id == fund_id)
        .order_by(Position.investor_id)
        .with_for_update()
    )


async def refund_paid(session: AsyncSession, *, fund_id: UUID, refund: FailedFundRefund) -> None:
    """Mark every paid subscription of a failed fund refunded (``rules.failed_fund_refund``),
    in one statement; ``ck_subscriptions_refund_recorded`` holds each to having been paid."""
    await session.execute(
        update(Subscription)
        .where(Subscription.fund_id == fund_id, Subscription.status == refund.paid.value)
        .values(
            status=refund.status.value, refund_reason=refund.reason.value, refunded_at=refund.at
        )
        .execution_options(synchronize_session=False)
    )


# -- What a caller may read ---------------------------------------------------------------


async def readable_subscription(
    session: AsyncSession, subscription_id: UUID, principal: Principal, *, lock: bool = False
) -> Subscription:
    """The subscription, if ``rules.may_read`` lets the caller see it (locked if asked);
    absent and not the caller's are the same 404."""
    subscription = await session.get(Subscription, subscription_id, with_for_update=lock)
    if subscription is None or not rules.may_read(principal, investor_id=subscription.investor_id):
        raise rules.no_subscription()
    return subscription


async def readable_subscriptions(
    session: AsyncSession,
    *,
    principal: Principal,
    investor_id: UUID,
    statuses: Sequence[SubscriptionStatus] | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Subscription]:
    """Up to ``limit + 1`` of the investor's subscriptions, newest first, after ``cursor``,
    if ``rules.may_read`` lets the caller see them; 404 for the investor otherwise."""
    rules.check_my_page(principal, investor_id=investor_id)
    query = select(Subscription).where(Subscription.investor_id == investor_id)
    if statuses:
        query = query.where(Subscription.status.in_([s.value for s in statuses]))
    if cursor is not None:
        placed, ident = decode_cursor(cursor, datetime.fromisoformat, UUID)
        query = query.where(
            func.row(Subscription.placed_at, Subscription.id) < func.row(placed, ident)
        )
    return (
        await session.scalars(
            query.order_by(Subscription.placed_at.desc(), Subscription.id.desc()).limit(limit + 1)
        )
    ).all()


async def readable_holdings(
    session: AsyncSession, *, principal: Principal, investor_id: UUID
) -> Sequence[Row[UUID, str, int, int | None, bool]]:
    """The investor's paid units and money per fund (``rules.is_held``), and whether the
    fund's register is frozen, if ``rules.may_read`` lets the caller see them."""
    rules.check_my_page(principal, investor_id=investor_id)
    return (
        await session.execute(
            select(
                Subscription.fund_id,
                Offering.name,
                func.sum(Subscription.units),
                func.sum(Subscription.amount_paid),
                Holding.fund_id.is_not(None),
            )
            .join(Offering, Offering.fund_id == Subscription.fund_id)
            .outerjoin(
                Holding,
                (Holding.fund_id == Subscription.fund_id)
                & (Holding.investor_id == Subscription.investor_id),
            )
            .where(
                Subscription.investor_id == investor_id,
                Subscription.status == SubscriptionStatus.CONFIRMED.value,
            )
            .group_by(Subscription.fund_id, Offering.name, Holding.fund_id)
            .order_by(Offering.name, Subscription.fund_id)
        )
    ).all()
