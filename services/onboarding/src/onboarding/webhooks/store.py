"""Partners' webhooks in the database: endpoints and their secrets, the deliveries waiting
or done, the attempts, and who follows a fund (its business's referring bank, the
municipalities backing it)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID, uuid4

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.contracts.onboarding import PartnerKind, PartnerStatus
from kumiai.pagination import Page, decode_cursor, keyset_page, page_of
from kumiai.platform_tables import partners
from onboarding.db.models import (
    Fund,
    FundBacker,
    Msme,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from onboarding.webhooks import rules

T = TypeVar("T")


# -- partners and funds ----------------------------------------------------------------------


async def partner_kind(session: AsyncSession, partner_id: str) -> PartnerKind | None:
    """The kind of a registered partner (whatever its status), or None."""
    kind = await session.scalar(select(partners.c.kind).where(partners.c.partner_id == partner_id))
    return None if kind is None else PartnerKind(kind)


async def active_partner_kinds(
    session: AsyncSession, partner_ids: Collection[str]
) -> Mapping[str, PartnerKind]:
    """The kinds of those of ``partner_ids`` that are registered and active."""
    if not partner_ids:
        return {}
    rows = await session.execute(
        select(partners.c.partner_id, partners.c.kind).where(
            partners.c.partner_id.in_(partner_ids),
            partners.c.status == PartnerStatus.ACTIVE.value,
        )
    )
    return {row.partner_id: PartnerKind(row.kind) for row in rows}


async def referring_bank(session: AsyncSession, fund_id: UUID) -> str | None:
    """The bank that referred the fund's business, if one did."""
    return await session.scalar(
        select(Msme.referred_by_bank).join(Fund, Fund.msme_id == Msme.id).where(Fund.id == fund_id)
    )


async def fund_terms(session: AsyncSession, fund_id: UUID) -> Fund | None:
    return await session.get(Fund, fund_id)


async def backers(session: AsyncSession, fund_id: UUID) -> frozenset[str]:
    """The municipalities whose grants back the fund."""
    rows = await session.scalars(
        select(FundBacker.municipality_code).where(FundBacker.fund_id == fund_id)
    )
    return frozenset(rows)


async def add_backer(
    session: AsyncSession, *, award_id: UUID, fund_id: UUID, municipality_code: str
) -> None:
    await session.execute(
        insert(FundBacker)
        .values(award_id=award_id, fund_id=fund_id, municipality_code=municipality_code)
        .on_conflict_do_nothing()
    )


async def remove_backer(session: AsyncSession, award_id: UUID) -> None:
    await session.execute(delete(FundBacker).where(FundBacker.award_id == award_id))


# -- endpoints and secrets -------------------------------------------------------------------


async def count_endpoints(session: AsyncSession, partner_id: str) -> int:
    counted = await session.scalar(
        select(func.count()).where(WebhookEndpoint.partner_id == partner_id)
    )
    return int(counted or 0)


async def take_partner_turn(session: AsyncSession, partner_id: str) -> None:
    """One endpoint change of a partner at a time (so its limit cannot be raced)."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext("onboarding.webhooks:" + partner_id)))
    )


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)
    await session.flush()


async def endpoint(
    session: AsyncSession, endpoint_id: UUID, *, partner_id: str, lock: bool = False
) -> WebhookEndpoint:
    """The partner's endpoint; 404 if it has none of that id."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.partner_id == partner_id
    )
    if lock:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise rules.UnknownEndpoint(f"partner {partner_id} has no webhook endpoint {endpoint_id}")
    return found


async def endpoints_page(
    session: AsyncSession,
    *,
    partner_id: str | None,
    status: rules.EndpointStatus | None,
    cursor: str | None,
    limit: int,
    item: Callable[[WebhookEndpoint], T],
) -> Page[T]:
    query = select(WebhookEndpoint)
    if partner_id is not None:
        query = query.where(WebhookEndpoint.partner_id == partner_id)
    if status is not None:
        query = query.where(WebhookEndpoint.status == status.value)
    return await keyset_page(session, query, WebhookEndpoint, cursor, limit, item)


async def add_secret(
    session: AsyncSession, endpoint_id: UUID, blob: bytes, *, now: datetime
) -> None:
    session.add(WebhookSecret(endpoint_id=endpoint_id, secret=blob, created_at=now))
    await session.flush()


