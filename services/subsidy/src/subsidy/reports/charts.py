"""The leverage report as an SVG bar chart a municipality pastes into its council report
(pure: the same table gives the same bytes).

Per programme two bars, money raised and subsidy paid, with the ratio beside the
programme's name; the total below the axis. The file stands alone: no script, and no
stylesheet, font or image fetched from anywhere (Word, PowerPoint and LibreOffice open it
offline, and a council's network may block the internet). Text stays text, in a
Japanese font each office system has (Windows: Yu Gothic or Meiryo; macOS: Hiragino;
Linux: Noto Sans CJK JP). Colours and fonts are also written as attributes, so a program
that ignores the stylesheet still draws white backgrounds and coloured bars.
"""

from __future__ import annotations

import unicodedata
import uuid
from decimal import Decimal
from xml.etree import ElementTree as ET

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from subsidy.reports.files import report_file_stem
from subsidy.reports.rules import LeverageLine, LeverageTable

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

FONT_FAMILY = (
    '"Yu Gothic", YuGothic, Meiryo, "Hiragino Sans", "Hiragino Kaku Gothic ProN", '
    '"Noto Sans CJK JP", sans-serif'
)
RAISED_LABEL = "調達額"
PAID_LABEL = "補助金支払額"
NO_DATA_TEXT = "この年度のデータはありません"
SERIES_COLOURS = ("#1f5fa8", "#e0873a")  # raised, paid: apart also in greyscale print

_BACKGROUND = "#ffffff"
_TEXT = "#222222"
_GUIDE = "#999999"
_WIDTH = 960
_LABEL_FONT_SIZE = 14
_VALUE_FONT_SIZE = 12
_TITLE_FONT_SIZE = 18
_NO_DATA_FONT_SIZE = 24
_NAME_COLUMNS = 36  # longer programme names are cut with an ellipsis (the CSV has them whole)
_PYGAL_EM = 0.6  # pygal sizes every character at 0.6 em; a Japanese one takes a full em
_MAX_TICKS = 5

# The chart's id prefixes its CSS. An id derived from the table keeps the bytes the same
# for the same table (pygal would draw a random one) and two charts on one page apart.
_ID_NAMESPACE = uuid.UUID("6c6d1f2e-52a4-4e55-9c8b-2b1f3f0a7d15")


def yen(amount: int) -> str:
    """An amount of yen as a Japanese reader writes it: ``11,900,000円``."""
    return f"{amount:,}円"


def ratio_text(ratio: Decimal | None) -> str:
    """The ratio as the chart shows it: ``7.4倍``, or ``支払なし`` while nothing was paid."""
    return "支払なし" if ratio is None else f"{ratio}倍"


def chart_title(fiscal_year: int) -> str:
    """The chart's title: the leverage of the subsidies of the fiscal year (2015年度)."""
    return f"補助金のレバレッジ（{fiscal_year}年度）"  # noqa: RUF001 - Japanese parentheses


def total_caption(table: LeverageTable) -> str:
    """The line below the chart: the year's totals and their ratio, rounded down."""
    total = table.total
    return (
        f"合計 {total.programmes}件：調達額 {yen(total.raised)}、"  # noqa: RUF001
        f"補助金支払額 {yen(total.subsidy_paid)}\n"
        f"レバレッジ {ratio_text(total.ratio)}（小数第2位以下切り捨て）"  # noqa: RUF001
    )


