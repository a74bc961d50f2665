"""What the subscription routers need: the caller, settings, the cipher for personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kumiai.auth import Principal, Role, require_roles
from subscription.crypto import FieldCipher
from subscription.settings import Settings


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.runtime.settings
    return value


async def cipher(request: Request) -> FieldCipher:
    value: FieldCipher = request.app.state.cipher
    return value


SettingsDep = Annotated[Settings, Depends(settings)]
CipherDep = Annotated[FieldCipher, Depends(cipher)]
Investor = Annotated[Principal, Depends(require_roles(Role.INVESTOR))]
# Object-level checks (whose subscription, whose page) are made by the use cases.
Reader = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF, Role.BANK))]
InvestorOrStaff = Annotated[Principal, Depends(require_roles(Role.INVESTOR, Role.STAFF))]
Verifier = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.BANK))]
