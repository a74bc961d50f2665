"""Payment references: generation, check character and normalisation (pure)."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.references import (
    ALPHABET,
    check_character,
    is_valid_reference,
    new_reference,
    normalise_reference,
)

PAYLOADS = st.text(alphabet=ALPHABET, min_size=10, max_size=10)
REFERENCES = PAYLOADS.map(lambda payload: "KM" + payload + check_character(payload))
SAMPLES = ["KM0123456789T", "KM7X4Q9K2MC3Y", "KMZZZZZZZZZZ" + check_character("Z" * 10)]

ESCAPING_PAIRS = {("0", "Z"), ("Z", "0")}
"""The only adjacent transpositions Luhn mod 32 cannot see.

Swapping neighbours ``a`` and ``b`` (one weighted 1, the other 2) changes the
sum by ``f(a) - f(b)`` where ``f(x) = double(x) - x``: ``x`` for ``x < 16`` and
``x - 31`` otherwise. Modulo 32 that is 0..15 and 17..31, 0, so only
``f(0) == f(31)``: the pair "0" and "Z".
"""


def _replace(text: str, position: int, char: str) -> str:
    return text[:position] + char + text[position + 1 :]


def _swap(text: str, position: int) -> str:
    return text[:position] + text[position + 1] + text[position] + text[position + 2 :]


def _reference_with(position: int, first: str, second: str) -> str:
    """A valid reference with ``first`` and ``second`` at ``position`` and the next position."""
    filler = list("7X4Q9K2MC3")
    if position < 9:
        filler[position : position + 2] = [first, second]
        return "KM" + "".join(filler) + check_character("".join(filler))
    filler[9] = first
    for lead in ALPHABET:
        payload = lead + "".join(filler[1:])
        if check_character(payload) == second:
            return "KM" + payload + second
    raise AssertionError("every check character is reachable by changing one character")


def test_known_check_characters() -> None:
    assert check_character("0123456789") == "T"
    assert check_character("7X4Q9K2MC3") == "Y"
    assert check_character("0000000000") == "0"


def test_check_character_refuses_characters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError, match="'U' is not a reference character"):
        check_character("012345678U")


def test_injected_random_source_gives_the_exact_reference() -> None:
    asked: list[int] = []

    def fixed(size: int) -> bytes:
        asked.append(size)
        return bytes(range(size))

    assert new_reference(fixed) == "KM0123456789T"
    assert asked == [10]
    # Each byte is taken modulo 32: 32..41 and 224..233 read as 0..9 too.
    assert new_reference(lambda size: bytes(range(32, 32 + size))) == "KM0123456789T"
    assert new_reference(lambda size: bytes(range(224, 224 + size))) == "KM0123456789T"
    assert new_reference(lambda size: bytes([255] * size)) == "KM" + "Z" * 10 + check_character(
        "Z" * 10
    )


def test_a_short_random_source_is_refused() -> None:
    with pytest.raises(ValueError, match="gave 9 bytes, expected 10"):
        new_reference(lambda size: bytes(size - 1))


def test_generated_references_are_valid_and_differ() -> None:
    references = [new_reference() for _ in range(200)]
    assert all(len(reference) == 13 for reference in references)
    assert all(reference.startswith("KM") for reference in references)
    assert all(set(reference) <= set(ALPHABET) for reference in references)
    assert all(is_valid_reference(reference) for reference in references)
    assert len(set(references)) == 200


@given(st.binary(min_size=10, max_size=10))
def test_any_random_bytes_give_a_valid_reference(data: bytes) -> None:
    reference = new_reference(lambda size: data)
    assert len(reference) == 13
    assert is_valid_reference(reference)


@pytest.mark.parametrize("reference", SAMPLES)
def test_every_single_substitution_is_detected(reference: str) -> None:
    assert is_valid_reference(reference)
    for position, char in product(range(2, 13), ALPHABET):
        if reference[position] != char:
            assert not is_valid_reference(_replace(reference, position, char)), (position, char)


@given(REFERENCES, st.integers(2, 12), st.sampled_from(ALPHABET))
def test_a_substitution_is_always_detected(reference: str, position: int, char: str) -> None:
    changed = _replace(reference, position, char)
    assert is_valid_reference(changed) == (changed == reference)


def test_adjacent_transpositions_escape_only_for_zero_and_z() -> None:
    """All 10 neighbour positions after "KM" times all 992 ordered pairs of distinct characters."""
    escaped = set()
    tried = 0
    for position in range(10):
        for first, second in product(ALPHABET, repeat=2):
            if first == second:
                continue
            reference = _reference_with(position, first, second)
            assert is_valid_reference(reference)
            assert reference[2 + position : 4 + position] == first + second
            tried += 1
            if is_valid_reference(_swap(reference, 2 + position)):
                escaped.add((position, first, second))
    assert tried == 10 * 32 * 31
    assert escaped == {(position, *pair) for position in range(10) for pair in ESCAPING_PAIRS}


@given(REFERENCES, st.integers(0, 11))
def test_a_transposition_is_detected_unless_it_swaps_zero_and_z(
    reference: str, position: int
) -> None:
    pair = (reference[position], reference[position + 1])
    swapped = _swap(reference, position)
    expected = pair[0] == pair[1] or (position >= 2 and pair in ESCAPING_PAIRS)
    assert is_valid_reference(swapped) == expected


def test_transpositions_of_zero_and_z_really_escape() -> None:
    payload = "Z0" + "00000000"
    reference = "KM" + payload + check_character(payload)
    assert is_valid_reference(reference)
    assert is_valid_reference(_swap(reference, 2))
    assert _swap(reference, 2) != reference


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("KM7X4Q9K2MC3Y", "KM7X4Q9K2MC3Y"),
        ("km-7x4q-9k2m-c3y", "KM7X4Q9K2MC3Y"),
        (" KM 7X4Q 9K2M C3Y ", "KM7X4Q9K2MC3Y"),
        ("KMo1234S6789T", "KM01234S6789T"),
        ("KM0iL3456789T", "KM0113456789T"),
        ("km0123456789t", "KM0123456789T"),
    ],
)
def test_normalisation(text: str, canonical: str) -> None:
    assert normalise_reference(text) == canonical
    assert normalise_reference(canonical) == canonical


def test_confusables_read_as_the_digits_they_resemble() -> None:
    reference = "KM0110000000" + check_character("0110000000")
    assert is_valid_reference(reference)
    assert is_valid_reference("km-oil0-0000-00" + reference[-1].lower())
    assert normalise_reference("km-oil0-0000-00" + reference[-1].lower()) == reference


@given(REFERENCES, st.lists(st.sampled_from([" ", "-"]), max_size=5), st.data())
def test_normalisation_round_trips(
    reference: str, separators: list[str], data: st.DataObject
) -> None:
    messy = reference.lower()
    for separator in separators:
        at = data.draw(st.integers(0, len(messy)))
        messy = messy[:at] + separator + messy[at:]
    messy = messy.replace("0", data.draw(st.sampled_from(["0", "o", "O"])))
    messy = messy.replace("1", data.draw(st.sampled_from(["1", "i", "I", "l", "L"])))
    assert normalise_reference(messy) == reference
    assert is_valid_reference(messy)


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_reference(text)
    assert normalise_reference(once) == once


def test_only_ascii_letters_are_uppercased() -> None:
    payload = next(
        "".join(tail) + "000000"
        for tail in product(ALPHABET, repeat=4)
        if check_character("".join(tail) + "000000") == "S"
    )
    assert is_valid_reference("KM" + payload + "s")
    assert "\u017f".upper() == "S"
    assert not is_valid_reference("KM" + payload + "\u017f")  # a long s


@pytest.mark.parametrize(
    "text",
    [
        "",
        "KM",
        "KM0123456789",
        "KM0123456789TT",
        "XM0123456789T",
        "MK0123456789T",
        "KM012345678UT",
        "KM0123456789T\n",
        "".join(chr(ord(char) + 0xFEE0) for char in "KM0123456789T"),  # full width
    ],
)
def test_malformed_references_are_invalid(text: str) -> None:
    assert not is_valid_reference(text)
