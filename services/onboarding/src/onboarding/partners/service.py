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

from sqlalchemy import Row

from kumiai.auth import Principal
from kumiai.contracts.onboarding import (
    PartnerKind,
    PartnerRegistered,
    PartnerStatus,
    PartnerStatusChanged,
)
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from onboarding.audit import service as audit
from onboarding.audit.rules import AuditEntity
from onboarding.partners import rules, store
from onboarding.partners.schemas import PartnerIn, PartnerOut

STATUS_ACTIONS = {
    PartnerStatus.SUSPENDED: "partner.suspended",
    PartnerStatus.ACTIVE: "partner.reinstated",
}
"""What the audit trail calls a change to each status."""


def partner_out(row: Row[Any]) -> PartnerOut:
    """A partner's record as answered."""
    return PartnerOut(
        partner_id=row.partner_id,
        kind=PartnerKind(row.kind),
        name=row.name,
        zengin_code=row.zengin_code,
        status=PartnerStatus(row.status),
        version=row.version,
        registered_at=row.registered_at,
    )


async def register(uow: UnitOfWork, *, body: PartnerIn, principal: Principal) -> PartnerOut:
    """Register a partner once per id (and, for a bank, per Zengin code); announce it."""
    rules.check_partner(body.kind, body.partner_id, body.zengin_code)
    session = uow.session
    await store.take_turns(session)
    rules.check_id_free(body.partner_id, taken=await store.is_registered(session, body.partner_id))
    rules.check_zengin_code_free(
        body.zengin_code, holder=await store.holder_of_zengin_code(session, body.zengin_code)
    )
    event = PartnerRegistered(
        partner_id=body.partner_id,
        kind=body.kind,
        name=body.name,
        zengin_code=body.zengin_code,
        registered_at=datetime.now(UTC),
    )
    envelope = await uow.emit(event, subject=body.partner_id)
    await store.record(session, event, version=envelope.sequence)
    await audit.record(
        uow,
        principal=principal,
        action="partner.registered",
        entity=AuditEntity.PARTNER,
        entity_id=body.partner_id,
        kind=body.kind.value,
        name=body.name,
        zengin_code=body.zengin_code,
        version=envelope.sequence,
    )
    return partner_out(await store.readable_partner(session, body.partner_id, principal))


async def set_status(
    uow: UnitOfWork,
    *,
    partner_id: str,
    status: PartnerStatus,
    reason: str,
    principal: Principal,
) -> PartnerOut:
    """Suspend an active partner or reinstate a suspended one; announce the change."""
    session = uow.session
    row = await store.readable_partner(session, partner_id, principal, lock=True)
    rules.check_status_change(PartnerStatus(row.status), status)
    event = PartnerStatusChanged(
        partner_id=partner_id,
        kind=PartnerKind(row.kind),
        status=status,
        reason=reason,
        changed_at=datetime.now(UTC),
    )
    envelope = await uow.emit(event, subject=partner_id)
    rules.check_in_step(partner_id, version=row.version, sequence=envelope.sequence)
    await store.change(session, event, version=envelope.sequence)
    await audit.record(
        uow,
        principal=principal,
        action=STATUS_ACTIONS[status],
        entity=AuditEntity.PARTNER,
        entity_id=partner_id,
        reason=reason,
        version=envelope.sequence,
    )
    return partner_out(await store.readable_partner(session, partner_id, principal))


async def get(uow: UnitOfWork, *, partner_id: str, principal: Principal) -> PartnerOut:
    """One partner and its status (staff)."""
    return partner_out(await store.readable_partner(uow.session, partner_id, principal))


async def list_partners(
    uow: UnitOfWork,
    *,
    principal: Principal,
    kind: PartnerKind | None,
    status: PartnerStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[PartnerOut]:
    """Partners in the order they were registered, a page at a time."""
    return await store.readable_partners(
        uow.session,
        principal=principal,
        kind=kind,
        status=status,
        cursor=cursor,
        limit=limit,
        item=partner_out,
    )
