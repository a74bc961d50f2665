"""A layout as an A4 PDF, Japanese included, the same bytes for the same layout.

A layout is a bilingual title, a subtitle, sections of labelled rows (labels in
Japanese and English) and paragraphs, and a footer; every service's documents
(disclosure's, an investor's statements and payment records) are written as one.

Japanese text uses the PDF standard Japanese fonts (reportlab's CID fonts:
Heisei Kaku Gothic for headings, Heisei Mincho for text), which readers supply,
so no font file is shipped or embedded. Every text a user wrote is escaped for
reportlab's paragraph markup, so ``<b>`` or ``&`` print as written.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass(frozen=True)
class Row:
    """One labelled value, labels in Japanese and English."""

    label_ja: str
    label_en: str
    value: str


@dataclass(frozen=True)
class Section:
    """A heading with labelled rows, then free text (which may be Japanese, with newlines)."""

    heading_ja: str
    heading_en: str
    rows: tuple[Row, ...] = ()
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """A whole document: bilingual title, the fund's name, its sections, a version footer."""

    title_ja: str
    title_en: str
    subtitle: str
    sections: tuple[Section, ...]
    footer: str = ""


def bilingual(ja: str, en: str) -> str:
    """``ja / en``, or whichever of the two is given (both when they differ)."""
    if ja and en and ja != en:
        return f"{ja} / {en}"
    return ja or en


GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
LATIN = "Helvetica"
"""For text known to be English only: the CID fonts' Latin letters are less legible."""
AUTHOR = "Kumiai"
MARGIN = 18 * mm
FOOTER_SIZE = 7.5
PAGE_NUMBER_ROOM = 20 * mm
LABEL_SHARE = 0.38
"""The share of the text width given to a row's labels."""

GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#B0B0B0")
LABEL_BACKGROUND = colors.HexColor("#F0F0F0")


@functools.cache
def _fonts() -> None:
    # Registering is global to reportlab; once per process is enough.
    pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))


def _style(name: str, font: str, size: float, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **extra
    )


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": _style("title", GOTHIC, 18, spaceAfter=2),
        "title_en": _style("title_en", GOTHIC, 11, textColor=GREY, spaceAfter=4),
        "subtitle": _style("subtitle", GOTHIC, 13, spaceAfter=10),
        "heading": _style("heading", GOTHIC, 12, spaceBefore=10, spaceAfter=5, keepWithNext=1),
        "body": _style("body", MINCHO, 10, spaceAfter=5),
        "label": _style("label", GOTHIC, 9),
        "value": _style("value", MINCHO, 9.5),
    }


def _font_for(text: str, otherwise: str) -> str:
    """Helvetica for text it can print (its encoding is cp1252), else the given CID font."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return otherwise
    return LATIN


def markup(text: str) -> str:
    """User text as reportlab paragraph markup: escaped, line breaks kept."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return escape(normalised).replace("\n", "<br/>")


def _rows_table(rows: tuple[Row, ...], width: float) -> Table:
    styles = _styles()
    data = [
        [
            Paragraph(
                f'{markup(row.label_ja)}<br/><font name="{_font_for(row.label_en, GOTHIC)}" '
                f'size="7" color="#555555">'
                f"{markup(row.label_en)}</font>",
                styles["label"],
            ),
            Paragraph(markup(row.value), styles["value"]),
        ]
        for row in rows
    ]
    table = Table(
        data,
        colWidths=[width * LABEL_SHARE, width * (1 - LABEL_SHARE)],
        hAlign="LEFT",
        splitInRow=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _section(section: Section, width: float) -> list[Flowable]:
    styles = _styles()
    story: list[Flowable] = []
    heading = bilingual(section.heading_ja, section.heading_en)
    if heading:
        story.append(Paragraph(markup(heading), styles["heading"]))
    if section.rows:
        story.append(_rows_table(section.rows, width))
        if section.paragraphs:
            story.append(Spacer(1, 6))
    story.extend(Paragraph(markup(text), styles["body"]) for text in section.paragraphs)
    return story


def _numbered_canvas(footer: str) -> Callable[..., Canvas]:
    """A canvas that prints ``page / pages`` and the footer once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # missing from the stubs

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            page_width, _ = A4
            self.saveState()
            self.setFillColor(GREY)
            if footer:
                # A long footer is shrunk to stay on its line beside the page number.
                room = page_width - 2 * MARGIN - PAGE_NUMBER_ROOM
                natural = pdfmetrics.stringWidth(footer, GOTHIC, FOOTER_SIZE)
                size = FOOTER_SIZE if natural <= room else FOOTER_SIZE * room / natural
                self.setFont(GOTHIC, size)
                self.drawString(MARGIN, 10 * mm, footer)
            self.setFont(GOTHIC, FOOTER_SIZE)
            self.drawRightString(page_width - MARGIN, 10 * mm, f"{number} / {total}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(layout: Layout) -> bytes:
    """The layout as an A4 PDF with page numbers; the same layout gives the same bytes."""
    _fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=bilingual(layout.title_ja, layout.title_en),
        subject=layout.subtitle,
        author=AUTHOR,
        creator=AUTHOR,
        lang="ja",
        invariant=1,
    )
    story: list[Flowable] = [
        Paragraph(markup(layout.title_ja), styles["title"]),
    ]
    if layout.title_en and layout.title_en != layout.title_ja:
        font = _font_for(layout.title_en, GOTHIC)
        story.append(
            Paragraph(f'<font name="{font}">{markup(layout.title_en)}</font>', styles["title_en"])
        )
    if layout.subtitle:
        story.append(Paragraph(markup(layout.subtitle), styles["subtitle"]))
    for section in layout.sections:
        story.extend(_section(section, document.width))
    document.build(story, canvasmaker=_numbered_canvas(layout.footer))
    return buffer.getvalue()
