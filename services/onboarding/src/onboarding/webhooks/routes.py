"""Partners' webhook endpoints, their secrets and their delivery logs (the partner itself or
staff), and the disabled endpoints staff must look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from kumiai.auth import Principal, Role, require_roles
from kumiai.contracts.onboarding import PARTNER_ID
from kumiai.errors import Forbidden, NotFound, Unauthorized, problems
from kumiai.idempotency import IdempotencyKey, IdempotencyKeyReused, run_idempotent
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.service import UnitOfWorkDep
from kumiai.settings import Environment
from onboarding.settings import SettingsDep
from onboarding.webhooks import rules, service
from onboarding.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    SecretOut,
    SecretRotationIn,
)

router = APIRouter(prefix="/partners/{partner_id}/webhook-endpoints", tags=["webhooks"])
staff_router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])

# Whose endpoints: the service decides (``rules.may_manage``); another partner gets 404.
PartnerOrStaff = Annotated[
    Principal, Depends(require_roles(Role.STAFF, Role.BANK, Role.MUNICIPALITY))
]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
PartnerId = Annotated[
    str,
    Path(
        min_length=2,
        max_length=63,
        pattern=PARTNER_ID,
        description="The partner (bank or municipality) the endpoints belong to",
        examples=["hokkaido-bank"],
    ),
]
EndpointId = Annotated[UUID, Path(description="The endpoint's id")]
DeliveryId = Annotated[UUID, Path(description="The delivery's id")]


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "",
    status_code=201,
    response_model=EndpointOut,
    summary="Register a webhook endpoint",
    operation_id="register_webhook_endpoint",
    responses=problems(
        Unauthorized,
        Forbidden,
        NotFound,
        rules.EndpointRefused,
        rules.EventTypeNotAvailable,
        rules.TooManyEndpoints,
        IdempotencyKeyReused,
    ),
)
async def register_webhook_endpoint(
    partner_id: PartnerId,
    body: EndpointIn,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register where the partner wants the events it may see, signed per Standard Webhooks.

    A bank may hear `fund.opened`, `fund.cancelled`, `fund.closed`, `fund.released`,
    `distribution.paid`, `disclosure.overdue` (the funds of businesses it referred),
    `payout.instructed`, `distribution.payouts_instructed` (payouts it is to send) and
    `deposit.matched` (its deposits the ledger matched). A municipality may hear
    `subsidy.granted`, `subsidy.revoked`, `subsidy.paid` and, for the funds its grants
    back, `fund.opened` (told with the grant), `fund.closed`, `fund.released`,
    `distribution.paid`, `disclosure.overdue`.
    The signing secret is read with `GET .../{endpoint_id}/secret`.
    """
    async with uow:
        return await run_idempotent(
            uow,
            key=idempotency_key,
            principal=principal,
            operation=f"register_webhook_endpoint:{partner_id}",
            body=body,
            action=lambda: service.register_endpoint(
                uow,
                partner_id=partner_id,
                body=body,
                principal=principal,
                cipher=settings.webhook_cipher(),
                production=settings.environment is Environment.PRODUCTION,
                now=_now(),
            ),
        )


