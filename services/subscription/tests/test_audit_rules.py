"""Who is in subscription's audit trail, and who reads it."""

from __future__ import annotations

import pytest

from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from subscription.audit.rules import check_reader, records_personal_read

STAFF = Principal(role=Role.STAFF, tenant="platform", subject="s1")
INVESTOR = Principal(role=Role.INVESTOR, tenant="i1", subject="i1")
BANK = Principal(role=Role.BANK, tenant="hokkaido-bank", subject="b1")


def test_staff_reads_of_personal_details_are_recorded_and_an_investors_own_are_not() -> None:
    assert records_personal_read(STAFF)
    assert not records_personal_read(INVESTOR)
    assert not records_personal_read(BANK)


def test_only_staff_read_the_trail() -> None:
    check_reader(STAFF)
    for other in (INVESTOR, BANK):
        with pytest.raises(Forbidden):
            check_reader(other)
