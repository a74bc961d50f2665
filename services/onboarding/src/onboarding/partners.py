"""The partner registry: staff register, suspend and reinstate partner banks and municipalities.

Onboarding owns the registry. Each change is written to onboarding's own
``partners`` table and announced in the same transaction (``PartnerRegistered``,
``PartnerStatusChanged``), so every other service's copy follows; the row's
version is the sequence of the event that set it. A partner's tokens are
accepted only while it is registered and active (``kumiai.auth``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select, tuple_

from kumiai.auth import Principal
from kumiai.contracts.onboarding import (
    PartnerKind,
    PartnerRegistered,
    PartnerStatus,
    PartnerStatusChanged,
)
from kumiai.db import UnitOfWork
from kumiai.errors import Conflict, NotFound, UnprocessableContent
from kumiai.pagination import Page, decode_cursor, page_of
from kumiai.partners import change_status, record_partner
from kumiai.platform_tables import partners
from onboarding import audit
from onboarding.domain.partners import (
    InvalidPartner,
    StatusUnchanged,
    check_partner,
    check_status_change,
)
from onboarding.schemas import PartnerIn, PartnerOut

REGISTRY_LOCK = "onboarding.partner-registry"
"""Names the transaction lock that makes registrations take turns."""


class PartnerRefused(UnprocessableContent):
    problem = "partner-invalid"
    title = "The partner's identifiers do not check out"


class PartnerExists(Conflict):
    problem = "partner-exists"
    title = "A partner with this id or Zengin bank code is already registered"


class PartnerStatusConflict(Conflict):
    problem = "partner-status"
    title = "The partner already has that status"


class RegistryOutOfStep(Conflict):
    problem = "partner-registry-out-of-step"
    title = "The partner's record is newer than its events; it cannot be changed here"


def partner_out(row: Row[Any]) -> PartnerOut:
    return PartnerOut(
        partner_id=row.partner_id,
        kind=PartnerKind(row.kind),
        name=row.name,
        zengin_code=row.zengin_code,
        status=PartnerStatus(row.status),
        version=row.version,
        registered_at=row.registered_at,
    )


async def _row(uow: UnitOfWork, partner_id: str, *, lock: bool = False) -> Row[Any]:
    query = select(partners).where(partners.c.partner_id == partner_id)
    if lock:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"no partner {partner_id}")
    return row


async def register(uow: UnitOfWork, *, body: PartnerIn, principal: Principal) -> PartnerOut:
    """Register a partner once per id (and, for a bank, per Zengin code); announce it."""
    try:
        check_partner(body.kind, body.partner_id, body.zengin_code)
    except InvalidPartner as exc:
        raise PartnerRefused(
            str(exc),
            invalid_params=[{"name": f"body.{k}", "reason": v} for k, v in exc.problems.items()],
        ) from exc
    session = uow.session
    # Registrations are rare: one at a time, so the checks below cannot be raced and a
    # second registration of an id never overwrites the first.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(REGISTRY_LOCK))))
    taken = await session.scalar(
        select(partners.c.partner_id).where(partners.c.partner_id == body.partner_id)
    )
    if taken is not None:
        raise PartnerExists(f"partner {body.partner_id} is already registered")
    if body.zengin_code is not None:
        holder = await session.scalar(
            select(partners.c.partner_id).where(partners.c.zengin_code == body.zengin_code)
        )
        if holder is not None:
            raise PartnerExists(
                f"Zengin bank code {body.zengin_code} belongs to partner {holder}",
                existing=f"/partners/{holder}",
            )
    event = PartnerRegistered(
        partner_id=body.partner_id,
        kind=body.kind,
        name=body.name,
        zengin_code=body.zengin_code,
        registered_at=datetime.now(UTC),
    )
    envelope = await uow.emit(event, subject=body.partner_id)
    await record_partner(session, event, version=envelope.sequence)
    await audit.record(
        uow,
        principal,
        "partner.registered",
        "partner",
        body.partner_id,
        kind=body.kind.value,
        name=body.name,
        zengin_code=body.zengin_code,
        version=envelope.sequence,
    )
    return partner_out(await _row(uow, body.partner_id))


async def set_status(
    uow: UnitOfWork,
    *,
    partner_id: str,
    status: PartnerStatus,
    reason: str,
    principal: Principal,
) -> PartnerOut:
    """Suspend an active partner or reinstate a suspended one; announce the change."""
    row = await _row(uow, partner_id, lock=True)
    try:
        check_status_change(PartnerStatus(row.status), status)
    except StatusUnchanged as exc:
        raise PartnerStatusConflict(str(exc), status=row.status) from exc
    event = PartnerStatusChanged(
        partner_id=partner_id,
        kind=PartnerKind(row.kind),
        status=status,
        reason=reason,
        changed_at=datetime.now(UTC),
    )
    envelope = await uow.emit(event, subject=partner_id)
    if envelope.sequence <= row.version:
        # A record written without its event (loaded by hand, say): every copy would
        # ignore this change as older than what it holds, so none is made.
        raise RegistryOutOfStep(
            f"partner {partner_id} is at version {row.version}, its events at "
            f"{envelope.sequence - 1}"
        )
    await change_status(uow.session, event, version=envelope.sequence)
    action = "partner.suspended" if status is PartnerStatus.SUSPENDED else "partner.reinstated"
    await audit.record(
        uow,
        principal,
        action,
        "partner",
        partner_id,
        reason=reason,
        version=envelope.sequence,
    )
    return partner_out(await _row(uow, partner_id))


async def get(uow: UnitOfWork, *, partner_id: str) -> PartnerOut:
    return partner_out(await _row(uow, partner_id))


async def list_partners(
    uow: UnitOfWork,
    *,
    kind: PartnerKind | None,
    status: PartnerStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[PartnerOut]:
    """Partners in the order they were registered, a page at a time."""
    query = select(partners)
    if kind is not None:
        query = query.where(partners.c.kind == kind.value)
    if status is not None:
        query = query.where(partners.c.status == status.value)
    key = tuple_(partners.c.registered_at, partners.c.partner_id)
    if cursor is not None:
        after = decode_cursor(cursor, _instant, _text)
        query = query.where(key > tuple_(*after))
    rows = (
        await uow.session.execute(
            query.order_by(partners.c.registered_at, partners.c.partner_id).limit(limit + 1)
        )
    ).all()
    return page_of(
        rows, limit=limit, item=partner_out, key=lambda r: (r.registered_at, r.partner_id)
    )


def _instant(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("not an instant")
    return when


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a partner id")
    return value
