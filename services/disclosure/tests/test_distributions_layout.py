"""The distribution notice: what it says, that its PDF carries it, and its data reads back."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pypdf

from disclosure.distributions.layout import NOTICE, notice_facts_of, notice_layout
from disclosure.distributions.rules import NoticeFacts
from disclosure.documents.layout import plain_text
from kumiai.pdf import render_pdf

# 400 units, D = 1,200,150: floor(1,200,150 / 400) = 3,000 per unit, gross 400 x 3,000 =
# 1,200,000; tax 61,260 withheld on the profit part; net 1,200,000 - 61,260 = 1,138,740.
FACTS = NoticeFacts(
    fund_name="十勝ワイナリー応援ファンド",
    period_number=3,
    period_start=date(2026, 4, 1),
    period_end=date(2027, 3, 31),
    distributable_amount=1_200_150,
    per_unit=3_000,
    total_gross=1_200_000,
    total_tax=61_260,
    total_net=1_138_740,
    investor_count=1_234,
    paid_on=date(2027, 6, 12),
)


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_notice_states_the_period_the_amounts_and_the_payment() -> None:
    text = plain_text(notice_layout(FACTS))
    assert text.startswith("分配のお知らせ / Distribution notice\n十勝ワイナリー応援ファンド\n")
    for line in (
        "計算期間 / Settlement period: 第3期 / Period 3: 2026-04-01 〜 2027-03-31",
        "分配可能額 / Distributable amount: 1,200,150 円 (JPY 1,200,150)",
        "1口あたり分配額 (税引前) / Per unit (before tax): 3,000 円 (JPY 3,000)",
        "分配総額 (税引前) / Total gross: 1,200,000 円 (JPY 1,200,000)",
        "源泉徴収税額 / Tax withheld: 61,260 円 (JPY 61,260)",
        "分配総額 (税引後) / Total net: 1,138,740 円 (JPY 1,138,740)",
        "対象の出資者数 / Investors: 1,234 名 (1,234 investors)",
        "支払日 / Paid on: 2027-06-12",
    ):
        assert line in text, line
    assert "20.42 %" in text
    assert "no distribution" not in text


def test_a_period_with_nothing_to_distribute_says_so() -> None:
    nothing = replace(
        FACTS, distributable_amount=0, per_unit=0, total_gross=0, total_tax=0, total_net=0
    )
    text = plain_text(notice_layout(nothing))
    assert "当期の分配はありません。" in text
    assert "There is no distribution for this settlement period." in text
    assert "Total gross: 0 円" in text
    assert "20.42 %" not in text


def test_a_period_whose_start_is_unknown_shows_its_end() -> None:
    text = plain_text(notice_layout(replace(FACTS, period_start=None)))
    assert "Settlement period: 第3期 / Period 3: 〜 2027-03-31" in text


def test_the_notices_data_reads_back_as_the_same_facts() -> None:
    data = NOTICE.dump_python(FACTS, mode="json")
    assert data["paid_on"] == "2027-06-12"
    assert data["total_net"] == 1_138_740
    assert notice_facts_of(data) == FACTS


def test_the_notice_pdf_carries_its_japanese_title_and_figures() -> None:
    text = pdf_text(render_pdf(notice_layout(FACTS, footer="v1")))
    assert "分配のお知らせ" in text
    assert "十勝ワイナリー応援ファンド" in text
    assert "1,138,740 円" in text
    assert "2027-06-12" in text
