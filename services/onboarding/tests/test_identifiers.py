"""Japanese business identifiers (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from onboarding.domain.identifiers import (
    INDUSTRIES,
    PREFECTURES,
    InvalidIdentifier,
    corporate_number_check_digit,
    local_government_check_digit,
    validate_corporate_number,
    validate_industry,
    validate_municipality_code,
    validate_prefecture_code,
)

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
