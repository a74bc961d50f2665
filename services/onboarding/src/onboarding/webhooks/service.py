"""Partners' webhooks: partners (or staff for them) register endpoints; every event a partner
may see becomes a delivery in the same transaction as its handling; the delivery worker
sends them, signed, in order per endpoint and subject, retrying with backoff.

Onboarding hosts them because it owns the partner registry and knows which bank
referred each business. It hears the events of every service (its own too) through
the inbox, so a message exists exactly once per endpoint however often its event is
delivered, and survives any restart: deliveries are rows, sent from the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import httpx
import structlog

from kumiai.auth import Principal, Role
from kumiai.cipher import DecryptionFailed, FieldCipher
from kumiai.contracts.onboarding import PartnerKind
from kumiai.contracts.subsidy import SubsidyGranted, SubsidyRevoked
from kumiai.db import UnitOfWork
from kumiai.events import Envelope, EventPayload
from kumiai.pagination import Page
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.db.models import WebhookDelivery, WebhookEndpoint
from onboarding.funds.rules import FundTerms
from onboarding.webhooks import rules, sender, store
from onboarding.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    SecretOut,
)

log = structlog.get_logger(__name__)

UNSIGNABLE = "the endpoint's signing secret cannot be decrypted with the configured keys"

DELIVERY_WORKER = Principal(
    subject="onboarding:webhook-delivery", role=Role.SERVICE, tenant="onboarding"
)


def _secret_context(endpoint_id: UUID) -> bytes:
    return f"webhook_secrets.secret:{endpoint_id}".encode()


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        endpoint_id=endpoint.id,
        partner_id=endpoint.partner_id,
        url=endpoint.url,
        event_types=sorted(rules.WebhookEventType(t) for t in endpoint.event_types),
        description=endpoint.description,
        status=rules.EndpointStatus(endpoint.status),
        disabled_reason=(
            None
            if endpoint.disabled_reason is None
            else rules.DisabledReason(endpoint.disabled_reason)
        ),
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
        changed_at=endpoint.changed_at,
    )


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    pending = delivery.status == rules.DeliveryStatus.PENDING.value
    return DeliveryOut(
        delivery_id=delivery.id,
        message_id=delivery.message_id,
        event_type=rules.WebhookEventType(delivery.event_type),
        subject=delivery.subject,
        status=rules.DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


async def _managed_partner(uow: UnitOfWork, partner_id: str, principal: Principal) -> PartnerKind:
    """The kind of the partner whose endpoints ``principal`` manages; 404 for anyone else's."""
    kind = await store.partner_kind(uow.session, partner_id)
    if kind is None or not rules.may_manage(principal, partner_id):
        raise rules.UnknownEndpoint(f"no webhook endpoints of partner {partner_id}")
    return kind


async def _managed_endpoint(
    uow: UnitOfWork,
    partner_id: str,
    endpoint_id: UUID,
    principal: Principal,
    *,
    lock: bool = False,
) -> WebhookEndpoint:
    """One endpoint of a partner whose endpoints ``principal`` manages; 404 otherwise."""
    await _managed_partner(uow, partner_id, principal)
    return await store.endpoint(uow.session, endpoint_id, partner_id=partner_id, lock=lock)


