"""The partner registry's rules: ids, bank codes, status moves (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.onboarding import PARTNER_ID, PartnerKind, PartnerStatus
from onboarding.domain.identifiers import PREFECTURES, local_government_check_digit
from onboarding.domain.partners import (
    BANK_SLUG,
    InvalidPartner,
    StatusUnchanged,
    check_partner,
    check_status_change,
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
