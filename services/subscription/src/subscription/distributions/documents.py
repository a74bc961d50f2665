"""The investor's documents as A4 PDFs: a period's distribution statement and the year's
payment record, labelled in Japanese and English; the same content gives the same bytes.

Japanese text uses the PDF standard Japanese fonts (reportlab's CID fonts: Heisei Kaku
Gothic for labels and headings, Heisei Mincho for values), which readers supply, so no
font file is shipped or embedded (as disclosure's documents do). Text a person wrote (a
fund's name, a perk) is escaped for reportlab's paragraph markup.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from subscription.distributions.schemas import (
    PaymentRecordOut,
    PaymentTotalsOut,
    StatementLine,
)

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
LATIN = "Helvetica"
"""For text in Latin letters only: the CID fonts' Latin letters are less legible."""
AUTHOR = "Kumiai"
MARGIN = 18 * mm
COLUMN_SHARES = (0.28, 0.26, 0.46)
"""The text width given to a row's Japanese label, English label and value."""
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#B0B0B0")
LABEL_BACKGROUND = colors.HexColor("#F0F0F0")
NOT_YET_PAID = "未払 / Not yet paid"
NONE = "なし / None"


@dataclass(frozen=True)
class Row:
    """One labelled value, labels in Japanese and English."""

    label_ja: str
    label_en: str
    value: str


@dataclass(frozen=True)
class Section:
    heading: str
    rows: tuple[Row, ...] = ()
    paragraphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    title_ja: str
    title_en: str
    subtitle: str
    sections: tuple[Section, ...]
    footer: str


def yen(amount: int) -> str:
    """Whole yen in both languages: ``10,000 円 (JPY 10,000)``."""
    return f"{amount:,} 円 (JPY {amount:,})"


def day(value: date) -> str:
    """A day as both languages read it: ``2027年3月31日 (2027-03-31)``."""
    return f"{value.year}年{value.month}月{value.day}日 ({value.isoformat()})"


def _totals_rows(totals: PaymentTotalsOut) -> tuple[Row, ...]:
    return (
        Row("支払回数", "Payments", f"{totals.payments:,}"),
        Row("分配金額 (税引前)", "Gross distribution", yen(totals.gross)),
        Row("源泉徴収税額", "Tax withheld", yen(totals.tax)),
        Row("差引支払額", "Net paid", yen(totals.net)),
    )


def statement_document(line: StatementLine, *, investor_id: UUID) -> Document:
    """A period's distribution statement: what the investor holds, gets and has left to
    recoup, and when it was paid."""
    period = line.period_number
    return Document(
        title_ja="分配金計算書",
        title_en="Distribution statement",
        subtitle=line.fund_name,
        sections=(
            Section(
                "対象 / Subject",
                (
                    Row("投資家ID", "Investor ID", str(investor_id)),
                    Row("ファンド", "Fund", line.fund_name),
                    Row("ファンドID", "Fund ID", str(line.fund_id)),
                    Row("計算期間", "Period", f"第{period}期 / Period {period}"),
                    Row(
                        "期間",
                        "Period dates",
                        f"{day(line.period_start)} 〜 {day(line.period_end)}",
                    ),
                ),
            ),
            Section(
                "分配金 / Distribution",
                (
                    Row("保有口数", "Units held", f"{line.units:,}"),
                    Row("1口当たり分配金", "Per unit", yen(line.per_unit)),
                    Row("分配金額 (税引前)", "Gross distribution", yen(line.gross)),
                    Row("源泉徴収税額", "Tax withheld", yen(line.tax)),
                    Row("差引支払額", "Net paid", yen(line.net)),
                ),
            ),
            Section(
                "累計 / To date",
                (
                    Row("累計分配金額", "Cumulative gross", yen(line.cumulative_gross)),
                    Row("累計源泉徴収税額", "Cumulative tax withheld", yen(line.cumulative_tax)),
                    Row(
                        "出資金回収までの残額", "Remaining to recoup", yen(line.remaining_to_recoup)
                    ),
                ),
            ),
            Section(
                "支払 / Payment",
                (
                    Row("特典", "Perk", line.perk or NONE),
                    Row("支払日", "Paid on", day(line.paid_on) if line.paid_on else NOT_YET_PAID),
                ),
            ),
        ),
        footer=f"{line.fund_id} / {period} / {investor_id}",
    )


