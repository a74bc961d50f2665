"""Object-level access: a service principal is never staff, a business sees itself (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from kumiai.auth import PLATFORM_SERVICES, Principal, Role
from onboarding import applications, msmes
from onboarding.db.models import Application, Msme
from onboarding.msmes import already_registered

MSME_ID = uuid.uuid4()
MSME = Msme(
    id=MSME_ID,
    corporate_number="7000012050002",
    company_name="Hakodate Craft Brewery",
    prefecture_code="01",
    municipality_code="012025",
    industry="E",
    head_office_address="1-2-3 Motomachi, Hakodate",
    representative_name="Taro Yamada",
    contact_name="Hanako Sato",
    contact_email="finance@example.jp",
    contact_phone="+81-138-00-0000",
    referred_by_bank="hokkaido-bank",
    registered_by="bank:hokkaido-bank",
    created_at=datetime(2026, 11, 28, tzinfo=UTC),
)
APPLICATION = Application(
    id=uuid.uuid4(), msme_id=MSME_ID, referred_by="bank", referrer_id="hokkaido-bank"
)


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "platform")
SERVICES = [_principal(Role.SERVICE, name) for name in sorted(PLATFORM_SERVICES)]


@pytest.mark.parametrize("caller", SERVICES, ids=lambda p: p.tenant)
def test_a_service_principal_reads_no_business_and_no_application(caller: Principal) -> None:
    assert not msmes.may_read(caller, MSME)
    assert not applications.may_read(caller, APPLICATION, MSME)
    assert msmes.may_read(STAFF, MSME)
    assert applications.may_read(STAFF, APPLICATION, MSME)


@pytest.mark.parametrize("caller", SERVICES, ids=lambda p: p.tenant)
def test_a_service_principal_is_never_shown_personal_data(caller: Principal) -> None:
    assert msmes.msme_out(MSME, caller).contact is None
    assert msmes.msme_out(MSME, STAFF).contact is not None
    assert msmes.msme_out(MSME, _principal(Role.MSME, str(MSME_ID))).contact is not None
    assert msmes.msme_out(MSME, _principal(Role.BANK, "hokkaido-bank")).contact is None


@pytest.mark.parametrize(
    "caller",
    [*SERVICES, _principal(Role.BANK, "hokkaido-bank"), _principal(Role.MSME, str(uuid.uuid4()))],
    ids=lambda p: f"{p.role.value}:{p.tenant}",
)
def test_only_staff_are_told_which_business_holds_a_corporate_number(caller: Principal) -> None:
    refused = already_registered("7000012050002", MSME_ID, caller)
    assert str(MSME_ID) not in str(refused)
    assert refused.extra == {}
    told = already_registered("7000012050002", MSME_ID, STAFF)
    assert told.extra == {"existing_id": str(MSME_ID), "existing": f"/msmes/{MSME_ID}"}
