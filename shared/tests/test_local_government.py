"""Local government codes: the check digit, prefectures and their municipalities, which
applicants a programme covers, and the request field that accepts only real-shaped codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kumiai.local_government import (
    LocalGovernmentCode,
    covers,
    is_local_government_code,
    is_prefecture_code,
    local_government_check_digit,
    prefecture_of,
)

SAPPORO = "011002"
HAKODATE = "012025"
HOKKAIDO = "010006"
TOKYO = "130001"
CHIYODA = "131016"
FULL_WIDTH_SAPPORO = "\uff10\uff11\uff11\uff10\uff10\uff12"


@pytest.mark.parametrize("code", [SAPPORO, HAKODATE, HOKKAIDO, TOKYO, CHIYODA, "012131"])
def test_real_codes_are_local_government_codes(code: str) -> None:
    assert is_local_government_code(code)
    assert local_government_check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize(
    "code",
    [
        "011003",  # Sapporo with a wrong check digit
        "010001",  # Hokkaido with a wrong check digit
        "131010",  # Chiyoda with a wrong check digit
        "480005",  # no 48th prefecture
        "000000",  # nor a 0th
        "01100",  # five digits
        "0110020",  # seven
        "0110O2",  # a letter O
        FULL_WIDTH_SAPPORO,  # full-width digits are not ASCII
        "",
    ],
)
def test_wrong_codes_are_refused(code: str) -> None:
    assert not is_local_government_code(code)
    assert not is_prefecture_code(code)
    with pytest.raises(ValueError, match="not a local government code"):
        prefecture_of(code)


@given(base=st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_exactly_one_check_digit_makes_a_local_government_code(base: str) -> None:
    valid = [d for d in "0123456789" if is_local_government_code(base + d)]
    prefecture = 1 <= int(base[:2]) <= 47
    assert valid == ([str(local_government_check_digit(base))] if prefecture else [])


def test_a_check_digit_needs_five_ascii_digits() -> None:
    for base in ("0110", "011000", "0110O", FULL_WIDTH_SAPPORO[:5]):
        with pytest.raises(ValueError, match="five ASCII digits"):
            local_government_check_digit(base)


def test_a_prefecture_is_its_code_with_000_for_the_municipality() -> None:
    assert is_prefecture_code(HOKKAIDO)
    assert is_prefecture_code(TOKYO)
    assert not is_prefecture_code(SAPPORO)
    assert not is_prefecture_code(CHIYODA)
    assert prefecture_of(SAPPORO) == HOKKAIDO
    assert prefecture_of(HAKODATE) == HOKKAIDO
    assert prefecture_of(CHIYODA) == TOKYO
    assert prefecture_of(HOKKAIDO) == HOKKAIDO


@pytest.mark.parametrize(
    ("programme", "applicant", "covered"),
    [
        (HOKKAIDO, SAPPORO, True),  # a prefecture covers its municipalities
        (HOKKAIDO, HAKODATE, True),
        (HOKKAIDO, HOKKAIDO, True),  # and itself
        (HOKKAIDO, CHIYODA, False),  # not another prefecture's
        (TOKYO, CHIYODA, True),
        (SAPPORO, SAPPORO, True),  # a municipality covers itself
        (SAPPORO, HAKODATE, False),  # only itself
        (SAPPORO, HOKKAIDO, False),  # not its prefecture
        (SAPPORO, "011003", False),  # an invalid code covers nothing
        ("010001", SAPPORO, False),
    ],
)
def test_which_applicants_a_programme_covers(programme: str, applicant: str, covered: bool) -> None:
    assert covers(programme, applicant) is covered


codes = st.builds(
    lambda prefecture, rest: (
        f"{prefecture:02d}{rest}" + str(local_government_check_digit(f"{prefecture:02d}{rest}"))
    ),
    st.integers(min_value=1, max_value=47),
    st.sampled_from(["000", "100", "202", "204", "999"]),
)


@given(programme=codes, applicant=codes)
def test_a_programme_covers_by_prefecture_or_by_equality(programme: str, applicant: str) -> None:
    assert is_local_government_code(programme)
    if is_prefecture_code(programme):
        assert covers(programme, applicant) is (applicant[:2] == programme[:2])
    else:
        assert covers(programme, applicant) is (applicant == programme)


class Body(BaseModel):
    municipality_code: LocalGovernmentCode


def test_the_request_field_accepts_a_real_code() -> None:
    assert Body.model_validate({"municipality_code": SAPPORO}).municipality_code == SAPPORO
    assert Body.model_validate_json('{"municipality_code": "010006"}').municipality_code == HOKKAIDO


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("011003", "check digit of local government code 011003 is wrong"),
        ("011003", "a code starting 01100 ends in 2"),
        ("480005", "prefecture number from 01 to 47, not 48"),
        ("0110O2", "six digits 0-9"),
        (FULL_WIDTH_SAPPORO, "six digits 0-9"),
        ("01100", "at least 6 characters"),
        ("0110020", "at most 6 characters"),
    ],
)
def test_the_request_field_says_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Body.model_validate({"municipality_code": value})
    assert message in str(refused.value)


def test_the_request_field_takes_no_number() -> None:
    with pytest.raises(ValidationError, match="valid string"):
        Body.model_validate_json('{"municipality_code": 11002}')


def test_the_request_field_is_published_as_six_digits() -> None:
    schema = Body.model_json_schema()["properties"]["municipality_code"]
    assert schema["type"] == "string"
    assert schema["pattern"] == "^[0-9]{6}$"
    assert (schema["minLength"], schema["maxLength"]) == (6, 6)
    assert "check digit" in schema["description"]
