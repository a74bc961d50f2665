"""A partner bank's referrals: the businesses it referred, their pipeline step and funds
with capital-like debt (ECLDB) eligibility, as JSON and as CSV for Excel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response

from kumiai.auth import Principal, Role, require_roles
from kumiai.contracts.onboarding import PARTNER_ID
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.pagination import DEFAULT_LIMIT, BadCursor, Cursor, Limit, Page
from kumiai.periods import japan_date
from kumiai.service import UnitOfWorkDep
from onboarding.referrals import files, service
from onboarding.referrals.rules import UnknownBank
from onboarding.referrals.schemas import EXAMPLE_DATE, REFERRAL_EXAMPLE, ReferralOut

router = APIRouter(prefix="/banks", tags=["referrals"])

# Which bank: the store's readable query decides (``rules.check_may_read_bank``).
BankOrStaff = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.BANK))]
BankId = Annotated[
    str,
    Path(
        max_length=63,
        pattern=PARTNER_ID,
        description="The partner bank's id in the registry",
        examples=["hokkaido-bank"],
    ),
]
AsOf = Annotated[
    date | None,
    Query(
        description="The reporting date the remaining terms count from; today in Japan if "
        "not given",
        examples=["2026-11-29"],
    ),
]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _reporting_date(as_of: date | None) -> date:
    return japan_date(datetime.now(UTC)) if as_of is None else as_of


@router.get(
    "/{bank_id}/referrals",
    response_model=Page[ReferralOut],
    summary="List a bank's referrals",
    operation_id="list_bank_referrals",
    responses=problems(Unauthorized, Forbidden, UnknownBank, BadCursor),
)
async def list_bank_referrals(
    bank_id: BankId,
    principal: BankOrStaff,
    uow: UnitOfWorkDep,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ReferralOut]:
    """The businesses a bank referred, oldest first: their latest application's step and
    each fund with what it raised, its term and whether it may count as capital-like debt
    (資本性借入金) on ``as_of``; a screening aid, not legal advice. For the bank itself
    (another bank's id is 404) and staff."""
    async with uow:
        return await service.list_referrals(
            uow,
            bank_id=bank_id,
            principal=principal,
            as_of=_reporting_date(as_of),
            cursor=cursor,
            limit=limit,
        )


_CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "UTF-8 with a byte order mark and CRLF (Excel opens it in Japanese): "
        "a Japanese header, then a record per fund and one per business without a fund",
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                # The example item of the JSON list, as the file writes it.
                "example": files.referrals_csv(
                    [ReferralOut.model_validate(REFERRAL_EXAMPLE)], EXAMPLE_DATE
                ).decode("utf-8"),
            }
        },
    }
}


@router.get(
    "/{bank_id}/referrals.csv",
    summary="Download a bank's referrals (CSV)",
    operation_id="list_bank_referrals_csv",
    response_class=Response,
    responses={**_CSV_ANSWER, **problems(Unauthorized, Forbidden, UnknownBank)},
)
async def list_bank_referrals_csv(
    bank_id: BankId, principal: BankOrStaff, uow: UnitOfWorkDep, as_of: AsOf = None
) -> Response:
    """Every business a bank referred and each of its funds as a CSV file for Excel (the
    same figures as ``GET /banks/{bank_id}/referrals``), for the bank itself and staff."""
    reporting_date = _reporting_date(as_of)
    async with uow:
        name, content = await service.referrals_csv(
            uow, bank_id=bank_id, principal=principal, as_of=reporting_date
        )
    return Response(
        content,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
    )
