"""Leverage reports: the ratio rounded down, the table and its total, and the same table
as JSON, as CSV for Excel in Japan and as an SVG chart (pure)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from decimal import Decimal
from fractions import Fraction
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.inputs import MAX_AMOUNT
from kumiai.money import CurrencyMismatchError
from kumiai.spreadsheets import BYTE_ORDER_MARK
from subsidy.reports.charts import (
    FONT_FAMILY,
    NO_DATA_TEXT,
    SVG_NAMESPACE,
    axis_ticks,
    chart_title,
    leverage_svg,
    leverage_svg_filename,
)
from subsidy.reports.files import LEVERAGE_CSV_HEADER, leverage_csv, leverage_csv_filename
from subsidy.reports.rules import LeverageFacts, leverage_ratio, leverage_table
from subsidy.reports.schemas import LeverageOut, leverage_out

K_CITY = "012025"
SAPPORO = "011002"
HOKKAIDO = "010006"


def _facts(number: int = 1, **overrides: object) -> LeverageFacts:
    values: dict[str, object] = {
        "programme_id": uuid.UUID(int=number),
        "municipality_code": K_CITY,
        "name": "K市応援ファンド",
        "fiscal_year": 2015,
        "currency": "JPY",
        "funds": 2,
        "raised": 11_900_000,
        "subsidy_granted": 1_600_000,
        "subsidy_paid": 1_600_000,
    }
    values.update(overrides)
    return LeverageFacts(**values)  # type: ignore[arg-type]


K_CITY_FY2015 = _facts()


# -- the ratio --------------------------------------------------------------------------


def test_k_citys_fy2015_leverage_reads_7_4() -> None:
    # 11,900,000 / 1,600,000 = 7.4375: rounded down, never up.
    assert leverage_ratio(11_900_000, 1_600_000) == Decimal("7.4")
    assert str(leverage_ratio(11_900_000, 1_600_000)) == "7.4"


@pytest.mark.parametrize(
    ("raised", "paid", "ratio"),
    [
        (7_990_000, 1_000_000, "7.9"),  # 7.99 is not 8.0
        (7_000_000, 1_000_000, "7.0"),  # always one decimal
        (0, 800_000, "0.0"),  # paid, nothing raised
        (1, 3, "0.3"),
        (2, 3, "0.6"),  # 0.666... rounds down
    ],
)
def test_the_ratio_is_rounded_down_to_one_decimal(raised: int, paid: int, ratio: str) -> None:
    assert str(leverage_ratio(raised, paid)) == ratio


def test_there_is_no_ratio_while_nothing_was_paid() -> None:
    assert leverage_ratio(11_900_000, 0) is None
    assert leverage_ratio(0, 0) is None


def test_a_negative_figure_has_no_ratio() -> None:
    with pytest.raises(ValueError, match="never negative"):
        leverage_ratio(-1, 800_000)
    with pytest.raises(ValueError, match="never negative"):
        leverage_ratio(1, -800_000)


amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)


@given(raised=amounts, paid=st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_the_ratio_never_overstates_and_is_within_a_tenth(raised: int, paid: int) -> None:
    ratio = leverage_ratio(raised, paid)
    assert ratio is not None
    assert ratio.as_tuple().exponent == -1, "exactly one decimal"
    exact = Fraction(raised, paid)
    assert Fraction(ratio) <= exact < Fraction(ratio) + Fraction(1, 10)
    assert ratio * paid <= raised < (ratio + Decimal("0.1")) * paid


# -- the table --------------------------------------------------------------------------


def test_k_citys_table_has_its_line_and_a_total_of_7_4() -> None:
    table = leverage_table([K_CITY_FY2015], fiscal_year=2015)
    assert (table.fiscal_year, table.currency) == (2015, "JPY")
    [line] = table.lines
    assert (line.name, line.funds, line.raised, line.subsidy_paid) == (
        "K市応援ファンド",
        2,
        11_900_000,
        1_600_000,
    )
    assert line.ratio == Decimal("7.4")
    assert table.total.programmes == 1
    assert table.total.ratio == Decimal("7.4")


def test_the_totals_ratio_is_of_the_sums_not_an_average() -> None:
    big = _facts(1, raised=10_000_000, subsidy_paid=1_000_000)  # 10.0
    small = _facts(2, name="小さな基金", raised=100_000, subsidy_paid=100_000)  # 1.0
    table = leverage_table([big, small], fiscal_year=2015)
    # 10,100,000 / 1,100,000 = 9.18...; the average of 10.0 and 1.0 would be 5.5.
    assert table.total.ratio == Decimal("9.1")
    assert table.total.raised == 10_100_000
    assert table.total.subsidy_paid == 1_100_000


def test_lines_are_ordered_by_municipality_then_name_then_id() -> None:
    facts = [
        _facts(4, municipality_code=K_CITY, name="B"),
        _facts(3, municipality_code=K_CITY, name="A"),
        _facts(2, municipality_code=SAPPORO, name="Z"),
        _facts(1, municipality_code=K_CITY, name="A"),
        _facts(5, municipality_code=HOKKAIDO, name="Z"),
    ]
    table = leverage_table(facts, fiscal_year=2015)
    assert [line.programme_id.int for line in table.lines] == [5, 2, 1, 3, 4]


def test_an_empty_year_has_a_total_of_nothing_and_no_ratio() -> None:
    table = leverage_table([], fiscal_year=2016)
    assert table.lines == ()
    assert (table.total.programmes, table.total.raised, table.total.subsidy_paid) == (0, 0, 0)
    assert table.total.ratio is None
    assert table.currency == "JPY"


def test_a_programme_with_nothing_paid_has_no_ratio_but_counts_in_the_total() -> None:
    unpaid = _facts(2, name="未払いの基金", raised=3_000_000, subsidy_paid=0)
    table = leverage_table([K_CITY_FY2015, unpaid], fiscal_year=2015)
    assert [line.ratio for line in table.lines] == [Decimal("7.4"), None]
    # 14,900,000 / 1,600,000 = 9.3125
    assert table.total.ratio == Decimal("9.3")


def test_only_yen_figures_of_the_reports_year_are_tabled() -> None:
    with pytest.raises(CurrencyMismatchError, match="USD"):
        leverage_table([_facts(currency="USD")], fiscal_year=2015)
    with pytest.raises(ValueError, match="fiscal year 2016"):
        leverage_table([_facts(fiscal_year=2016)], fiscal_year=2015)
    with pytest.raises(ValueError, match="twice"):
        leverage_table([K_CITY_FY2015, K_CITY_FY2015], fiscal_year=2015)
    with pytest.raises(ValueError, match="negative"):
        leverage_table([_facts(funds=-1)], fiscal_year=2015)


facts_lists = st.lists(
    st.builds(
        lambda number, code, name, funds, raised, granted, paid: _facts(
            number,
            municipality_code=code,
            name=name,
            funds=funds,
            raised=raised,
            subsidy_granted=granted,
            subsidy_paid=paid,
        ),
        st.integers(min_value=1, max_value=10**6),
        st.sampled_from([K_CITY, SAPPORO, HOKKAIDO]),
        st.text(max_size=5),
        st.integers(min_value=0, max_value=5),
        amounts,
        amounts,
        amounts,
    ),
    max_size=8,
    unique_by=lambda facts: facts.programme_id,
)


@given(facts_lists, st.randoms())
def test_the_total_is_the_sum_of_the_lines_in_any_order(
    facts: list[LeverageFacts], shuffle: object
) -> None:
    table = leverage_table(facts, fiscal_year=2015)
    total = table.total
    assert total.programmes == len(facts)
    assert total.funds == sum(f.funds for f in facts)
    assert total.raised == sum(f.raised for f in facts)
    assert total.subsidy_granted == sum(f.subsidy_granted for f in facts)
    assert total.subsidy_paid == sum(f.subsidy_paid for f in facts)
    assert total.ratio == leverage_ratio(total.raised, total.subsidy_paid)
    if total.ratio is not None:
        assert total.ratio * total.subsidy_paid <= total.raised
        assert total.raised < (total.ratio + Decimal("0.1")) * total.subsidy_paid
    keys = [(line.municipality_code, line.name, line.programme_id) for line in table.lines]
    assert keys == sorted(keys)
    shuffled = list(facts)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    assert leverage_table(shuffled, fiscal_year=2015) == table


# -- JSON -------------------------------------------------------------------------------


def test_the_ratio_is_a_json_string_or_null() -> None:
    unpaid = _facts(2, name="未払いの基金", subsidy_paid=0)
    out = leverage_out(leverage_table([K_CITY_FY2015, unpaid], fiscal_year=2015))
    body = json.loads(out.model_dump_json())
    assert [line["ratio"] for line in body["lines"]] == ["7.4", None]
    assert body["total"]["ratio"] == "14.8"  # 23,800,000 / 1,600,000 = 14.875
    assert body["lines"][0]["raised"] == 11_900_000
    assert body["lines"][0]["programme_id"] == str(uuid.UUID(int=1))
    assert (body["fiscal_year"], body["currency"]) == (2015, "JPY")
    assert body["total"]["programmes"] == 2


def test_the_published_ratio_is_a_decimal_string_rounded_down() -> None:
    schema = LeverageOut.model_json_schema(mode="serialization")
    ratio = schema["$defs"]["LeverageLineOut"]["properties"]["ratio"]
    [string, null] = ratio["anyOf"]
    assert string["type"] == "string"
    assert re.fullmatch(string["pattern"], "7.4")
    assert not re.fullmatch(string["pattern"], "7.44")
    assert null == {"type": "null"}
    assert "rounded down to one decimal" in ratio["description"]


def test_the_published_example_is_k_citys_fy2015() -> None:
    [example] = LeverageOut.model_json_schema()["examples"]
    parsed = LeverageOut.model_validate(example)
    expected = leverage_out(
        leverage_table(
            [_facts(programme_id=parsed.lines[0].programme_id, name="K City Support Fund")],
            fiscal_year=2015,
        )
    )
    assert parsed == expected
    assert json.loads(parsed.model_dump_json())["total"]["ratio"] == "7.4"


# -- CSV --------------------------------------------------------------------------------


def _csv_records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_csv_opens_in_excel_with_a_japanese_header_and_a_total() -> None:
    data = leverage_csv(leverage_table([K_CITY_FY2015], fiscal_year=2015))
    assert data.startswith(BYTE_ORDER_MARK.encode())
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert _csv_records(data) == [
        list(LEVERAGE_CSV_HEADER),
        [K_CITY, "K市応援ファンド", "2015", "2", "11900000", "1600000", "1600000", "7.4"],
        ["合計", "", "2015", "2", "11900000", "1600000", "1600000", "7.4"],
    ]
    assert LEVERAGE_CSV_HEADER[0] == "自治体コード"
    assert LEVERAGE_CSV_HEADER[-1] == "レバレッジ（倍）"  # noqa: RUF001 - Japanese parentheses


def test_the_csv_keeps_names_as_text_and_leaves_no_ratio_empty() -> None:
    formula = _facts(2, name='=HYPERLINK("http://x")', subsidy_paid=0)
    quoted = _facts(3, name='Kushiro, "Fish" & Co\nLtd')
    data = leverage_csv(leverage_table([formula, quoted], fiscal_year=2015))
    records = _csv_records(data)
    assert records[1][1] == '\'=HYPERLINK("http://x")'
    assert records[1][7] == ""
    assert records[2][1] == 'Kushiro, "Fish" & Co\nLtd'
    assert len(records) == 4
    assert all(len(record) == len(LEVERAGE_CSV_HEADER) for record in records)


def test_an_empty_years_csv_has_the_header_and_a_zero_total() -> None:
    records = _csv_records(leverage_csv(leverage_table([], fiscal_year=2016)))
    assert records == [list(LEVERAGE_CSV_HEADER), ["合計", "", "2016", "0", "0", "0", "0", ""]]


def test_report_files_are_named_in_ascii() -> None:
    assert leverage_csv_filename(2015, None) == "leverage-fy2015.csv"
    assert leverage_csv_filename(2015, K_CITY) == "leverage-fy2015-012025.csv"
    assert leverage_svg_filename(2015, K_CITY) == "leverage-fy2015-012025.svg"
    assert leverage_svg_filename(2016, None) == "leverage-fy2016.svg"
    with pytest.raises(ValueError, match="not a local government code"):
        leverage_csv_filename(2015, '012025"; x=')
    with pytest.raises(ValueError, match="not a local government code"):
        leverage_svg_filename(2015, "012026")


# -- the chart --------------------------------------------------------------------------


def _svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314 - the chart under test
    return ["".join(element.itertext()) for element in root.iter(f"{{{SVG_NAMESPACE}}}text")]


TWO_PROGRAMMES = leverage_table(
    [
        K_CITY_FY2015,
        _facts(2, municipality_code=SAPPORO, name="札幌市ものづくり支援", subsidy_paid=0),
    ],
    fiscal_year=2015,
)


def test_the_chart_shows_the_title_the_programmes_and_their_ratios() -> None:
    svg = leverage_svg(TWO_PROGRAMMES)
    root = ET.fromstring(svg)  # noqa: S314 - the chart under test
    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert root.findtext(f"{{{SVG_NAMESPACE}}}title") == "補助金のレバレッジ（2015年度）"  # noqa: RUF001
    texts = _svg_texts(svg)
    assert chart_title(2015) in texts
    assert "K市応援ファンド（7.4倍）" in texts  # noqa: RUF001
    assert "札幌市ものづくり支援（支払なし）" in texts  # noqa: RUF001
    assert "11,900,000円" in texts
    assert "1,600,000円" in texts
    # (11,900,000 + 11,900,000) / 1,600,000 = 14.875
    assert any("レバレッジ 14.8倍" in text for text in texts), "the total's ratio"
    assert {"調達額", "補助金支払額"} <= set(texts), "the legend"


def test_the_chart_lists_the_programmes_top_down_in_the_tables_order() -> None:
    root = ET.fromstring(leverage_svg(TWO_PROGRAMMES))  # noqa: S314 - the chart under test
    heights = {
        "".join(text.itertext()): float(text.get("y", "nan"))
        for text in root.iter(f"{{{SVG_NAMESPACE}}}text")
    }
    # Sapporo's code (011002) comes before K City's (012025).
    assert [line.municipality_code for line in TWO_PROGRAMMES.lines] == [SAPPORO, K_CITY]
    sapporo = heights["札幌市ものづくり支援（支払なし）"]  # noqa: RUF001
    k_city = heights["K市応援ファンド（7.4倍）"]  # noqa: RUF001
    assert sapporo < k_city, "the first line is drawn highest"


def test_the_chart_stands_alone() -> None:
    svg = leverage_svg(TWO_PROGRAMMES)
    text = svg.decode("utf-8")
    assert "<script" not in text.lower()
    assert re.findall(r"https?://[^\s\"'<>)]*", text) == [SVG_NAMESPACE]
    assert "href" not in text
    assert "url(" not in text
    assert "@import" not in text
    assert "<?xml-stylesheet" not in text
    assert "<!--" not in text
    root = ET.fromstring(svg)  # noqa: S314 - the chart under test
    assert root.get("font-family") == FONT_FAMILY
    for family in ('"Yu Gothic"', "Meiryo", '"Hiragino Sans"', '"Noto Sans CJK JP"'):
        assert family in FONT_FAMILY
    assert FONT_FAMILY.endswith("sans-serif")
    assert "<text" in text, "text stays text"


def test_the_same_table_gives_the_same_bytes() -> None:
    first = leverage_svg(TWO_PROGRAMMES)
    assert leverage_svg(TWO_PROGRAMMES) == first
    copy = leverage_table(
        [
            _facts(2, municipality_code=SAPPORO, name="札幌市ものづくり支援", subsidy_paid=0),
            K_CITY_FY2015,
        ],
        fiscal_year=2015,
    )
    assert leverage_svg(copy) == first
    other = leverage_table([K_CITY_FY2015], fiscal_year=2015)
    assert leverage_svg(other) != first


def test_names_from_users_are_escaped_text() -> None:
    name = "<script>x</script> & <b>Co</b>"
    table = leverage_table([_facts(name=name)], fiscal_year=2015)
    svg = leverage_svg(table)
    text = svg.decode("utf-8")
    assert "<script" not in text
    assert "<b>" not in text
    assert "&lt;script&gt;" in text
    assert "&amp;" in text
    assert any(t.startswith(name) for t in _svg_texts(svg))


def test_an_empty_year_draws_a_chart_that_says_there_is_no_data() -> None:
    svg = leverage_svg(leverage_table([], fiscal_year=2016))
    texts = _svg_texts(svg)
    assert NO_DATA_TEXT in texts
    assert chart_title(2016) in texts
    assert "<script" not in svg.decode("utf-8")


def test_a_long_name_is_cut_to_fit_beside_its_bars() -> None:
    name = "北海道" * 30
    svg = leverage_svg(leverage_table([_facts(name=name)], fiscal_year=2015))
    [label] = [t for t in _svg_texts(svg) if t.startswith("北海道")]
    assert label.endswith("…（7.4倍）")  # noqa: RUF001
    assert len(label) < len(name)


@given(st.integers(min_value=0, max_value=10 * MAX_AMOUNT))
def test_the_axis_has_a_few_round_ticks_from_zero_past_the_largest_bar(largest: int) -> None:
    ticks = axis_ticks(largest)
    assert ticks[0] == 0
    assert ticks[-1] > largest
    assert 2 <= len(ticks) <= 6
    step = ticks[1]
    assert ticks == list(range(0, ticks[-1] + 1, step))
    assert str(step).rstrip("0") in ("1", "2", "5")