async def register_endpoint(
    uow: UnitOfWork,
    *,
    partner_id: str,
    body: EndpointIn,
    principal: Principal,
    cipher: FieldCipher,
    production: bool,
    now: datetime,
) -> EndpointOut:
    """Register an endpoint with a new signing secret (read it with ``get_secret``)."""
    session = uow.session
    kind = await _managed_partner(uow, partner_id, principal)
    url = rules.check_url(body.url, production=production)
    wanted = frozenset(body.event_types)
    rules.check_event_types(kind, wanted)
    await store.take_partner_turn(session, partner_id)
    rules.check_room(await store.count_endpoints(session, partner_id))
    endpoint = WebhookEndpoint(
        id=uuid4(),
        partner_id=partner_id,
        url=url,
        description=body.description,
        event_types=sorted(t.value for t in wanted),
        status=rules.EndpointStatus.ENABLED.value,
        disabled_reason=None,
        failing_since=None,
        created_by=principal.subject,
        created_at=now,
        changed_at=now,
    )
    await store.add_endpoint(session, endpoint)
    secret = rules.new_secret()
    blob = cipher.encrypt(secret.encode("ascii"), context=_secret_context(endpoint.id))
    await store.add_secret(session, endpoint.id, blob, now=now)
    await audit.record(
        uow,
        principal=principal,
        action="webhook.endpoint_registered",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=endpoint.id,
        partner_id=partner_id,
        url=url,
        event_types=endpoint.event_types,
    )
    return endpoint_out(endpoint)


