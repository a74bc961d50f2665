"""CSV for Excel in Japan: the byte order mark, CRLF records, quoting, and text that
cannot run as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.spreadsheets import BYTE_ORDER_MARK, csv_file, csv_lines, csv_text


@pytest.mark.parametrize(
    "formula", ["=1+1", "+81 call", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")']
)
def test_text_that_excel_would_run_as_a_formula_is_kept_as_text(formula: str) -> None:
    assert csv_text(formula) == "'" + formula
    [[field]] = list(csv.reader(io.StringIO(csv_lines([[csv_text(formula)]]))))
    assert field == "'" + formula


@pytest.mark.parametrize("text", ["Ichiro Suzuki", "鈴木-一郎", "K市応援ファンド", "1+1", ""])
def test_plain_text_is_written_as_it_is(text: str) -> None:
    assert csv_text(text) == text


def test_records_end_in_crlf_and_special_fields_are_quoted() -> None:
    lines = csv_lines([['a "quoted" name', "two\nlines", 5], ["x,y", "z", 6]])
    assert lines == '"a ""quoted"" name","two\nlines",5\r\n"x,y",z,6\r\n'
    assert list(csv.reader(io.StringIO(lines))) == [
        ['a "quoted" name', "two\nlines", "5"],
        ["x,y", "z", "6"],
    ]
    assert csv_lines([]) == ""


def test_a_file_opens_with_the_byte_order_mark() -> None:
    data = csv_file([["自治体コード", "プログラム"], ["011002", "札幌市応援ファンド"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert (
        data
        == (BYTE_ORDER_MARK + "自治体コード,プログラム\r\n011002,札幌市応援ファンド\r\n").encode()
    )
    assert data.decode("utf-8-sig") == "自治体コード,プログラム\r\n011002,札幌市応援ファンド\r\n"


# Text a person may write: Japanese (kana, kanji, full-width forms), ASCII punctuation
# that CSV must quote, line breaks; no lone surrogates (no encoding can store them).
japanese_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),  # kana
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # kanji
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width forms
        st.sampled_from(list(" ,\"'\r\n\t=+-@・ー円")),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    max_size=40,
)


@given(st.lists(st.lists(japanese_text, min_size=1, max_size=5), max_size=5))
def test_japanese_text_round_trips_through_the_file(records: list[list[str]]) -> None:
    data = csv_file(records)
    text = data.decode("utf-8-sig")
    assert not text.startswith(BYTE_ORDER_MARK)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == records


@given(japanese_text)
def test_safe_text_never_starts_a_formula(text: str) -> None:
    safe = csv_text(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)
