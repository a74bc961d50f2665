"""``GET /partner-calls``: the record of partners' requests (``kumiai.partner_calls``) for
staff, one route every service serves the same way (``kumiai.service`` adds it).

No ``from __future__ import annotations`` here: the route's unit of work dependency is
the one the caller passes in, which FastAPI must see as an object, not as a name to
look up in this module.
"""

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BeforeValidator

from kumiai.auth import TENANT, Principal, Role, require_roles
from kumiai.db import UnitOfWork
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.partner_calls import EmptyPeriod, PartnerCallOut, list_calls

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]

_RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc_3339(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC_3339.match(value)):
        return value
    raise ValueError("a time is written YYYY-MM-DDThh:mm:ss with its UTC offset (+09:00 or Z)")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc_3339)]
"""A moment written as RFC 3339 with its UTC offset (no numbers, no local times)."""

DESCRIPTION = (
    "Every request a partner bank or municipality made to this service with its token, "
    "and the status answered, in the order they were written (oldest first), a page at a "
    "time; refused requests (403, 404) included, those refused for their rate (429) not. "
    "Optionally one partner's, one status's, or those from `from` (included) to `to` "
    "(excluded). Lines older than the service's retention period are deleted."
)


def partner_calls_router(
    *, service: str, unit_of_work: Callable[..., Awaitable[UnitOfWork]]
) -> APIRouter:
    """The router of ``GET /partner-calls`` of ``service``, whose requests get their unit
    of work from the dependency ``unit_of_work``."""
    router = APIRouter(prefix="/partner-calls", tags=["partner calls"])

    async def list_partner_calls(
        principal: Staff,
        uow: Annotated[UnitOfWork, Depends(unit_of_work)],
        partner_id: Annotated[
            str | None,
            Query(
                max_length=100,
                pattern=TENANT.pattern,
                description="Only this partner's calls (its token's tenant)",
                examples=["hokkaido-bank"],
            ),
        ] = None,
        since: Annotated[
            Instant | None,
            Query(
                alias="from",
                description="Only calls at or after this time (with its UTC offset)",
                examples=["2026-12-01T00:00:00+09:00"],
            ),
        ] = None,
        until: Annotated[
            Instant | None,
            Query(
                alias="to",
                description="Only calls before this time (with its UTC offset); after `from`",
                examples=["2026-12-02T00:00:00+09:00"],
            ),
        ] = None,
        status: Annotated[
            int | None,
            Query(ge=100, le=599, description="Only calls answered this HTTP status"),
        ] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Page[PartnerCallOut]:
        async with uow:
            return await list_calls(
                uow.session,
                partner_id=partner_id,
                since=since,
                until=until,
                status=status,
                cursor=cursor,
                limit=limit,
            )

    list_partner_calls.__doc__ = DESCRIPTION
    router.add_api_route(
        "",
        list_partner_calls,
        methods=["GET"],
        response_model=Page[PartnerCallOut],
        summary=f"List the calls partners made to the {service} service",
        operation_id=f"list_{service}_partner_calls",
        responses=problems(Unauthorized, Forbidden, BadCursor, EmptyPeriod),
    )
    return router
