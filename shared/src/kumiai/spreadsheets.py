"""CSV files that Excel in Japan opens as they are, and that cannot run a formula.

Excel reads a CSV without a byte order mark as Shift_JIS, so UTF-8 Japanese comes out
garbled; with the mark it reads UTF-8. Records end in CRLF. Any text a person wrote goes
through ``csv_text`` so that a name like ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BYTE_ORDER_MARK = "\ufeff"
"""Without it, Excel in Japan reads UTF-8 as Shift_JIS and garbles every name."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """Text a person wrote, made safe for a spreadsheet: a leading ``=``, ``+``, ``-``,
    ``@``, tab or carriage return would make Excel run it as a formula, so it gets a
    leading apostrophe (which Excel shows as text and does not print)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def csv_lines(records: Iterable[Sequence[str | int]]) -> str:
    """CSV records, each ending in CRLF; fields with commas, quotes or line breaks quoted."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    return out.getvalue()


def csv_file(records: Iterable[Sequence[str | int]]) -> bytes:
    """A whole CSV file as Excel in Japan opens it: UTF-8 with a byte order mark, CRLF
    records (the first is usually the header); text from users must already have gone
    through ``csv_text``."""
    return (BYTE_ORDER_MARK + csv_lines(records)).encode("utf-8")
