"""The annual report (DOMAIN.md rule 3): what it says and that its PDF carries it."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from disclosure.annual.layout import (
    AnnualReportFacts,
    Confirmation,
    DistributionFacts,
    PeriodSales,
    annual_report_layout,
)
from disclosure.documents.layout import plain_text
from kumiai.pdf import render_pdf

OVERVIEW = "新しい醸造タンクを導入し、生産量が前年の1.5倍になりました。"


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def facts(**overrides: object) -> AnnualReportFacts:
    base = AnnualReportFacts(
        fund_name="十勝ワイナリー応援ファンド",
        fiscal_year=2027,
        starts_on=date(2027, 4, 1),
        ends_on=date(2028, 3, 31),
        overview=OVERVIEW,
        use_of_funds="醸造タンク 6,000,000 円\n瓶詰め機 2,500,000 円",
        sales=(
            PeriodSales(1, date(2027, 4, 1), date(2027, 9, 30), 12_000_000, 0),
            PeriodSales(2, date(2027, 10, 1), date(2028, 3, 31), 15_000_000, -250_000),
        ),
        distributions=(),
        confirmation=Confirmation(
            kind="tax_accountant",
            name="山田会計事務所",
            registration_number="123456",
            confirmed_on=date(2028, 5, 20),
        ),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_total_sales_adds_every_period_and_its_adjustment() -> None:
    assert facts().total_sales == 26_750_000
    assert facts(sales=()).total_sales == 0


@given(
    st.lists(
        st.tuples(st.integers(0, 10**10), st.integers(-(10**8), 10**8)), min_size=0, max_size=4
    )
)
def test_total_sales_is_the_exact_sum(amounts: list[tuple[int, int]]) -> None:
    periods = tuple(
        PeriodSales(n, date(2027, 4, 1), date(2028, 3, 31), sales, adjustment)
        for n, (sales, adjustment) in enumerate(amounts, start=1)
    )
    assert facts(sales=periods).total_sales == sum(s + a for s, a in amounts)


def test_the_report_has_the_five_sections_of_rule_3() -> None:
    layout = annual_report_layout(facts())
    assert [section.heading_ja for section in layout.sections] == [
        "事業の概況",
        "資金の使途",
        "当期の売上高",
        "分配の有無",
        "帳簿の確認",
    ]
    text = plain_text(layout)
    assert "年次報告書 / Annual report" in text
    assert "Fiscal year: 2027" in text
    assert "Period: 2027-04-01 〜 2028-03-31" in text
    assert "瓶詰め機 2,500,000 円" in text
    assert "第1期 (2027-04-01 〜 2027-09-30) / Period 1: 12,000,000 円" in text
    assert "調整 / Adjustment: -250,000 円" in text
    assert "売上高 (合計) / Sales, total: 26,750,000 円 (JPY 26,750,000)" in text
    assert "Distribution paid: なし / None" in text
    assert "Confirmed by: 税理士 / Certified tax accountant" in text
    assert "Registration number: 123456" in text
    assert "Confirmed on: 2028-05-20" in text


def test_a_paid_distribution_shows_its_total_and_per_unit_amount() -> None:
    text = plain_text(
        annual_report_layout(
            facts(distributions=(DistributionFacts(810_000, 270, date(2028, 6, 30)),))
        )
    )
    assert "Distribution paid: あり / Yes" in text
    assert "分配総額 / Total: 810,000 円" in text
    assert "1口あたり / Per unit: 270 円" in text
    assert "支払日 / Paid on: 2028-06-30" in text


def test_several_distributions_are_numbered_and_added_up() -> None:
    text = plain_text(
        annual_report_layout(
            facts(
                distributions=(
                    DistributionFacts(360_000, 120, date(2027, 12, 15)),
                    DistributionFacts(450_000, 150, None),
                )
            )
        )
    )
    assert "第1回 分配総額 / Distribution 1: Total: 360,000 円" in text
    assert "第2回 支払日 / Distribution 2: Paid on: 未払い / Not yet paid" in text
    assert "分配総額 (合計) / Total of the year: 810,000 円" in text


def test_unconfirmed_books_and_no_sales_are_said_so() -> None:
    text = plain_text(annual_report_layout(facts(confirmation=None, sales=())))
    assert "Confirmed: 未確認 / Not yet confirmed" in text
    assert "No sales report was approved" in text
    assert "Sales, total: 0 円" in text


def test_a_confirmation_is_by_an_accountant_or_a_tax_accountant() -> None:
    accountant = Confirmation("accountant", "監査法人", "7890", date(2028, 5, 1))
    assert "公認会計士" in plain_text(annual_report_layout(facts(confirmation=accountant)))
    with pytest.raises(ValueError, match="unknown kind"):
        Confirmation("lawyer", "弁護士", "1", date(2028, 5, 1))


def test_the_annual_report_pdf_carries_overview_total_and_no_distribution() -> None:
    text = pdf_text(render_pdf(annual_report_layout(facts())))
    assert "年次報告書" in text
    assert OVERVIEW in text
    assert "26,750,000 円" in text
    assert "なし" in text
    assert "税理士" in text
