"""The leverage report as a CSV file a municipality opens in Excel (pure).

UTF-8 with a byte order mark and CRLF records (``kumiai.spreadsheets``), so Excel in
Japan shows the Japanese header and programme names as they are; amounts are whole yen
without separators, so they stay numbers in the sheet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from kumiai.local_government import is_local_government_code
from kumiai.spreadsheets import csv_file, csv_text
from subsidy.reports.rules import LeverageTable

LEVERAGE_CSV_HEADER = (
    "自治体コード",
    "プログラム",
    "年度",
    "支援件数",
    "調達額（円）",  # noqa: RUF001 - full-width parentheses are Japanese punctuation
    "補助金交付決定額（円）",  # noqa: RUF001
    "補助金支払額（円）",  # noqa: RUF001
    "レバレッジ（倍）",  # noqa: RUF001
)
TOTAL_LABEL = "合計"


def _ratio_text(ratio: Decimal | None) -> str:
    # An empty cell, not 0: nothing was paid, so there is no ratio to show.
    return "" if ratio is None else str(ratio)


def _records(table: LeverageTable) -> Iterator[Sequence[str | int]]:
    yield LEVERAGE_CSV_HEADER
    for line in table.lines:
        yield (
            line.municipality_code,
            csv_text(line.name),
            line.fiscal_year,
            line.funds,
            line.raised,
            line.subsidy_granted,
            line.subsidy_paid,
            _ratio_text(line.ratio),
        )
    total = table.total
    yield (
        TOTAL_LABEL,
        "",
        table.fiscal_year,
        total.funds,
        total.raised,
        total.subsidy_granted,
        total.subsidy_paid,
        _ratio_text(total.ratio),
    )


def leverage_csv(table: LeverageTable) -> bytes:
    """The leverage report as CSV for Excel in Japan: a header, one record per programme,
    then the total (合計); amounts in whole yen, the ratio rounded down to one decimal."""
    return csv_file(_records(table))


def report_file_stem(fiscal_year: int, municipality_code: str | None) -> str:
    """The ASCII name a leverage report of a fiscal year (and municipality) is saved
    under, without its extension: ``leverage-fy2015`` or ``leverage-fy2015-012025``."""
    if municipality_code is None:
        return f"leverage-fy{fiscal_year}"
    # Only a real code may reach a Content-Disposition header.
    if not is_local_government_code(municipality_code):
        raise ValueError(f"{municipality_code!r} is not a local government code")
    return f"leverage-fy{fiscal_year}-{municipality_code}"


def leverage_csv_filename(fiscal_year: int, municipality_code: str | None) -> str:
    """The name the leverage CSV is saved under, e.g. ``leverage-fy2015-012025.csv``."""
    return report_file_stem(fiscal_year, municipality_code) + ".csv"