def payment_record_document(record: PaymentRecordOut) -> Document:
    """The investor's payment record of a calendar year: per fund and in total."""
    year = record.year
    funds = tuple(
        Section(
            fund.fund_name,
            (Row("ファンドID", "Fund ID", str(fund.fund_id)), *_totals_rows(fund)),
        )
        for fund in record.funds
    )
    nothing = (
        ()
        if record.funds
        else (
            Section(
                "ファンド別 / Per fund",
                paragraphs=(
                    f"{year}年中にお支払いした分配金はありません。",
                    f"No distribution was paid to you in {year}.",
                ),
            ),
        )
    )
    return Document(
        title_ja="分配金支払記録",
        title_en="Distribution payment record",
        subtitle=f"{year}年 (1月1日〜12月31日) / Calendar year {year}",
        sections=(
            Section(
                "受取人 / Recipient",
                (
                    Row("投資家ID", "Investor ID", str(record.investor_id)),
                    Row("対象年", "Year", f"{year}"),
                    Row("確定日", "Final on", day(record.available_from)),
                ),
            ),
            *funds,
            *nothing,
            Section("年間合計 / Year totals", _totals_rows(record.totals)),
        ),
        footer=f"{record.investor_id} / {year}",
    )


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
        "title_en": _style("title_en", LATIN, 11, textColor=GREY, spaceAfter=4),
        "subtitle": _style("subtitle", GOTHIC, 13, spaceAfter=10),
        "heading": _style("heading", GOTHIC, 12, spaceBefore=10, spaceAfter=5, keepWithNext=1),
        "body": _style("body", MINCHO, 10, spaceAfter=5),
        "label": _style("label", GOTHIC, 9),
        "label_en": _style("label_en", LATIN, 8, textColor=GREY),
        "value": _style("value", MINCHO, 9.5),
        "value_latin": _style("value_latin", LATIN, 9),
        "footer": _style("footer", LATIN, 7, textColor=GREY, spaceBefore=12),
    }


def _latin(text: str) -> bool:
    """Whether Helvetica prints ``text`` (its encoding is cp1252)."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _markup(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _rows_table(rows: Sequence[Row], width: float) -> Table:
    # One line per row (Japanese label, English label, value): a statement fits one page.
    styles = _styles()
    table = Table(
        [
            [
                Paragraph(_markup(row.label_ja), styles["label"]),
                Paragraph(_markup(row.label_en), styles["label_en"]),
                Paragraph(
                    _markup(row.value), styles["value_latin" if _latin(row.value) else "value"]
                ),
            ]
            for row in rows
        ],
        colWidths=[width * share for share in COLUMN_SHARES],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (1, -1), LABEL_BACKGROUND),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def render_pdf(document: Document) -> bytes:
    """The document as an A4 PDF; the same document gives the same bytes."""
    _fonts()
    styles = _styles()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{document.title_ja} / {document.title_en}",
        subject=document.subtitle,
        author=AUTHOR,
        creator=AUTHOR,
        lang="ja",
        invariant=1,
    )
    story: list[Flowable] = [
        Paragraph(_markup(document.title_ja), styles["title"]),
        Paragraph(_markup(document.title_en), styles["title_en"]),
        Paragraph(_markup(document.subtitle), styles["subtitle"]),
    ]
    for section in document.sections:
        story.append(Paragraph(_markup(section.heading), styles["heading"]))
        if section.rows:
            story.append(_rows_table(section.rows, template.width))
            if section.paragraphs:
                story.append(Spacer(1, 6))
        story.extend(Paragraph(_markup(text), styles["body"]) for text in section.paragraphs)
    story.append(Paragraph(_markup(document.footer), styles["footer"]))
    template.build(story)
    return buffer.getvalue()


def statement_pdf(line: StatementLine, *, investor_id: UUID) -> bytes:
    """A period's distribution statement as PDF."""
    return render_pdf(statement_document(line, investor_id=investor_id))


def payment_record_pdf(record: PaymentRecordOut) -> bytes:
    """The investor's payment record of a year as PDF."""
    return render_pdf(payment_record_document(record))
