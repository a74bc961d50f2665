"""Cursors round-trip, and anything else is refused with a problem, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.pagination import BadCursor, decode_cursor, encode_cursor, page_of


@given(
    when=st.datetimes(timezones=st.just(UTC)),
    ident=st.uuids(),
)
def test_a_cursor_gives_back_its_key(when: datetime, ident: UUID) -> None:
    cursor = encode_cursor(when, ident)
    assert decode_cursor(cursor, datetime.fromisoformat, UUID) == (when, ident)


@pytest.mark.parametrize(
    "cursor",
    ["", "not-a-cursor", encode_cursor("2026-01-01T00:00:00+00:00"), encode_cursor(1, "x")],
)
def test_a_foreign_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor, datetime.fromisoformat, UUID)


def test_a_page_says_whether_more_follow() -> None:
    rows = [(n, uuid4()) for n in range(4)]
    full = page_of(rows, limit=3, item=lambda r: r[0], key=lambda r: (r[0],))
    last = page_of(rows[:3], limit=3, item=lambda r: r[0], key=lambda r: (r[0],))
    assert full.items == [0, 1, 2]
    assert full.next_cursor is not None
    assert decode_cursor(full.next_cursor, int) == (2,)
    assert last.items == [0, 1, 2]
    assert last.next_cursor is None
