"""The investor's documents as A4 PDFs: a period's distribution statement and the year's
payment record, labelled in Japanese and English; the same content gives the same bytes.

Japanese text uses the PDF standard Japanese fonts (reportlab's CID fonts: Heisei Kaku
Gothic for labels and headings, Heisei Mincho for values), which readers supply, so no
font file is shipped or embedded; ``kumiai.pdf`` renders them, as it renders disclosure's
documents. Text a person wrote (a fund's name, a perk) prints as written.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from kumiai.pdf import Layout, Row, Section, render_pdf
from subscription.distributions.schemas import (
    PaymentRecordOut,
    PaymentTotalsOut,
    StatementLine,
)

NOT_YET_PAID = "未払 / Not yet paid"
NONE = "なし / None"


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


def statement_document(line: StatementLine, *, investor_id: UUID) -> Layout:
    """A period's distribution statement: what the investor holds, gets and has left to
    recoup, and when it was paid."""
    period = line.period_number
    return Layout(
        title_ja="分配金計算書",
        title_en="Distribution statement",
        subtitle=line.fund_name,
        sections=(
            Section(
                "対象",
                "Subject",
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
                "分配金",
                "Distribution",
                (
                    Row("保有口数", "Units held", f"{line.units:,}"),
                    Row("1口当たり分配金", "Per unit", yen(line.per_unit)),
                    Row("分配金額 (税引前)", "Gross distribution", yen(line.gross)),
                    Row("源泉徴収税額", "Tax withheld", yen(line.tax)),
                    Row("差引支払額", "Net paid", yen(line.net)),
                ),
            ),
            Section(
                "累計",
                "To date",
                (
                    Row("累計分配金額", "Cumulative gross", yen(line.cumulative_gross)),
                    Row("累計源泉徴収税額", "Cumulative tax withheld", yen(line.cumulative_tax)),
                    Row(
                        "出資金回収までの残額", "Remaining to recoup", yen(line.remaining_to_recoup)
                    ),
                ),
            ),
            Section(
                "支払",
                "Payment",
                (
                    Row("特典", "Perk", line.perk or NONE),
                    Row("支払日", "Paid on", day(line.paid_on) if line.paid_on else NOT_YET_PAID),
                ),
            ),
        ),
        footer=f"{line.fund_id} / {period} / {investor_id}",
    )


def payment_record_document(record: PaymentRecordOut) -> Layout:
    """The investor's payment record of a calendar year: per fund and in total."""
    year = record.year
    funds = tuple(
        Section(
            fund.fund_name,
            "",
            (Row("ファンドID", "Fund ID", str(fund.fund_id)), *_totals_rows(fund)),
        )
        for fund in record.funds
    )
    nothing = (
        ()
        if record.funds
        else (
            Section(
                "ファンド別",
                "Per fund",
                paragraphs=(
                    f"{year}年中にお支払いした分配金はありません。",
                    f"No distribution was paid to you in {year}.",
                ),
            ),
        )
    )
    return Layout(
        title_ja="分配金支払記録",
        title_en="Distribution payment record",
        subtitle=f"{year}年 (1月1日〜12月31日) / Calendar year {year}",
        sections=(
            Section(
                "受取人",
                "Recipient",
                (
                    Row("投資家ID", "Investor ID", str(record.investor_id)),
                    Row("対象年", "Year", f"{year}"),
                    Row("確定日", "Final on", day(record.available_from)),
                ),
            ),
            *funds,
            *nothing,
            Section("年間合計", "Year totals", _totals_rows(record.totals)),
        ),
        footer=f"{record.investor_id} / {year}",
    )


def statement_pdf(line: StatementLine, *, investor_id: UUID) -> bytes:
    """A period's distribution statement as PDF."""
    return render_pdf(statement_document(line, investor_id=investor_id))


def payment_record_pdf(record: PaymentRecordOut) -> bytes:
    """The investor's payment record of a year as PDF."""
    return render_pdf(payment_record_document(record))
