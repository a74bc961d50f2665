"""A business's rules: Japanese business identifiers, registration, who sees what (pure)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kumiai.auth import PLATFORM_SERVICES, Principal, Role
from kumiai.problems import Forbidden
from onboarding.applications import rules as applications
from onboarding.db.models import Application, Msme
from onboarding.msmes import rules as msmes
from onboarding.msmes.rules import (
    INDUSTRIES,
    PREFECTURES,
    AlreadyRegistered,
    InvalidIdentifier,
    InvalidIdentity,
    already_registered,
    check_identity,
    corporate_number_check_digit,
    id_already_registered,
    listed_bank,
    local_government_check_digit,
    may_read,
    may_see_contact,
    referring_bank,
    registrant_id,
    validate_corporate_number,
    validate_industry,
    validate_municipality_code,
    validate_prefecture_code,
)
from onboarding.msmes.service import msme_out

DIGITS = "0123456789"
BASE12 = st.text(alphabet=DIGITS, min_size=12, max_size=12)
BASE5 = st.text(alphabet=DIGITS, min_size=5, max_size=5)
BASE5_IN_A_PREFECTURE = st.tuples(
    st.sampled_from(sorted(PREFECTURES)), st.text(alphabet=DIGITS, min_size=3, max_size=3)
).map("".join)


def _full_width(ascii_text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in ascii_text)


def _replace(value: str, position: int, digit: str) -> str:
    return value[:position] + digit + value[position + 1 :]


def _weighted_remainder(base5: str) -> int:
    return sum(int(d) * w for d, w in zip(base5, (6, 5, 4, 3, 2), strict=True)) % 11


@pytest.mark.parametrize(
    "number",
    [
        "7000012050002",  # National Tax Agency
        "1000011000005",  # National Diet Library
        "4000012090001",
        "8000012010038",
    ],
)
def test_published_corporate_numbers_pass(number: str) -> None:
    assert validate_corporate_number(number) == number
    assert corporate_number_check_digit(number[1:]) == int(number[0])


def test_wrong_corporate_check_digit_is_named_in_the_message() -> None:
    expected = corporate_number_check_digit("234567890123")
    assert expected != 1
    message = f"corporate number 1234567890123 has check digit 1, expected {expected}"
    with pytest.raises(InvalidIdentifier, match=re.escape(message)):
        validate_corporate_number("1234567890123")


@given(base=BASE12)
def test_computed_check_digit_makes_a_valid_corporate_number(base: str) -> None:
    check = corporate_number_check_digit(base)
    assert 1 <= check <= 9
    assert validate_corporate_number(f"{check}{base}") == f"{check}{base}"


@given(base=BASE12, position=st.integers(min_value=0, max_value=11), digit=st.sampled_from(DIGITS))
def test_one_changed_base_digit_is_refused_unless_it_swaps_0_and_9(
    base: str, position: int, digit: str
) -> None:
    """Weights 1 and 2 are invertible mod 9, so only a change by 9 keeps the residue."""
    assume(digit != base[position])
    number = f"{corporate_number_check_digit(base)}{base}"
    altered = _replace(number, position + 1, digit)
    if {base[position], digit} == {"0", "9"}:
        assert validate_corporate_number(altered) == altered
    else:
        with pytest.raises(InvalidIdentifier, match="check digit"):
            validate_corporate_number(altered)


@given(base=BASE12, digit=st.sampled_from(DIGITS))
def test_a_changed_corporate_check_digit_is_refused(base: str, digit: str) -> None:
    assume(digit != str(corporate_number_check_digit(base)))
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_corporate_number(f"{digit}{base}")


def test_swapping_0_and_9_in_a_corporate_number_goes_undetected() -> None:
    assert validate_corporate_number("7900012050002") == "7900012050002"
    assert validate_corporate_number("7000012950002") == "7000012950002"


MALFORMED_CORPORATE = [
    "",
    "123",
    _full_width("123"),
    "700001205000",
    "70000120500021",
    " 7000012050002",
    "7000012050002 ",
    "7000012050002\n",
    "7000 12050002",
    "7000-12050002",
    "700001205000A",
    _full_width("7000012050002"),
    "+700001205000",
]


@pytest.mark.parametrize("value", MALFORMED_CORPORATE)
def test_malformed_corporate_numbers_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="13 ASCII digits"):
        validate_corporate_number(value)


@pytest.mark.parametrize("value", ["", "00001205000", "0000120500021", _full_width("000012050002")])
def test_corporate_check_digit_needs_twelve_ascii_digits(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="12 ASCII digits"):
        corporate_number_check_digit(value)


def test_all_47_prefectures_in_order_with_unique_names() -> None:
    assert list(PREFECTURES) == [f"{n:02d}" for n in range(1, 48)]
    assert len(set(PREFECTURES.values())) == 47
    assert PREFECTURES["01"] == "Hokkaido"
    assert PREFECTURES["13"] == "Tokyo"
    assert PREFECTURES["27"] == "Osaka"
    assert PREFECTURES["47"] == "Okinawa"


def test_prefectures_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        PREFECTURES["48"] = "Nowhere"  # type: ignore[index]


@pytest.mark.parametrize("code", ["01", "13", "47"])
def test_prefecture_codes_pass(code: str) -> None:
    assert validate_prefecture_code(code) == code


@pytest.mark.parametrize(
    "value", ["", "00", "48", "99", "1", "001", "13 ", " 13", _full_width("13"), "Tokyo"]
)
def test_bad_prefecture_codes_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="prefecture code"):
        validate_prefecture_code(value)


@pytest.mark.parametrize(
    "code",
    [
        "010006",  # Hokkaido prefecture
        "011002",  # Sapporo
        "012025",  # Hakodate
        "131016",  # Chiyoda, Tokyo
        "130001",  # Tokyo metropolis: remainder 10, check 1
        "110001",  # Saitama prefecture: remainder 0, check 1
        "090000",  # Tochigi prefecture: remainder 1, check 0
        "281000",  # Kobe: remainder 1, check 0
        "271004",  # Osaka city
        "141003",  # Yokohama
    ],
)
def test_real_local_government_codes_pass(code: str) -> None:
    assert validate_municipality_code(code) == code
    assert validate_municipality_code(code, prefecture=code[:2]) == code
    assert local_government_check_digit(code[:5]) == int(code[5])


def test_remainders_0_and_1_give_check_digits_1_and_0() -> None:
    assert _weighted_remainder("11000") == 0
    assert local_government_check_digit("11000") == 1
    assert _weighted_remainder("09000") == 1
    assert local_government_check_digit("09000") == 0


def test_wrong_local_government_check_digit_is_named_in_the_message() -> None:
    message = "local government code 131017 has check digit 7, expected 6"
    with pytest.raises(InvalidIdentifier, match=re.escape(message)):
        validate_municipality_code("131017")


@given(base=BASE5, position=st.integers(min_value=0, max_value=4), digit=st.sampled_from(DIGITS))
def test_one_changed_digit_changes_the_local_government_check_unless_remainders_0_and_10(
    base: str, position: int, digit: str
) -> None:
    """Weights 2..6 times changes 1..9 are never 0 mod 11; remainders 0 and 10 share a check."""
    assume(digit != base[position])
    altered = _replace(base, position, digit)
    before, after = _weighted_remainder(base), _weighted_remainder(altered)
    assert before != after
    same_check = local_government_check_digit(altered) == local_government_check_digit(base)
    assert same_check == ({before, after} == {0, 10})


@given(base=BASE5_IN_A_PREFECTURE)
def test_computed_check_digit_makes_a_valid_municipality_code(base: str) -> None:
    code = f"{base}{local_government_check_digit(base)}"
    assert validate_municipality_code(code, prefecture=base[:2]) == code


@given(
    base=BASE5_IN_A_PREFECTURE,
    position=st.integers(min_value=0, max_value=5),
    digit=st.sampled_from(DIGITS),
)
def test_one_changed_municipality_digit_is_refused_unless_the_check_still_holds(
    base: str, position: int, digit: str
) -> None:
    code = f"{base}{local_government_check_digit(base)}"
    assume(digit != code[position])
    altered = _replace(code, position, digit)
    still_valid = (
        position < 5
        and altered[:2] in PREFECTURES
        and {_weighted_remainder(base), _weighted_remainder(altered[:5])} == {0, 10}
    )
    if still_valid:
        assert validate_municipality_code(altered) == altered
    else:
        with pytest.raises(InvalidIdentifier):
            validate_municipality_code(altered)


@given(base=BASE5_IN_A_PREFECTURE)
def test_a_municipality_outside_the_given_prefecture_is_refused(base: str) -> None:
    code = f"{base}{local_government_check_digit(base)}"
    other = "47" if base[:2] != "47" else "01"
    with pytest.raises(InvalidIdentifier, match=f"in prefecture {base[:2]}, not '{other}'"):
        validate_municipality_code(code, prefecture=other)


@pytest.mark.parametrize("prefix", ["00", "48", "99"])
def test_a_municipality_prefix_must_be_a_prefecture(prefix: str) -> None:
    base = f"{prefix}100"
    code = f"{base}{local_government_check_digit(base)}"
    with pytest.raises(InvalidIdentifier, match=f"starts with {prefix}, not a prefecture code"):
        validate_municipality_code(code)


def test_a_valid_code_is_refused_for_an_unknown_prefecture_argument() -> None:
    with pytest.raises(InvalidIdentifier, match="not '1'"):
        validate_municipality_code("131016", prefecture="1")


MALFORMED_MUNICIPALITY = [
    "",
    "13101",
    "1310160",
    " 131016",
    "131016 ",
    "13101" + _full_width("6"),
    _full_width("131016"),
    "13-101",
    "13101a",
]


@pytest.mark.parametrize("value", MALFORMED_MUNICIPALITY)
def test_malformed_municipality_codes_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="6 ASCII digits"):
        validate_municipality_code(value)


@pytest.mark.parametrize("value", ["", "1310", "131016", _full_width("13101")])
def test_local_government_check_digit_needs_five_ascii_digits(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="5 ASCII digits"):
        local_government_check_digit(value)


def test_industry_divisions_a_to_t_with_unique_names() -> None:
    assert list(INDUSTRIES) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert len(set(INDUSTRIES.values())) == 20
    assert INDUSTRIES["E"] == "Manufacturing"
    assert INDUSTRIES["M"] == "Accommodations, eating and drinking services"


@pytest.mark.parametrize("letter", ["A", "I", "M", "T"])
def test_industry_letters_pass(letter: str) -> None:
    assert validate_industry(letter) == letter


@pytest.mark.parametrize(
    "value", ["", "a", "m", "U", "Z", "AB", " A", "A ", _full_width("A"), "Manufacturing"]
)
def test_bad_industries_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="division letter A to T"):
        validate_industry(value)


# -- Object-level access: a service principal is never staff, a business sees itself -----

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
    assert msme_out(MSME, caller).contact is None
    assert msme_out(MSME, STAFF).contact is not None
    assert msme_out(MSME, _principal(Role.MSME, str(MSME_ID))).contact is not None
    assert msme_out(MSME, _principal(Role.BANK, "hokkaido-bank")).contact is None


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


# -- Registration ------------------------------------------------------------------------

GOOD_IDENTITY = {
    "corporate_number": "7000012050002",
    "prefecture_code": "01",
    "municipality_code": "012025",
    "industry": "E",
}


def test_a_business_with_good_identifiers_passes() -> None:
    check_identity(**GOOD_IDENTITY)


def test_every_identifier_at_fault_is_named_at_once() -> None:
    with pytest.raises(InvalidIdentity) as caught:
        check_identity(
            corporate_number="7000012050003",
            prefecture_code="48",
            municipality_code="131016",
            industry="Z",
        )
    names = [p["name"] for p in caught.value.extra["invalid_params"]]
    assert names == [
        "body.corporate_number",
        "body.prefecture_code",
        "body.municipality_code",
        "body.industry",
    ]
    assert caught.value.status == 422
    assert caught.value.problem == "invalid-identity"


def test_a_municipality_outside_the_business_prefecture_is_named() -> None:
    with pytest.raises(InvalidIdentity) as caught:
        check_identity(**GOOD_IDENTITY | {"prefecture_code": "13"})
    assert [p["name"] for p in caught.value.extra["invalid_params"]] == ["body.municipality_code"]


def test_a_business_registering_itself_takes_its_token_id() -> None:
    own = uuid.uuid4()
    assert registrant_id(_principal(Role.MSME, str(own))) == own
    assert registrant_id(STAFF) is None
    assert registrant_id(_principal(Role.BANK, "hokkaido-bank")) is None
    with pytest.raises(Forbidden, match="must carry its id"):
        registrant_id(_principal(Role.MSME, "not-a-uuid"))


def test_a_bank_registration_is_its_referral() -> None:
    assert referring_bank(_principal(Role.BANK, "hokkaido-bank")) == "hokkaido-bank"
    assert referring_bank(STAFF) is None
    assert referring_bank(_principal(Role.MSME, str(MSME_ID))) is None


def test_a_taken_id_is_a_conflict_naming_it() -> None:
    taken = id_already_registered(MSME_ID)
    assert isinstance(taken, AlreadyRegistered)
    assert taken.status == 409
    assert taken.extra == {"existing_id": str(MSME_ID)}


# -- Who sees which business ---------------------------------------------------------------

ROLES = st.sampled_from(list(Role))
TENANTS = st.sampled_from(["hokkaido-bank", "other-bank", str(MSME_ID), str(uuid.uuid4())])


@given(role=ROLES, tenant=TENANTS)
def test_whoever_sees_the_contact_details_may_read_the_business(role: Role, tenant: str) -> None:
    caller = _principal(role, tenant)
    if may_see_contact(caller, MSME):
        assert may_read(caller, MSME)
    assert may_read(caller, MSME) == (
        role is Role.STAFF
        or (role is Role.MSME and tenant == str(MSME_ID))
        or (role is Role.BANK and tenant == MSME.referred_by_bank)
    )


def test_a_bank_lists_only_its_own_referrals_and_staff_any() -> None:
    bank = _principal(Role.BANK, "hokkaido-bank")
    assert listed_bank(bank, None) == "hokkaido-bank"
    assert listed_bank(bank, "hokkaido-bank") == "hokkaido-bank"
    with pytest.raises(Forbidden, match="only the businesses it referred"):
        listed_bank(bank, "other-bank")
    assert listed_bank(STAFF, None) is None
    assert listed_bank(STAFF, "other-bank") == "other-bank"
    for role in (Role.MSME, Role.INVESTOR, Role.MUNICIPALITY, Role.SERVICE):
        with pytest.raises(Forbidden, match="only staff and partner banks"):
            listed_bank(_principal(role, str(MSME_ID)), None)