@router.get(
    "",
    response_model=Page[EndpointOut],
    summary="List a partner's webhook endpoints",
    operation_id="list_webhook_endpoints",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def list_webhook_endpoints(
    partner_id: PartnerId,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
    status: rules.EndpointStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EndpointOut]:
    """The partner's endpoints in the order they were registered, optionally of one status."""
    async with uow:
        return await service.list_endpoints(
            uow,
            partner_id=partner_id,
            principal=principal,
            status=status,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/{endpoint_id}",
    response_model=EndpointOut,
    summary="Get a webhook endpoint",
    operation_id="get_webhook_endpoint",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_webhook_endpoint(
    partner_id: PartnerId, endpoint_id: EndpointId, principal: PartnerOrStaff, uow: UnitOfWorkDep
) -> EndpointOut:
    """One endpoint: its events, its status, and since when it has been failing if it is."""
    async with uow:
        return await service.get_endpoint(
            uow, partner_id=partner_id, endpoint_id=endpoint_id, principal=principal
        )


@router.post(
    "/{endpoint_id}/disable",
    response_model=EndpointOut,
    summary="Disable a webhook endpoint",
    operation_id="disable_webhook_endpoint",
    responses=problems(Unauthorized, Forbidden, NotFound, rules.EndpointStatusConflict),
)
async def disable_webhook_endpoint(
    partner_id: PartnerId, endpoint_id: EndpointId, principal: PartnerOrStaff, uow: UnitOfWorkDep
) -> EndpointOut:
    """Stop sending to the endpoint. Its messages keep being recorded and wait for it."""
    async with uow:
        return await service.set_status(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            status=rules.EndpointStatus.DISABLED,
            principal=principal,
            now=_now(),
        )


@router.post(
    "/{endpoint_id}/enable",
    response_model=EndpointOut,
    summary="Enable a webhook endpoint",
    operation_id="enable_webhook_endpoint",
    responses=problems(Unauthorized, Forbidden, NotFound, rules.EndpointStatusConflict),
)
async def enable_webhook_endpoint(
    partner_id: PartnerId, endpoint_id: EndpointId, principal: PartnerOrStaff, uow: UnitOfWorkDep
) -> EndpointOut:
    """Send to the endpoint again, after it was disabled by its partner, by staff or for
    failing: every message that waited is sent, in order, from now."""
    async with uow:
        return await service.set_status(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            status=rules.EndpointStatus.ENABLED,
            principal=principal,
            now=_now(),
        )


@router.get(
    "/{endpoint_id}/secret",
    response_model=SecretOut,
    summary="Read a webhook endpoint's signing secret",
    operation_id="get_webhook_secret",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_webhook_secret(
    partner_id: PartnerId,
    endpoint_id: EndpointId,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> SecretOut:
    """The current signing secret, for the partner's verifying library; every read is
    recorded in the audit trail."""
    async with uow:
        return await service.get_secret(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            principal=principal,
            cipher=settings.webhook_cipher(),
            now=_now(),
        )


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=SecretOut,
    summary="Rotate a webhook endpoint's signing secret",
    operation_id="rotate_webhook_secret",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def rotate_webhook_secret(
    partner_id: PartnerId,
    endpoint_id: EndpointId,
    body: SecretRotationIn,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> SecretOut:
    """Replace the signing secret. For `overlap_s` seconds every message carries a
    signature with the old secret and one with the new, so the partner can switch its
    verifier at any moment within it."""
    async with uow:
        return await service.rotate_secret(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            overlap=timedelta(seconds=body.overlap_s),
            principal=principal,
            cipher=settings.webhook_cipher(),
            now=_now(),
        )


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="List a webhook endpoint's deliveries",
    operation_id="list_webhook_deliveries",
    responses=problems(Unauthorized, Forbidden, NotFound, BadCursor),
)
async def list_webhook_deliveries(
    partner_id: PartnerId,
    endpoint_id: EndpointId,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
    status: rules.DeliveryStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DeliveryOut]:
    """The delivery log, newest first: each message, its attempts so far and the last
    answer."""
    async with uow:
        return await service.list_deliveries(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            principal=principal,
            status=status,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="Get a webhook delivery",
    operation_id="get_webhook_delivery",
    responses=problems(Unauthorized, Forbidden, NotFound),
)
async def get_webhook_delivery(
    partner_id: PartnerId,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
) -> DeliveryDetail:
    """One delivery: the message as sent and every attempt."""
    async with uow:
        return await service.get_delivery(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            delivery_id=delivery_id,
            principal=principal,
        )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryDetail,
    summary="Send a webhook delivery again",
    operation_id="redeliver_webhook",
    responses=problems(Unauthorized, Forbidden, NotFound, rules.DeliveryNotRedeliverable),
)
async def redeliver_webhook(
    partner_id: PartnerId,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    principal: PartnerOrStaff,
    uow: UnitOfWorkDep,
) -> DeliveryDetail:
    """Send the message again now, with the same `webhook-id` (a receiver that already
    has it drops it); a message still waiting is tried at once."""
    async with uow:
        return await service.redeliver(
            uow,
            partner_id=partner_id,
            endpoint_id=endpoint_id,
            delivery_id=delivery_id,
            principal=principal,
            now=_now(),
        )


@staff_router.get(
    "",
    response_model=Page[EndpointOut],
    summary="List every partner's webhook endpoints",
    operation_id="list_all_webhook_endpoints",
    responses=problems(Unauthorized, Forbidden, BadCursor),
)
async def list_all_webhook_endpoints(
    principal: Staff,
    uow: UnitOfWorkDep,
    status: rules.EndpointStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EndpointOut]:
    """Staff: every endpoint, e.g. `?status=disabled` for those the platform disabled after
    about three days of failures (each also has a line in the audit trail)."""
    async with uow:
        return await service.list_endpoints(
            uow, partner_id=None, principal=principal, status=status, cursor=cursor, limit=limit
        )