async def list_endpoints(
    uow: UnitOfWork,
    *,
    partner_id: str | None,
    principal: Principal,
    status: rules.EndpointStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[EndpointOut]:
    """A partner's endpoints (``partner_id``), or every partner's (staff)."""
    if partner_id is not None:
        await _managed_partner(uow, partner_id, principal)
    return await store.endpoints_page(
        uow.session,
        partner_id=partner_id,
        status=status,
        cursor=cursor,
        limit=limit,
        item=endpoint_out,
    )


async def get_endpoint(
    uow: UnitOfWork, *, partner_id: str, endpoint_id: UUID, principal: Principal
) -> EndpointOut:
    return endpoint_out(await _managed_endpoint(uow, partner_id, endpoint_id, principal))


async def set_status(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    status: rules.EndpointStatus,
    principal: Principal,
    now: datetime,
) -> EndpointOut:
    """Disable an endpoint (its messages wait) or enable it (they are sent, in order)."""
    session = uow.session
    endpoint = await _managed_endpoint(uow, partner_id, endpoint_id, principal, lock=True)
    rules.check_status_change(rules.EndpointStatus(endpoint.status), status)
    endpoint.status = status.value
    endpoint.changed_at = now
    if status is rules.EndpointStatus.ENABLED:
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        await store.resume_pending(session, endpoint_id, now=now)
    else:
        reason = (
            rules.DisabledReason.BY_STAFF
            if principal.is_staff()
            else rules.DisabledReason.BY_PARTNER
        )
        endpoint.disabled_reason = reason.value
    await session.flush()
    await audit.record(
        uow,
        principal=principal,
        action=f"webhook.endpoint_{status.value}",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=endpoint_id,
        partner_id=partner_id,
    )
    return endpoint_out(endpoint)


async def rotate_secret(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    overlap: timedelta,
    principal: Principal,
    cipher: FieldCipher,
    now: datetime,
) -> SecretOut:
    """A new signing secret; the replaced one keeps signing beside it for ``overlap``."""
    rules.check_overlap(overlap)
    session = uow.session
    await _managed_endpoint(uow, partner_id, endpoint_id, principal, lock=True)
    expires_at = now + overlap
    await store.retire_secrets(session, endpoint_id, expires_at=expires_at)
    secret = rules.new_secret()
    blob = cipher.encrypt(secret.encode("ascii"), context=_secret_context(endpoint_id))
    await store.add_secret(session, endpoint_id, blob, now=now)
    await audit.record(
        uow,
        principal=principal,
        action="webhook.secret_rotated",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=endpoint_id,
        partner_id=partner_id,
        previous_expires_at=expires_at.isoformat(),
    )
    return SecretOut(
        endpoint_id=endpoint_id,
        secret=secret,
        previous_expires_at=expires_at if overlap > timedelta(0) else None,
    )


async def get_secret(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    principal: Principal,
    cipher: FieldCipher,
    now: datetime,
) -> SecretOut:
    """The endpoint's current signing secret (every read is in the audit trail)."""
    session = uow.session
    await _managed_endpoint(uow, partner_id, endpoint_id, principal)
    current, previous_expires_at = await store.current_secret(session, endpoint_id, now=now)
    await audit.record(
        uow,
        principal=principal,
        action="webhook.secret_read",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=endpoint_id,
        partner_id=partner_id,
    )
    return SecretOut(
        endpoint_id=endpoint_id,
        secret=cipher.decrypt(current, context=_secret_context(endpoint_id)).decode("ascii"),
        previous_expires_at=previous_expires_at,
    )


async def list_deliveries(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    principal: Principal,
    status: rules.DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[DeliveryOut]:
    """The endpoint's delivery log, newest first."""
    await _managed_endpoint(uow, partner_id, endpoint_id, principal)
    return await store.deliveries_page(
        uow.session,
        endpoint_id=endpoint_id,
        status=status,
        cursor=cursor,
        limit=limit,
        item=delivery_out,
    )


async def get_delivery(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    delivery_id: UUID,
    principal: Principal,
) -> DeliveryDetail:
    session = uow.session
    await _managed_endpoint(uow, partner_id, endpoint_id, principal)
    delivery = await store.delivery(session, delivery_id, endpoint_id=endpoint_id)
    return _detail(delivery, await store.attempts_of(session, delivery_id))


def _detail(delivery: WebhookDelivery, attempts: object) -> DeliveryDetail:
    return DeliveryDetail(
        **delivery_out(delivery).model_dump(),
        message=json.loads(delivery.body),
        attempt_log=[
            AttemptOut(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
                manual=a.manual,
            )
            for a in attempts  # type: ignore[attr-defined]
        ],
    )


async def redeliver(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: UUID,
    delivery_id: UUID,
    principal: Principal,
    now: datetime,
) -> DeliveryDetail:
    """Send a message again now (the same webhook-id: a receiver that has it drops it)."""
    session = uow.session
    endpoint = await _managed_endpoint(uow, partner_id, endpoint_id, principal)
    if endpoint.status != rules.EndpointStatus.ENABLED.value:
        raise rules.DeliveryNotRedeliverable("enable the endpoint first; its messages wait for it")
    await store.delivery(session, delivery_id, endpoint_id=endpoint_id, lock=True)
    await store.requeue(session, delivery_id, now=now)
    await audit.record(
        uow,
        principal=principal,
        action="webhook.redelivery_requested",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=endpoint_id,
        delivery_id=str(delivery_id),
    )
    session.expire_all()
    delivery = await store.delivery(session, delivery_id, endpoint_id=endpoint_id)
    return _detail(delivery, await store.attempts_of(session, delivery_id))


# -- from events to deliveries ---------------------------------------------------------------


async def announce(uow: UnitOfWork, payload: EventPayload, envelope: Envelope) -> None:
    """Queue what ``payload`` tells partners, for every endpoint that hears it."""
    session = uow.session
    told = rules.notices(payload)
    if isinstance(payload, SubsidyGranted):
        await store.add_backer(
            session,
            award_id=payload.award_id,
            fund_id=payload.fund_id,
            municipality_code=payload.municipality_code,
        )
        fund = await store.fund_terms(session, payload.fund_id)
        if fund is not None:
            terms = FundTerms.model_validate(fund.terms).model_dump(mode="json")
            opening = rules.backer_opening(fund.id, fund.msme_id, terms, payload.municipality_code)
            told = [opening, *told]
    for notice in told:
        referring = None
        backers: frozenset[str] = frozenset()
        if notice.fund_id is not None:
            referring = await store.referring_bank(session, notice.fund_id)
            backers = await store.backers(session, notice.fund_id)
        candidates = set(notice.partners) | backers | ({referring} if referring else set())
        kinds = await store.active_partner_kinds(session, candidates)
        to = rules.audience(notice, referring_bank=referring, backers=backers, kinds=kinds)
        endpoints = await store.endpoints_hearing(session, to, notice.type)
        await store.enqueue(
            session,
            endpoints,
            message_id=rules.message_id(envelope.id, notice.type),
            event_type=notice.type,
            subject=envelope.subject,
            body=rules.body(notice, at=envelope.time),
            now=envelope.time,
        )
    if isinstance(payload, SubsidyRevoked):
        await store.remove_backer(session, payload.award_id)


# -- the delivery worker ---------------------------------------------------------------------


def deliverer(
    *,
    cipher: FieldCipher,
    policy: rules.RetryPolicy,
    timeout_s: float,
    batch: int,
    production: bool,
) -> Callable[[UnitOfWork, datetime], Awaitable[int]]:
    """The timer pass that sends what is due (``kumiai.timers``)."""

    async def deliver_due(uow: UnitOfWork, now: datetime) -> int:
        session = uow.session
        due = await store.claim_due(session, now=now, limit=batch)
        if not due:
            return 0
        secrets = await store.live_secrets(session, {d.endpoint_id for d in due}, now=now)

        def in_force(endpoint_id: UUID) -> list[str] | None:
            try:
                return [
                    cipher.decrypt(blob, context=_secret_context(endpoint_id)).decode("ascii")
                    for _, blob in secrets.get(endpoint_id, [])
                ] or None
            except DecryptionFailed:
                return None

        async def attempt(client: httpx.AsyncClient, due: store.Due) -> sender.Outcome:
            signing = in_force(due.endpoint_id)
            if signing is None:
                # Not the endpoint's fault, nor the message's: the keys are misconfigured.
                log.error("webhook secret cannot be decrypted", endpoint_id=str(due.endpoint_id))
                return sender.Outcome(None, UNSIGNABLE, 0)
            return await sender.send(
                client,
                url=due.url,
                message_id=due.message_id,
                body=due.body,
                secrets=signing,
                at=now,
                production=production,
            )

        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            outcomes = await asyncio.gather(*(attempt(client, d) for d in due))
        healthy: set[UUID] = set()
        failing: set[UUID] = set()
        for d, outcome in zip(due, outcomes, strict=True):
            await store.record_attempt(
                session,
                delivery_id=d.id,
                at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                manual=d.redelivery,
                delivered=outcome.delivered,
                next_attempt_at=now + rules.next_attempt_delay(policy, d.attempts + 1),
            )
            if outcome.delivered:
                healthy.add(d.endpoint_id)
            else:
                failing.add(d.endpoint_id)
                await _failed(uow, d, outcome, policy=policy, now=now)
        await store.mark_endpoint_healthy(session, healthy - failing)
        return len(due)

    return deliver_due


async def _failed(
    uow: UnitOfWork,
    due: store.Due,
    outcome: sender.Outcome,
    *,
    policy: rules.RetryPolicy,
    now: datetime,
) -> None:
    since = await store.mark_endpoint_failing(uow.session, due.endpoint_id, now=now)
    reason = rules.disable_reason(
        policy, status_code=outcome.status_code, failing_since=since, now=now
    )
    if reason is None or not await store.disable_endpoint(
        uow.session, due.endpoint_id, reason=reason, now=now
    ):
        return
    # Staff are told: the audit trail, an error in the log, and GET /webhook-endpoints
    # ?status=disabled.
    log.error(
        "webhook endpoint disabled",
        endpoint_id=str(due.endpoint_id),
        reason=reason.value,
        failing_since=since.isoformat(),
        last_error=outcome.error,
    )
    await audit.record(
        uow,
        principal=DELIVERY_WORKER,
        action="webhook.endpoint_disabled",
        entity=AuditEntity.WEBHOOK_ENDPOINT,
        entity_id=due.endpoint_id,
        reason=reason.value,
        failing_since=since.isoformat(),
        last_error=outcome.error,
    )
