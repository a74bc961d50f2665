"""The audit trail's rules: what it records about, who reads it (pure)."""

from __future__ import annotations

import pytest

from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from onboarding.audit.rules import AuditEntity, check_reader, may_read


@pytest.mark.parametrize("role", list(Role))
def test_only_staff_read_the_trail(role: Role) -> None:
    caller = Principal(subject="someone", role=role, tenant="platform")
    assert may_read(caller) is (role is Role.STAFF)
    if role is Role.STAFF:
        check_reader(caller)
    else:
        with pytest.raises(Forbidden, match="only staff"):
            check_reader(caller)


def test_the_trail_records_businesses_applications_funds_partners_and_webhooks() -> None:
    assert [e.value for e in AuditEntity] == [
        "msme",
        "application",
        "fund",
        "partner",
        "webhook_endpoint",
    ]
