"""A service's audit trail: one line per change, written in the change's own transaction, and
the pages staff read. ``model`` is the service's table, a ``kumiai.db.AuditTrail`` model,
append-only in the database (``kumiai.migrations.append_only_v1``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kumiai.db import UnitOfWork
from kumiai.pagination import Page, keyset_id_page
from kumiai.principal import Principal


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any]


def add(
    session: AsyncSession,
    model: type[Any],
    *,
    principal: Principal,
    action: str,
    entity: StrEnum,
    entity_id: object,
    details: dict[str, Any],
) -> None:
    """Add one line in the caller's transaction. No personal data in ``details``."""
    session.add(
        model(
            actor=principal.subject,
            actor_role=principal.role.value,
            action=action,
            entity_type=entity.value,
            entity_id=str(entity_id),
            details=details,
        )
    )


async def page(
    session: AsyncSession,
    model: type[Any],
    *,
    entity_type: StrEnum | None,
    entity_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditOut]:
    """One page of the trail in the order it was written, optionally for one record."""
    query = select(model)
    if entity_type is not None:
        query = query.where(model.entity_type == entity_type.value)
    if entity_id is not None:
        query = query.where(model.entity_id == entity_id)
    return await keyset_id_page(
        session,
        query,
        ident=model.id,
        cursor=cursor,
        limit=limit,
        item=lambda row: AuditOut.model_validate(row, from_attributes=True),
    )


class Trail:
    """A service's audit trail as its aggregates use it: ``record`` a change in the caller's
    unit of work; ``list_records`` for whoever ``check_reader`` lets through (staff)."""

    def __init__(self, model: type[Any], *, check_reader: Callable[[Principal], None]) -> None:
        self._model = model
        self._check_reader = check_reader

    async def record(
        self,
        uow: UnitOfWork,
        *,
        principal: Principal,
        action: str,
        entity: StrEnum,
        entity_id: object,
        **details: Any,
    ) -> None:
        """Add one line to the trail, in the caller's transaction. No personal data."""
        add(
            uow.session,
            self._model,
            principal=principal,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
        )

    async def list_records(
        self,
        uow: UnitOfWork,
        *,
        principal: Principal,
        entity_type: StrEnum | None,
        entity_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[AuditOut]:
        """Every change in the order it happened, optionally for one record."""
        self._check_reader(principal)
        return await page(
            uow.session,
            self._model,
            entity_type=entity_type,
            entity_id=entity_id,
            cursor=cursor,
            limit=limit,
        )