async def retire_secrets(session: AsyncSession, endpoint_id: UUID, *, expires_at: datetime) -> None:
    """The current secret, and any replaced one still signing later, sign until
    ``expires_at`` at the latest (a rotation never lengthens an older overlap)."""
    await session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.endpoint_id == endpoint_id,
            WebhookSecret.expires_at.is_(None) | (WebhookSecret.expires_at > expires_at),
        )
        .values(expires_at=expires_at)
    )


async def live_secrets(
    session: AsyncSession, endpoint_ids: Collection[UUID], *, now: datetime
) -> Mapping[UUID, list[tuple[int, bytes]]]:
    """Each endpoint's secrets that still sign at ``now``, newest first, with their ids."""
    rows = await session.execute(
        select(WebhookSecret.endpoint_id, WebhookSecret.id, WebhookSecret.secret)
        .where(
            WebhookSecret.endpoint_id.in_(endpoint_ids),
            (WebhookSecret.expires_at.is_(None)) | (WebhookSecret.expires_at > now),
        )
        .order_by(WebhookSecret.id.desc())
    )
    found: dict[UUID, list[tuple[int, bytes]]] = {}
    for row in rows:
        found.setdefault(row.endpoint_id, []).append((row.id, row.secret))
    return found


async def current_secret(
    session: AsyncSession, endpoint_id: UUID, *, now: datetime
) -> tuple[bytes, datetime | None]:
    """The endpoint's current secret, and until when the latest replaced one still signs."""
    current = await session.scalar(
        select(WebhookSecret.secret).where(
            WebhookSecret.endpoint_id == endpoint_id, WebhookSecret.expires_at.is_(None)
        )
    )
    assert current is not None, "an endpoint always has a current secret"
    previous = await session.scalar(
        select(func.max(WebhookSecret.expires_at)).where(
            WebhookSecret.endpoint_id == endpoint_id, WebhookSecret.expires_at > now
        )
    )
    return current, previous


# -- deliveries ------------------------------------------------------------------------------


async def endpoints_hearing(
    session: AsyncSession, partner_ids: Collection[str], event_type: rules.WebhookEventType
) -> Sequence[UUID]:
    """The endpoints of ``partner_ids`` subscribed to ``event_type`` (disabled ones too:
    their messages wait for them)."""
    if not partner_ids:
        return []
    rows = await session.scalars(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.partner_id.in_(partner_ids),
            WebhookEndpoint.event_types.contains([event_type.value]),
        )
    )
    return list(rows)


async def enqueue(
    session: AsyncSession,
    endpoint_ids: Sequence[UUID],
    *,
    message_id: str,
    event_type: rules.WebhookEventType,
    subject: str,
    body: str,
    now: datetime,
) -> None:
    """A pending delivery of the message to each endpoint (once, however often asked)."""
    if not endpoint_ids:
        return
    await session.execute(
        insert(WebhookDelivery)
        .values(
            [
                {
                    "id": uuid4(),
                    "endpoint_id": endpoint_id,
                    "message_id": message_id,
                    "event_type": event_type.value,
                    "subject": subject,
                    "body": body,
                    "status": rules.DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for endpoint_id in endpoint_ids
            ]
        )
        .on_conflict_do_nothing(constraint="uq_webhook_deliveries_message")
    )


@dataclass(frozen=True)
class Due:
    """A delivery claimed for an attempt, with where it goes."""

    id: UUID
    endpoint_id: UUID
    url: str
    message_id: str
    body: str
    attempts: int
    redelivery: bool
    failing_since: datetime | None


# The head of each (endpoint, subject) line that is due, on an enabled endpoint of an
# active partner; claimed until this transaction ends (another instance skips it, and the
# line's next message is not its head until this one is delivered).
_CLAIM_DUE = text(
    "SELECT d.id, d.endpoint_id, e.url, d.message_id, d.body, d.attempts,"
    " d.delivered_at IS NOT NULL AS redelivery, e.failing_since"
    " FROM webhook_deliveries d"
    " JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'"
    " JOIN partners p ON p.partner_id = e.partner_id AND p.status = 'active'"
    " WHERE d.status = 'pending' AND d.next_attempt_at <= :now"
    " AND NOT EXISTS ("
    "   SELECT 1 FROM webhook_deliveries b"
    "   WHERE b.endpoint_id = d.endpoint_id AND b.subject = d.subject"
    "   AND b.status = 'pending' AND b.seq < d.seq"
    " )"
    " ORDER BY d.next_attempt_at, d.seq"
    " LIMIT :limit"
    " FOR UPDATE OF d SKIP LOCKED"
)


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Due]:
    rows = await session.execute(_CLAIM_DUE, {"now": now, "limit": limit})
    return [
        Due(
            id=row.id,
            endpoint_id=row.endpoint_id,
            url=row.url,
            message_id=row.message_id,
            body=row.body,
            attempts=row.attempts,
            redelivery=row.redelivery,
            failing_since=row.failing_since,
        )
        for row in rows
    ]