def axis_ticks(largest: int) -> list[int]:
    """Round yen amounts for the value axis, from 0 to above ``largest``, at most six:
    steps of 1, 2 or 5 times a power of ten (0, 5,000,000, 10,000,000 ...)."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if largest // (step * multiple) < _MAX_TICKS:
                top = (largest // (step * multiple) + 1) * step * multiple
                return list(range(0, top + 1, step * multiple))
        step *= 10


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _columns(text: str) -> int:
    # A wide (Japanese) character takes two columns, as in a Japanese terminal.
    return sum(2 if _wide(c) else 1 for c in text)


def _cut(text: str, columns: int) -> str:
    if _columns(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        used += _columns(char)
        if used > columns - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _label(line: LeverageLine) -> str:
    name = _cut(line.name, _NAME_COLUMNS)
    return f"{name}（{ratio_text(line.ratio)}）"  # noqa: RUF001 - Japanese parentheses


def _width_em(text: str) -> float:
    # In a proportional Japanese font a wide character takes an em, others about half.
    return sum(1.0 if _wide(c) else 0.55 for c in text)


def _yen_axis(value: float) -> str:
    # pygal hands back the whole yen it was given, as a float: it prints whole yen.
    return yen(round(value))


def _style() -> Style:
    return Style(
        font_family=FONT_FAMILY,
        background=_BACKGROUND,
        plot_background=_BACKGROUND,
        foreground=_TEXT,
        foreground_strong=_TEXT,
        foreground_subtle=_GUIDE,
        opacity="1",
        opacity_hover="1",
        colors=SERIES_COLOURS,
        label_font_size=_LABEL_FONT_SIZE,
        major_label_font_size=_LABEL_FONT_SIZE,
        value_font_size=_VALUE_FONT_SIZE,
        title_font_size=_TITLE_FONT_SIZE,
        legend_font_size=14,
        no_data_font_size=_NO_DATA_FONT_SIZE,
        transition="0s",
    )


def _chart(table: LeverageTable) -> pygal.HorizontalBar:
    # pygal stacks horizontal bars from the bottom up: reversed, the table reads top down.
    lines = table.lines[::-1]
    labels = [_label(line) for line in lines]
    # pygal reserves room for the names as if every character were 0.6 em wide: add what
    # Japanese text needs beyond that, or long names would run off the left edge.
    needed = max((_width_em(label) for label in labels), default=0.0)
    reserved = max((_PYGAL_EM * len(label) for label in labels), default=0.0)
    shortfall = max(needed - reserved, 0.0) * _LABEL_FONT_SIZE
    largest = max((max(line.raised, line.subsidy_paid) for line in lines), default=0)
    chart = pygal.HorizontalBar(
        style=_style(),
        width=_WIDTH,
        height=220 + 64 * max(len(table.lines), 1),
        explicit_size=True,
        title=chart_title(table.fiscal_year),
        x_title=total_caption(table) if table.lines else None,
        x_labels=labels,
        # pygal draws no axis without series (and fails on ticks given without them).
        y_labels=axis_ticks(largest) if table.lines else None,
        value_formatter=_yen_axis,
        print_values=True,
        print_values_position="top",
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_label=-1,
        truncate_legend=-1,
        margin=16,
        margin_left=16 + round(shortfall),
        # Room for the amount printed past the longest bar.
        margin_right=16 + round(_width_em(yen(largest)) * _VALUE_FONT_SIZE),
        no_data_text=NO_DATA_TEXT,
        # An empty year shows its message alone, without an axis of nothing.
        show_x_labels=bool(table.lines),
        show_y_labels=bool(table.lines),
        show_x_guides=False,
        show_y_guides=bool(table.lines),
        js=[],
    )
    chart.uuid = str(uuid.uuid5(_ID_NAMESPACE, repr(table)))
    if table.lines:
        chart.add(RAISED_LABEL, [line.raised for line in lines])
        chart.add(PAID_LABEL, [line.subsidy_paid for line in lines])
    return chart


def _classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def _standalone(svg: bytes) -> bytes:
    """pygal's drawing made self-contained and stable: its script (it always writes one,
    holding its settings), its tooltip layer (only a script shows it), comments (one is
    dated today) and processing instructions dropped; fallback presentation written as
    attributes; the whole written out by one serialiser."""
    root = ET.fromstring(svg)  # noqa: S314 - pygal's own output, no entities
    svg_tag = f"{{{SVG_NAMESPACE}}}"
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == svg_tag + "script" or "tooltip-overlay" in _classes(child):
                parent.remove(child)
    for element in root.iter():
        # The SVG namespace becomes the default one, declared once on the root.
        if element.tag.startswith(svg_tag):
            element.tag = element.tag[len(svg_tag) :]
    _fallback_presentation(root, frozenset())
    root.set("xmlns", SVG_NAMESPACE)
    root.set("font-family", FONT_FAMILY)
    root.set("font-size", str(_LABEL_FONT_SIZE))
    root.set("fill", _TEXT)
    standalone: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return standalone


def _fallback_presentation(element: ET.Element, around: frozenset[str]) -> None:
    """What pygal's stylesheet says, repeated as attributes for a program that ignores
    the stylesheet; attributes weigh less than it, so where it is read nothing changes."""
    classes = _classes(element)
    if "background" in classes:
        element.set("fill", _BACKGROUND)
    for index, colour in enumerate(SERIES_COLOURS):
        if f"color-{index}" in classes:
            element.set("fill", colour)
    if "line" in classes:
        element.set("fill", "none")
        element.set("stroke", _GUIDE if "guide" in classes else _TEXT)
    if element.tag == "text":
        if "value" in classes:
            # The amount starts just past the end of its bar instead of straddling it.
            element.attrib.update(
                {"text-anchor": "start", "fill": _TEXT, "font-size": str(_VALUE_FONT_SIZE)}
            )
        elif "title" in classes:
            element.attrib.update({"text-anchor": "middle", "font-size": str(_TITLE_FONT_SIZE)})
        elif "no_data" in classes:
            element.attrib.update({"text-anchor": "middle", "font-size": str(_NO_DATA_FONT_SIZE)})
        elif "axis" in around:
            element.set("text-anchor", "end" if "y" in around else "middle")
    inside = around | classes
    for child in element:
        _fallback_presentation(child, inside)


def leverage_svg(table: LeverageTable) -> bytes:
    """The leverage report as a standalone SVG bar chart: per programme the money raised
    and the subsidy paid, the ratio beside its name, the total below; an empty year says
    there is no data."""
    return _standalone(_chart(table).render())


def leverage_svg_filename(fiscal_year: int, municipality_code: str | None) -> str:
    """The name the leverage chart is saved under, e.g. ``leverage-fy2015-012025.svg``."""
    return report_file_stem(fiscal_year, municipality_code) + ".svg"
