"""What every onboarding router needs: the caller, settings, the document store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kumiai.auth import Principal, Role, require_roles
from onboarding.settings import Settings
from onboarding.storage import DocumentStore


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.runtime.settings
    return value


async def document_store(request: Request) -> DocumentStore:
    store: DocumentStore = request.app.state.document_store
    return store


SettingsDep = Annotated[Settings, Depends(settings)]
StoreDep = Annotated[DocumentStore, Depends(document_store)]
Staff = Annotated[Principal, Depends(require_roles(Role.STAFF))]
# Object-level checks (which business, which bank) are made by the use cases.
Participant = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME, Role.BANK))]
# Documents belong to the business and staff; partner banks follow progress, never files.
DocumentHandler = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.MSME))]
