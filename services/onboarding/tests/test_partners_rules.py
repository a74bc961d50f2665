"""The partner registry's rules: ids, bank codes, status moves, versions, readers (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.onboarding import PARTNER_ID, PartnerKind, PartnerStatus
from kumiai.principal import Principal, Role
from onboarding.msmes.rules import PREFECTURES, local_government_check_digit
from onboarding.partners.rules import (
    BANK_SLUG,
    InvalidPartner,
    PartnerExists,
    PartnerRefused,
    PartnerStatusConflict,
    RegistryOutOfStep,
    StatusUnchanged,
    check_id_free,
    check_in_step,
    check_partner,
    check_status_change,
    check_zengin_code_free,
    may_read,
)

DIGITS = "0123456789"
MUNICIPALITY_CODES = st.tuples(
    st.sampled_from(sorted(PREFECTURES)), st.text(alphabet=DIGITS, min_size=3, max_size=3)
).map(lambda parts: "".join(parts) + str(local_government_check_digit("".join(parts))))


@pytest.mark.parametrize("slug", ["hokkaido-bank", "77-bank", "shinkin1", "ab"])
def test_a_bank_is_a_slug_with_a_four_digit_zengin_code(slug: str) -> None:
    check_partner(PartnerKind.BANK, slug, "0116")
    assert re.fullmatch(PARTNER_ID, slug), "the event contract accepts every valid bank id"


@pytest.mark.parametrize(
    "slug",
    ["012025", "-bank", "bank-", "hokkaido--bank", "Hokkaido-Bank", "b", "a" * 64, "bank_1"],
)
def test_a_bank_id_that_is_no_slug_is_refused(slug: str) -> None:
    with pytest.raises(InvalidPartner) as caught:
        check_partner(PartnerKind.BANK, slug, "0116")
    assert set(caught.value.problems) == {"partner_id"}


@pytest.mark.parametrize("code", [None, "116", "01160", "\uff10\uff11\uff11\uff16", "01a6"])
def test_a_bank_needs_exactly_four_ascii_digits_of_zengin_code(code: str | None) -> None:
    with pytest.raises(InvalidPartner) as caught:
        check_partner(PartnerKind.BANK, "hokkaido-bank", code)
    assert set(caught.value.problems) == {"zengin_code"}


def test_a_municipality_is_its_local_government_code_with_its_check_digit() -> None:
    check_partner(PartnerKind.MUNICIPALITY, "012025", None)  # Hakodate
    with pytest.raises(InvalidPartner) as wrong_digit:
        check_partner(PartnerKind.MUNICIPALITY, "012026", None)
    with pytest.raises(InvalidPartner) as slug:
        check_partner(PartnerKind.MUNICIPALITY, "hakodate-city", "0116")
    assert "check digit 6, expected 5" in wrong_digit.value.problems["partner_id"]
    assert set(slug.value.problems) == {"partner_id", "zengin_code"}


@given(code=MUNICIPALITY_CODES)
def test_municipality_ids_and_bank_ids_never_meet(code: str) -> None:
    check_partner(PartnerKind.MUNICIPALITY, code, None)
    assert not BANK_SLUG.fullmatch(code), "a bank's id always has a letter"
    assert re.fullmatch(PARTNER_ID, code)


@given(slug=st.from_regex(BANK_SLUG, fullmatch=True))
def test_every_bank_slug_fits_the_event_contract_and_has_a_letter(slug: str) -> None:
    check_partner(PartnerKind.BANK, slug, "0001")
    assert re.fullmatch(PARTNER_ID, slug)
    assert any(c.isalpha() for c in slug)


def test_only_a_change_of_status_is_a_status_change() -> None:
    check_status_change(PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED)
    check_status_change(PartnerStatus.SUSPENDED, PartnerStatus.ACTIVE)
    for status in PartnerStatus:
        with pytest.raises(StatusUnchanged, match=f"already {status.value}"):
            check_status_change(status, status)


def test_a_refused_partner_is_answered_422_naming_each_field() -> None:
    with pytest.raises(PartnerRefused) as caught:
        check_partner(PartnerKind.BANK, "Hokkaido", None)
    assert (caught.value.status, caught.value.problem) == (422, "partner-invalid")
    assert [p["name"] for p in caught.value.extra["invalid_params"]] == [
        "body.partner_id",
        "body.zengin_code",
    ]


def test_an_unchanged_status_is_a_conflict_naming_the_status() -> None:
    with pytest.raises(PartnerStatusConflict) as caught:
        check_status_change(PartnerStatus.SUSPENDED, PartnerStatus.SUSPENDED)
    assert caught.value.extra == {"status": "suspended"}


def test_an_id_and_a_zengin_code_register_once() -> None:
    check_id_free("hokkaido-bank", taken=False)
    with pytest.raises(PartnerExists, match="already registered"):
        check_id_free("hokkaido-bank", taken=True)
    check_zengin_code_free("0116", holder=None)
    check_zengin_code_free(None, holder="hokkaido-bank")
    with pytest.raises(PartnerExists) as caught:
        check_zengin_code_free("0116", holder="hokkaido-bank")
    assert caught.value.extra == {"existing": "/partners/hokkaido-bank"}


@given(version=st.integers(min_value=0, max_value=100), sequence=st.integers(1, 101))
def test_a_change_is_made_only_above_the_record_version(version: int, sequence: int) -> None:
    if sequence > version:
        check_in_step("hokkaido-bank", version=version, sequence=sequence)
    else:
        with pytest.raises(RegistryOutOfStep, match=f"its events at {sequence - 1}"):
            check_in_step("hokkaido-bank", version=version, sequence=sequence)


@pytest.mark.parametrize("role", list(Role))
def test_only_staff_read_the_registry(role: Role) -> None:
    caller = Principal(subject="someone", role=role, tenant="hokkaido-bank")
    assert may_read(caller) is (role is Role.STAFF)
