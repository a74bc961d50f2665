"""The investor's PDFs: a period's statement and the year's payment record, read back as
text (Japanese and English labels, the amounts), the same bytes for the same content."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pypdf

from subscription.distributions.documents import (
    day,
    payment_record_pdf,
    statement_pdf,
    yen,
)
from subscription.distributions.payment_records import PaymentStatus
from subscription.distributions.schemas import (
    FundPaymentsOut,
    PaymentRecordOut,
    PaymentTotalsOut,
    StatementLine,
)

INVESTOR = uuid.UUID("6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11")
FUND = uuid.UUID("6f1c1a52-0000-4000-8000-000000000001")
OTHER_FUND = uuid.UUID("6f1c1a52-0000-4000-8000-000000000003")
MSME = uuid.UUID("6f1c1a52-0000-4000-8000-000000000002")


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_pages(document: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(document)).pages)


def line(**overrides: Any) -> StatementLine:
    # 3 units at 6,666 a unit: 19,998 gross; 1,326 withheld; 19,998 - 1,326 = 18,672 net.
    values: dict[str, Any] = {
        "fund_id": FUND,
        "fund_name": "十勝ワイナリー応援ファンド",
        "period_number": 3,
        "period_start": date(2029, 4, 1),
        "period_end": date(2030, 3, 31),
        "units": 3,
        "per_unit": 6_666,
        "gross": 19_998,
        "tax": 1_326,
        "net": 18_672,
        "cumulative_gross": 37_998,
        "cumulative_tax": 1_326,
        "remaining_to_recoup": 0,
        "perk": "ワイン1本 x 3",
        "declared_at": datetime(2030, 4, 20, 1, 0, tzinfo=UTC),
        "paid_on": date(2030, 5, 1),
        "payment_status": PaymentStatus.PAID,
    }
    values.update(overrides)
    return StatementLine(**values)


def test_values_read_in_both_languages() -> None:
    assert yen(1_234_567) == "1,234,567 円 (JPY 1,234,567)"
    assert yen(0) == "0 円 (JPY 0)"
    assert day(date(2030, 5, 1)) == "2030年5月1日 (2030-05-01)"


def test_the_statement_says_every_figure_with_japanese_and_english_labels() -> None:
    document = statement_pdf(line(), investor_id=INVESTOR)
    text = pdf_text(document)
    assert document.startswith(b"%PDF-")
    assert pdf_pages(document) == 1
    for label in [
        "分配金計算書",
        "Distribution statement",
        "保有口数",
        "Units held",
        "1口当たり分配金",
        "Per unit",
        "分配金額 (税引前)",
        "源泉徴収税額",
        "Tax withheld",
        "差引支払額",
        "累計分配金額",
        "累計源泉徴収税額",
        "出資金回収までの残額",
        "Remaining to recoup",
        "特典",
        "支払日",
        "Paid on",
    ]:
        assert label in text, label
    assert "十勝ワイナリー応援ファンド" in text
    assert "第3期 / Period 3" in text
    assert "2029年4月1日 (2029-04-01)" in text
    assert "6,666 円 (JPY 6,666)" in text
    assert "19,998 円 (JPY 19,998)" in text
    assert "1,326 円 (JPY 1,326)" in text
    assert "18,672 円 (JPY 18,672)" in text
    assert "37,998 円 (JPY 37,998)" in text
    assert "ワイン1本 x 3" in text
    assert "2030年5月1日 (2030-05-01)" in text
    assert str(INVESTOR) in text


def test_an_unpaid_line_says_so_and_a_line_without_perk_says_none() -> None:
    text = pdf_text(
        statement_pdf(
            line(paid_on=None, payment_status=PaymentStatus.DECLARED, perk=None),
            investor_id=INVESTOR,
        )
    )
    assert "未払 / Not yet paid" in text
    assert "なし / None" in text


def test_text_a_person_wrote_prints_as_written() -> None:
    text = pdf_text(statement_pdf(line(fund_name="A & B <b>Fund</b>"), investor_id=INVESTOR))
    assert "A & B <b>Fund</b>" in text


def test_the_same_statement_gives_the_same_bytes() -> None:
    assert statement_pdf(line(), investor_id=INVESTOR) == statement_pdf(
        line(), investor_id=INVESTOR
    )


def record(funds: list[FundPaymentsOut], totals: PaymentTotalsOut) -> PaymentRecordOut:
    return PaymentRecordOut(
        investor_id=INVESTOR,
        year=2030,
        available_from=date(2031, 1, 1),
        funds=funds,
        totals=totals,
    )


def test_the_payment_record_lists_each_fund_and_the_years_totals() -> None:
    # Fund A: 18,000 (nothing withheld while recouping) + 19,998 (1,326 withheld) = 37,998
    # gross, 36,672 net; fund B: 46,662 gross, 3,096 withheld, 43,566 net.
    # Year: 37,998 + 46,662 = 84,660 gross; 1,326 + 3,096 = 4,422 tax; 80,238 net.
    funds = [
        FundPaymentsOut(
            fund_id=FUND,
            fund_name="十勝ワイナリー応援ファンド",
            msme_id=MSME,
            payments=2,
            gross=37_998,
            tax=1_326,
            net=36_672,
        ),
        FundPaymentsOut(
            fund_id=OTHER_FUND,
            fund_name="小樽ガラス工房ファンド",
            msme_id=MSME,
            payments=1,
            gross=46_662,
            tax=3_096,
            net=43_566,
        ),
    ]
    document = payment_record_pdf(
        record(funds, PaymentTotalsOut(payments=3, gross=84_660, tax=4_422, net=80_238))
    )
    text = pdf_text(document)
    for label in ["分配金支払記録", "Distribution payment record", "年間合計", "Year totals"]:
        assert label in text, label
    assert "2030年 (1月1日〜12月31日) / Calendar year 2030" in text
    assert "十勝ワイナリー応援ファンド" in text
    assert "小樽ガラス工房ファンド" in text
    for amount in ["37,998", "36,672", "46,662", "3,096", "43,566", "84,660", "4,422", "80,238"]:
        assert f"{amount} 円 (JPY {amount})" in text, amount
    assert "ありません" not in text


def test_a_year_with_nothing_paid_says_so() -> None:
    nothing = PaymentTotalsOut(payments=0, gross=0, tax=0, net=0)
    text = pdf_text(payment_record_pdf(record([], nothing)))
    assert "2030年中にお支払いした分配金はありません。" in text
    assert "No distribution was paid to you in 2030." in text
    assert "0 円 (JPY 0)" in text
