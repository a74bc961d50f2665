"""Request bodies refuse exactly the characters ``kumiai.inputs`` refuses, in one pass."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kumiai.inputs import control_character
from ledger.books.rules import MANUAL_PURPOSES
from ledger.books.schemas import EntryBatchIn, EntryIn, ManualPurpose

POSTINGS = [
    {"account": "suspense", "direction": "debit", "amount": 1},
    {"account": "platform/fees", "direction": "credit", "amount": 1},
]


def _entry(**text: str) -> dict[str, Any]:
    return {
        "purpose": "transfer",
        "description": "a transfer",
        "reason": "a reason",
        "postings": POSTINGS,
        **text,
    }


def _refused(body: dict[str, Any], model: type[EntryIn | EntryBatchIn] = EntryIn) -> bool:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return any(e["type"] == "control_character" for e in exc.errors())
    return False


def test_the_same_characters_as_the_common_library() -> None:
    characters = [chr(c) for c in (*range(0x00, 0x2100), *range(0xD7F0, 0xE010), 0xFEFF)]
    # A backslash before the character: JSON escapes must not hide or invent one.
    differ = [
        hex(ord(c))
        for c in characters
        if _refused(_entry(description=f"abc\\{c}b", reason=f"\\u00{c}"))
        != (control_character(c) is not None)
    ]
    assert differ == []


@given(text=st.text(min_size=3, max_size=40))
def test_any_text_is_refused_exactly_when_it_holds_a_control_character(text: str) -> None:
    holds = control_character(text) is not None
    assert _refused(_entry(description=text)) == holds
    assert _refused({"entries": [_entry(), _entry(reason=text)]}, EntryBatchIn) == holds


def test_the_refusal_names_where_and_keys_count_too() -> None:
    with pytest.raises(ValidationError, match=r"entries\.1\.postings\.0\.account"):
        EntryBatchIn.model_validate(
            {"entries": [_entry(), {**_entry(), "postings": [{**POSTINGS[0], "account": "a\x00"}]}]}
        )
    assert _refused({"entries": [{**_entry(), "\x00": 1}]}, EntryBatchIn)


def test_staff_are_offered_exactly_the_manual_purposes() -> None:
    assert {p.value for p in ManualPurpose} == {p.value for p in MANUAL_PURPOSES}
