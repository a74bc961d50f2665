"""Distribution transfers: the bulk transfer file the paying bank sends the payouts with."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kumiai.auth import Principal, Role, require_roles
from kumiai.cipher import FieldCipher
from kumiai.errors import Forbidden, Unauthorized, problems
from kumiai.service import UnitOfWorkDep
from kumiai.uploads import file_headers
from subscription.settings import SettingsDep
from subscription.transfers import service
from subscription.transfers.rules import (
    DistributionNotFound,
    NothingToTransfer,
    NotPaidYet,
    UntransferableAccounts,
)
from subscription.transfers.schemas import MEDIA_TYPE, SKIPPED_HEADER, TRANSFER_FILE_RESPONSE


async def _cipher(request: Request) -> FieldCipher:
    value: FieldCipher = request.app.state.cipher
    return value


CipherDep = Annotated[FieldCipher, Depends(_cipher)]
# Which bank may read a distribution's file is decided by transfers.rules.
BankOrStaff = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.BANK))]
PeriodNumber = Annotated[int, Path(ge=1, le=1_000, description="The settlement period, from 1")]

router = APIRouter(tags=["distributions"])


@router.get(
    "/funds/{fund_id}/distributions/{period_number}/transfer-file",
    response_class=Response,
    summary="Download a distribution's bank transfer file",
    operation_id="get_distribution_transfer_file",
    responses={
        **TRANSFER_FILE_RESPONSE,
        **problems(
            Unauthorized,
            Forbidden,
            DistributionNotFound,
            NotPaidYet,
            NothingToTransfer,
            UntransferableAccounts,
        ),
    },
)
async def get_transfer_file(
    fund_id: UUID,
    period_number: PeriodNumber,
    principal: BankOrStaff,
    uow: UnitOfWorkDep,
    cipher: CipherDep,
    settings: SettingsDep,
    skip_untransferable: Annotated[
        bool,
        Query(
            description="Leave out payouts whose accounts cannot be transferred to (counted "
            "in Kumiai-Skipped-Payouts) instead of refusing the file"
        ),
    ] = False,
) -> Response:
    """The bulk transfer file (Zengin 総合振込) of a paid distribution, for the partner bank
    instructed to send its payouts and for staff: one transfer per payout, to the
    investor's registered account, dated the bank business day after the payment. Ready
    once the ledger's payment and all its payouts are recorded (409 until then). Every
    account in the file is recorded as read by the caller.

    An account a bank would refuse (bank or branch unknown to the Zengin code list, a
    holder name not writable in Zengin kana) refuses the file (422, naming the payouts,
    never the accounts), unless ``skip_untransferable`` leaves them out.
    """
    async with uow:
        made = await service.transfer_file(
            uow,
            fund_id=fund_id,
            period_number=period_number,
            skip_untransferable=skip_untransferable,
            principal=principal,
            cipher=cipher,
            remitter=settings.payout_remitter(),
        )
    return Response(
        made.content,
        media_type=MEDIA_TYPE,
        headers={
            **file_headers(made.name, len(made.content), made.sha256),
            # The name is plain ASCII: said plainly too, for banks' older software.
            "Content-Disposition": f'attachment; filename="{made.name}"',
            SKIPPED_HEADER: str(made.skipped),
        },
    )
