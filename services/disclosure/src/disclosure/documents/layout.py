"""What a rendered document says, whatever the format (PDF, text), and how values read.

A layout is plain data: a bilingual title, the fund's name, sections of
labelled rows (Japanese and English labels) and free paragraphs, and a footer
that identifies the version. The formatting helpers are exact: money stays an
integer and a rate in parts per million is printed digit by digit.
"""

from __future__ import annotations

from datetime import datetime

from kumiai.money import MINOR_UNITS
from kumiai.pdf import Layout as Layout
from kumiai.pdf import Row as Row
from kumiai.pdf import Section as Section
from kumiai.pdf import bilingual as bilingual
from kumiai.periods import JAPAN
from kumiai.periods import japan_date as _japan_day

PPM_PER_PERCENT = 10_000
NONE_JA_EN = "なし / None"


def paragraphs_of(body: str) -> tuple[str, ...]:
    """Free text split into paragraphs at blank lines; single line breaks are kept."""
    normalised = body.replace("\r\n", "\n").replace("\r", "\n")
    parts = (part.strip("\n").rstrip() for part in normalised.split("\n\n"))
    return tuple(part for part in parts if part.strip())


def document_layout(
    *, kind_ja: str, kind_en: str, title: str, body: str, fund_name: str, footer: str
) -> Layout:
    """A generic document (fund news, a notice, a contract): its title and body."""
    section = Section(heading_ja=title, heading_en="", paragraphs=paragraphs_of(body))
    return Layout(
        title_ja=kind_ja, title_en=kind_en, subtitle=fund_name, sections=(section,), footer=footer
    )


def plain_text(layout: Layout) -> str:
    """The same content as text, for previews, JSON answers and tests."""
    lines = [bilingual(layout.title_ja, layout.title_en)]
    if layout.subtitle:
        lines.append(layout.subtitle)
    for section in layout.sections:
        lines.append("")
        heading = bilingual(section.heading_ja, section.heading_en)
        if heading:
            lines.append(f"## {heading}")
        lines.extend(
            f"{bilingual(row.label_ja, row.label_en)}: {row.value}" for row in section.rows
        )
        for paragraph in section.paragraphs:
            lines.append("")
            lines.append(paragraph)
    if layout.footer:
        lines.append("")
        lines.append(layout.footer)
    return "\n".join(lines) + "\n"


def _whole(value: object, what: str) -> int:
    # bool is an int subclass and a float would round silently: both are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer")
    return value


def _grouped(amount: int, exponent: int) -> str:
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    if exponent == 0:
        return f"{sign}{major:,}"
    return f"{sign}{major:,}.{minor:0{exponent}d}"


def yen(amount: int) -> str:
    """Yen in both languages: ``10,000 円 (JPY 10,000)``."""
    digits = _grouped(_whole(amount, "amount"), 0)
    return f"{digits} 円 (JPY {digits})"


def money(amount: int, currency: str = "JPY") -> str:
    """An amount of minor units in its currency: yen as :func:`yen`, others ``USD 12.34``."""
    if currency == "JPY":
        return yen(amount)
    if currency not in MINOR_UNITS:
        raise ValueError(f"unsupported currency {currency!r}")
    return f"{currency} {_grouped(_whole(amount, 'amount'), MINOR_UNITS[currency])}"


def ppm(rate: int) -> str:
    """A rate in parts per million as a percentage, exactly: 30000 -> ``3 %``."""
    if _whole(rate, "rate") < 0:
        raise ValueError("rates are not negative")
    whole, fraction = divmod(rate, PPM_PER_PERCENT)
    if fraction == 0:
        return f"{whole:,} %"
    return f"{whole:,}.{fraction:04d}".rstrip("0") + " %"


def japan_date(at: datetime) -> str:
    """The calendar day in Japan at the instant ``at``, as ``YYYY-MM-DD``."""
    if at.tzinfo is None:
        raise ValueError("the instant must be timezone-aware")
    return _japan_day(at).isoformat()


def japan_time(at: datetime) -> str:
    """The instant ``at`` in Japan time to the minute: ``2027-04-01 10:00 JST``."""
    if at.tzinfo is None:
        raise ValueError("the instant must be timezone-aware")
    return at.astimezone(JAPAN).strftime("%Y-%m-%d %H:%M JST")


def yes_no(answer: bool) -> str:
    """``はい / Yes`` or ``いいえ / No``."""
    return "はい / Yes" if answer else "いいえ / No"
