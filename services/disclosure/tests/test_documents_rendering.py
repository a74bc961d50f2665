"""The disclosure documents' renderings: value formats, the PDF, the offering document, Atom."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from disclosure.documents.feed import FeedEntry, atom_feed
from disclosure.documents.layout import (
    Layout,
    Row,
    Section,
    document_layout,
    japan_date,
    japan_time,
    money,
    paragraphs_of,
    plain_text,
    ppm,
    yen,
    yes_no,
)
from disclosure.documents.terms import TERM_LABELS, UNLISTED_TERMS, offering_layout
from kumiai.contracts.onboarding import FundFees, FundOpened, RevenueShare, Settlement
from kumiai.pdf import render_pdf
from kumiai.periods import JAPAN

ATOM = "{http://www.w3.org/2005/Atom}"


def pdf_text(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_pages(document: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(document)).pages)


def fund(**overrides: Any) -> FundOpened:
    start = datetime(2027, 4, 1, 10, 0, tzinfo=JAPAN)
    values: dict[str, Any] = {
        "fund_id": uuid.UUID("6f1c1a52-0000-4000-8000-000000000001"),
        "msme_id": uuid.UUID("6f1c1a52-0000-4000-8000-000000000002"),
        "application_id": uuid.UUID("6f1c1a52-0000-4000-8000-000000000003"),
        "name": "十勝ワイナリー応援ファンド",
        "municipality_code": "012025",
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "donation_per_unit": 0,
        "units_offered": 1_000,
        "formation_threshold_units": 300,
        "max_units_per_investor": 50,
        "offering_start": start,
        "offering_end": start + timedelta(days=30),
        "term_months": 72,
        "settlement": Settlement(fiscal_year_end_month=3, periods_per_year=1),
        "revenue_share": RevenueShare(rate_before_recoup_ppm=30_000, rate_after_recoup_ppm=10_000),
        "fees": FundFees(
            arrangement_fee=900_000,
            operation_fee_rate_ppm=20_000,
            audit_fee_first_year=150_000,
            audit_fee_later_years=100_000,
            success_fee_rate_ppm=25_000,
        ),
        "subordinated": True,
        "terms_digest": "ab" * 32,
    }
    values.update(overrides)
    return FundOpened(**values)


# --- value formats ---------------------------------------------------------


def test_yen_reads_in_both_languages() -> None:
    assert yen(10_000) == "10,000 円 (JPY 10,000)"
    assert yen(0) == "0 円 (JPY 0)"
    assert yen(-1_234_567) == "-1,234,567 円 (JPY -1,234,567)"


@pytest.mark.parametrize("amount", [10_000.0, True])
def test_yen_refuses_what_is_not_an_integer(amount: Any) -> None:
    with pytest.raises(TypeError):
        yen(amount)


def test_money_uses_the_currency_minor_unit() -> None:
    assert money(1_234_567, "USD") == "USD 12,345.67"
    assert money(-5, "EUR") == "EUR -0.05"
    assert money(10_000) == yen(10_000)
    with pytest.raises(ValueError, match="unsupported"):
        money(1, "XXX")


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (30_000, "3 %"),
        (12_345, "1.2345 %"),
        (204_200, "20.42 %"),
        (1, "0.0001 %"),
        (0, "0 %"),
        (1_000_000, "100 %"),
    ],
)
def test_ppm_is_exact(rate: int, text: str) -> None:
    assert ppm(rate) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_ppm_reads_back_to_the_same_rate(rate: int) -> None:
    number = ppm(rate).removesuffix(" %").replace(",", "")
    assert Fraction(number) == Fraction(rate, 10_000)


def test_ppm_refuses_negative_and_float_rates() -> None:
    with pytest.raises(ValueError, match="negative"):
        ppm(-1)
    with pytest.raises(TypeError):
        ppm(3.0)  # type: ignore[arg-type]


def test_japan_date_is_the_day_in_japan() -> None:
    assert japan_date(datetime(2027, 3, 31, 15, 0, tzinfo=UTC)) == "2027-04-01"
    assert japan_date(datetime(2027, 3, 31, 14, 59, tzinfo=UTC)) == "2027-03-31"
    assert japan_time(datetime(2027, 3, 31, 15, 30, tzinfo=UTC)) == "2027-04-01 00:30 JST"
    with pytest.raises(ValueError, match="timezone"):
        japan_date(datetime(2027, 4, 1))  # noqa: DTZ001 (the case under test)


def test_yes_no() -> None:
    assert yes_no(True) == "はい / Yes"
    assert yes_no(False) == "いいえ / No"


# --- layout ------------------------------------------------------------------


def test_paragraphs_split_at_blank_lines_and_keep_line_breaks() -> None:
    assert paragraphs_of("一行目\n二行目\n\n\n次の段落\r\n\r\n  ") == ("一行目\n二行目", "次の段落")
    assert paragraphs_of("") == ()


def test_document_layout_and_its_plain_text() -> None:
    layout = document_layout(
        kind_ja="ファンドニュース",
        kind_en="Fund news",
        title="新しいタンクが届きました",
        body="本文です。\n\nSecond paragraph.",
        fund_name="十勝ワイナリー応援ファンド",
        footer="Version 3",
    )
    assert layout.title_ja == "ファンドニュース"
    assert layout.sections[0].paragraphs == ("本文です。", "Second paragraph.")
    assert plain_text(layout) == (
        "ファンドニュース / Fund news\n"
        "十勝ワイナリー応援ファンド\n"
        "\n"
        "## 新しいタンクが届きました\n"
        "\n"
        "本文です。\n"
        "\n"
        "Second paragraph.\n"
        "\n"
        "Version 3\n"
    )


def test_plain_text_lists_rows_with_both_labels() -> None:
    layout = Layout(
        "見出し", "Heading", "", (Section("売上", "Sales", rows=(Row("売上高", "Sales", "1"),)),)
    )
    assert "売上高 / Sales: 1" in plain_text(layout)


# --- PDF ---------------------------------------------------------------------


def sample_layout(*paragraphs: str) -> Layout:
    return Layout(
        title_ja="募集要項",
        title_en="Offering document",
        subtitle="十勝ワイナリー応援ファンド",
        sections=(
            Section(
                heading_ja="売上高",
                heading_en="Sales",
                rows=(Row("売上高", "Sales", yen(1_234_567)), Row("口数", "Units", "300")),
                paragraphs=paragraphs or ("ワインの醸造所を新しくします。\nA new winery.",),
            ),
        ),
        footer="Version 3 · SHA-256 abcdef · published 2027-04-01",
    )


def test_pdf_carries_japanese_and_english_text() -> None:
    document = render_pdf(sample_layout())
    assert document.startswith(b"%PDF-")
    text = pdf_text(document)
    for expected in (
        "募集要項",
        "Offering document",
        "十勝ワイナリー応援ファンド",
        "売上高",
        "1,234,567 円",
        "ワインの醸造所を新しくします。",
        "A new winery.",
        "published 2027-04-01",
        "1 / 1",
    ):
        assert expected in text


def test_pdf_prints_user_markup_literally() -> None:
    text = pdf_text(render_pdf(sample_layout("<b>太字</b> & <font size=40>big</font>")))
    assert "<b>太字</b> & <font size=40>big</font>" in text
    assert "&amp;" not in text


def test_a_long_paragraph_spans_pages_with_numbers() -> None:
    long = "売上は順調に伸びています。Sales grow steadily. " * 800
    document = render_pdf(sample_layout(long))
    pages = pdf_pages(document)
    assert pages > 2
    assert f"2 / {pages}" in pdf_text(document)


def test_a_long_row_value_spans_pages() -> None:
    layout = Layout(
        "長い値",
        "Long value",
        "",
        (Section("節", "Section", rows=(Row("値", "Value", "長い値。" * 3000),)),),
    )
    assert pdf_pages(render_pdf(layout)) > 1


def test_the_same_layout_gives_the_same_bytes() -> None:
    assert render_pdf(sample_layout()) == render_pdf(sample_layout())


# --- the offering document --------------------------------------------------


def term_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            paths.extend(term_paths(kind, f"{prefix}{name}."))
        else:
            paths.append(f"{prefix}{name}")
    return paths


def test_every_term_of_fund_opened_has_a_label_and_a_row() -> None:
    paths = term_paths(FundOpened)
    assert "fees.success_fee_rate_ppm" in paths  # the walk reaches nested terms
    unlabelled = [path for path in paths if path not in TERM_LABELS and path not in UNLISTED_TERMS]
    assert unlabelled == []
    assert set(TERM_LABELS) <= set(paths)  # no label for a term that no longer exists
    text = plain_text(offering_layout(fund()))
    for path in TERM_LABELS:
        label_ja, label_en = TERM_LABELS[path]
        assert f"{label_ja} / {label_en}: " in text, path


def test_offering_shows_every_term_readably() -> None:
    text = plain_text(
        offering_layout(
            fund(
                unit_price=10_000,
                donation_per_unit=5_000,
                revenue_share=RevenueShare(
                    rate_before_recoup_ppm=30_000,
                    rate_after_recoup_ppm=12_345,
                    sales_threshold=2_000_000,
                    plan_sales=80_000_000,
                    early_termination_at_plan_sales=True,
                ),
                perks_per_unit="ワイン1本 / one bottle of wine",
            )
        )
    )
    for expected in (
        "十勝ワイナリー応援ファンド",
        "6f1c1a52-0000-4000-8000-000000000001",
        "012025",
        "Price per unit: 10,000 円",
        "Investment per unit (price less donation): 5,000 円",
        "Donation per unit (never repaid): 5,000 円",
        "Amount paid per unit (price and handling fee): 10,500 円",
        "Target amount (upper limit): 10,000,000 円",
        "Minimum amount for the fund to form: 3,000,000 円",
        "Units offered (upper limit): 1,000 口",
        "Offering starts: 2027-04-01 10:00 JST",
        "Offering ends: 2027-05-01 10:00 JST",
        "72 か月",
        "3月 / March",
        "年1回 / Once a year",
        "Share of sales before recoup: 3 %",
        "Share of sales after recoup: 1.2345 %",
        "Sales threshold: 2,000,000 円",
        "Cumulative sales of the business plan: 80,000,000 円",
        "Early termination once plan sales are reached: はい / Yes",
        "Arrangement fee: 900,000 円",
        "Operation fee per year: 2 %",
        "Audit fee, first year: 150,000 円",
        "Audit fee, each later year: 100,000 円",
        "Success fee on sales beyond recoup: 2.5 %",
        "ワイン1本 / one bottle of wine",
        "Subordinated to other creditors: はい / Yes",
        "ab" * 32,
        "元本は保証されません",
        "cannot transfer",
        "8日間",
        "never repaid",
    ):
        assert expected in text, expected


def test_offering_says_none_for_absent_terms() -> None:
    text = plain_text(offering_layout(fund(perks_per_unit=None, subordinated=False)))
    assert "Sales threshold: なし / None" in text
    assert "Cumulative sales of the business plan: なし / None" in text
    assert "Perks per unit: なし / None" in text
    assert "Subordinated to other creditors: いいえ / No" in text
    assert "other creditors." not in text  # no subordination risk line
    assert "Cooling-off: the contract may be cancelled within 10 days" in plain_text(
        offering_layout(fund(), cooling_off_days=10)
    )


def test_offering_pdf_carries_title_name_and_price() -> None:
    text = pdf_text(render_pdf(offering_layout(fund())))
    assert "募集要項" in text
    assert "十勝ワイナリー応援ファンド" in text
    assert "10,000" in text


# --- Atom ---------------------------------------------------------------------


def entry(number: int, published: datetime, title: str = "お知らせ") -> FeedEntry:
    return FeedEntry(
        id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        title=title,
        summary=f"概要 {number}",
        link=f"https://example.org/funds/1/news/{number}",
        published=published,
        updated=published,
    )


def feed(entries: list[FeedEntry]) -> ET.Element:
    document = atom_feed(
        feed_id="urn:uuid:6f1c1a52-0000-4000-8000-000000000001",
        title="十勝ワイナリー応援ファンド: ファンドニュース",
        link="https://example.org/funds/1",
        self_link="https://example.org/funds/1/news.atom",
        updated=datetime(2027, 5, 1, tzinfo=UTC),
        entries=entries,
    )
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ET.fromstring(document)  # noqa: S314 (our own output)


def test_atom_feed_lists_entries_newest_first() -> None:
    day = datetime(2027, 4, 1, tzinfo=UTC)
    root = feed(
        [
            entry(1, day, "タンクが届きました"),
            entry(3, day + timedelta(days=2)),
            entry(2, day + timedelta(days=1)),
        ]
    )
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "十勝ワイナリー応援ファンド: ファンドニュース"
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Kumiai"
    entries = root.findall(f"{ATOM}entry")
    assert [item.findtext(f"{ATOM}id") for item in entries] == [
        "urn:uuid:00000000-0000-4000-8000-000000000003",
        "urn:uuid:00000000-0000-4000-8000-000000000002",
        "urn:uuid:00000000-0000-4000-8000-000000000001",
    ]
    assert entries[-1].findtext(f"{ATOM}title") == "タンクが届きました"
    assert entries[-1].findtext(f"{ATOM}summary") == "概要 1"
    link = entries[-1].find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == "https://example.org/funds/1/news/1"
    assert entries[0].findtext(f"{ATOM}published") == "2027-04-03T00:00:00+00:00"


def test_an_empty_atom_feed_is_still_valid() -> None:
    root = feed([])
    assert root.tag == f"{ATOM}feed"
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated") == "2027-05-01T00:00:00+00:00"
    assert root.findtext(f"{ATOM}id") == "urn:uuid:6f1c1a52-0000-4000-8000-000000000001"
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert rels == {
        "alternate": "https://example.org/funds/1",
        "self": "https://example.org/funds/1/news.atom",
    }


def test_atom_feed_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone"):
        feed([entry(1, datetime(2027, 4, 1))])  # noqa: DTZ001 (the case under test)