async def record_attempt(
    session: AsyncSession,
    *,
    delivery_id: UUID,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    manual: bool,
    delivered: bool,
    next_attempt_at: datetime,
) -> None:
    """Log the attempt and move the delivery on: delivered, or due again later."""
    session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            attempted_at=at,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            manual=manual,
        )
    )
    values: dict[str, object] = {
        "attempts": WebhookDelivery.attempts + 1,
        "last_attempt_at": at,
        "last_status_code": status_code,
        "last_error": error,
    }
    if delivered:
        values |= {"status": rules.DeliveryStatus.DELIVERED.value, "delivered_at": at}
    else:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
    )


async def mark_endpoint_healthy(session: AsyncSession, endpoint_ids: Collection[UUID]) -> None:
    if endpoint_ids:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.failing_since.isnot(None))
            .values(failing_since=None)
        )


async def mark_endpoint_failing(
    session: AsyncSession, endpoint_id: UUID, *, now: datetime
) -> datetime:
    """Record that the endpoint is failing (from ``now`` unless it already was); answers
    since when."""
    since: datetime | None = await session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(failing_since=func.coalesce(WebhookEndpoint.failing_since, now))
        .returning(WebhookEndpoint.failing_since)
    )
    assert since is not None
    return since


async def disable_endpoint(
    session: AsyncSession, endpoint_id: UUID, *, reason: rules.DisabledReason, now: datetime
) -> bool:
    """Disable an enabled endpoint; answers whether it was enabled."""
    changed = await session.scalar(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.status == rules.EndpointStatus.ENABLED.value,
        )
        .values(
            status=rules.EndpointStatus.DISABLED.value, disabled_reason=reason.value, changed_at=now
        )
        .returning(WebhookEndpoint.id)
    )
    return changed is not None


async def resume_pending(session: AsyncSession, endpoint_id: UUID, *, now: datetime) -> None:
    """An enabled endpoint's waiting messages fall due now, in their order."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == rules.DeliveryStatus.PENDING.value,
        )
        .values(next_attempt_at=now)
    )


async def deliveries_page(
    session: AsyncSession,
    *,
    endpoint_id: UUID,
    status: rules.DeliveryStatus | None,
    cursor: str | None,
    limit: int,
    item: Callable[[WebhookDelivery], T],
) -> Page[T]:
    """The endpoint's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    if cursor is not None:
        (before,) = decode_cursor(cursor, int)
        query = query.where(WebhookDelivery.seq < before)
    rows = (
        await session.scalars(query.order_by(WebhookDelivery.seq.desc()).limit(limit + 1))
    ).all()
    return page_of(rows, limit=limit, item=item, key=lambda row: (row.seq,))


async def delivery(
    session: AsyncSession, delivery_id: UUID, *, endpoint_id: UUID, lock: bool = False
) -> WebhookDelivery:
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    if lock:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise rules.UnknownDelivery(f"the endpoint has no delivery {delivery_id}")
    return found


async def attempts_of(session: AsyncSession, delivery_id: UUID) -> Sequence[WebhookAttempt]:
    """A delivery's attempts, oldest first."""
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.id)
    )
    return rows.all()


async def requeue(session: AsyncSession, delivery_id: UUID, *, now: datetime) -> None:
    """Send a delivery again (a delivered one too: the partner asked)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(status=rules.DeliveryStatus.PENDING.value, next_attempt_at=now)
    )
