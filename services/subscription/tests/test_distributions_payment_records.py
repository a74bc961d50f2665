"""Statements and payment records: paid or declared, the year and when it is final, the
year's totals, and the staff's CSV (pure)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden
from kumiai.spreadsheets import BYTE_ORDER_MARK, csv_lines, csv_text
from subscription.distributions.payment_records import (
    CSV_HEADER,
    FIRST_YEAR,
    LAST_YEAR,
    PaymentStatus,
    RecordRow,
    Totals,
    YearNotOver,
    YearOutOfRange,
    available_from,
    check_may_read_all_payment_records,
    check_year_over,
    csv_filename,
    csv_rows,
    csv_start,
    may_read_all_payment_records,
    payment_status,
    year_span,
    year_totals,
)

INVESTOR = uuid.UUID("6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11")
FUND = uuid.UUID("6f1c1a52-0000-4000-8000-000000000001")
MSME = uuid.UUID("6f1c1a52-0000-4000-8000-000000000002")


def test_a_line_is_declared_until_its_payment_is_recorded() -> None:
    assert payment_status(None) is PaymentStatus.DECLARED
    assert payment_status(date(2030, 5, 1)) is PaymentStatus.PAID


def test_a_year_counts_the_days_paid_from_1_january_to_31_december() -> None:
    assert year_span(2030) == (date(2030, 1, 1), date(2030, 12, 31))


@pytest.mark.parametrize("year", [FIRST_YEAR - 1, LAST_YEAR + 1, 0, -2030])
def test_years_outside_2000_to_2200_are_refused(year: int) -> None:
    with pytest.raises(YearOutOfRange) as refused:
        year_span(year)
    assert refused.value.status == 422
    assert refused.value.problem == "year-out-of-range"


@pytest.mark.parametrize("year", [FIRST_YEAR, LAST_YEAR])
def test_the_bounds_are_years_too(year: int) -> None:
    assert year_span(year)[0].year == year
    assert available_from(year) == date(year + 1, 1, 1)


def test_the_record_is_given_once_the_year_is_over_in_japan() -> None:
    # 31 December 2030 in Japan: the year can still pay; 1 January 2031: it is final.
    with pytest.raises(YearNotOver) as early:
        check_year_over(2030, today=date(2030, 12, 31))
    check_year_over(2030, today=date(2031, 1, 1))
    check_year_over(2030, today=date(2031, 3, 15))
    assert early.value.status == 409
    assert early.value.problem == "year-not-over"
    assert early.value.extra == {"available_from": "2031-01-01"}
    with pytest.raises(YearNotOver):
        check_year_over(2031, today=date(2030, 6, 1))


def test_only_staff_read_every_investors_payment_record() -> None:
    staff = Principal(subject="s", role=Role.STAFF, tenant="platform")
    assert may_read_all_payment_records(staff)
    check_may_read_all_payment_records(staff)
    for role, tenant in [
        (Role.INVESTOR, str(INVESTOR)),
        (Role.BANK, "hokkaido-bank"),
        (Role.MSME, str(MSME)),
        (Role.MUNICIPALITY, "012025"),
        (Role.SERVICE, "ledger"),
    ]:
        other = Principal(subject="s", role=role, tenant=tenant)
        assert not may_read_all_payment_records(other)
        with pytest.raises(Forbidden):
            check_may_read_all_payment_records(other)


def test_the_years_totals_add_up_every_fund() -> None:
    # Fund A paid twice: 18,000 gross (no tax: still recouping) and 19,998 gross with
    # 1,326 withheld; fund B once: 46,662 gross with 3,096 withheld.
    a = Totals(payments=2, gross=18_000 + 19_998, tax=1_326, net=18_000 + 18_672)
    b = Totals(payments=1, gross=46_662, tax=3_096, net=43_566)
    # 37,998 + 46,662 = 84,660 gross; 1,326 + 3,096 = 4,422 tax; 84,660 - 4,422 = 80,238 net.
    assert year_totals([a, b]) == Totals(payments=3, gross=84_660, tax=4_422, net=80_238)


def test_a_year_with_nothing_paid_has_zero_totals() -> None:
    assert year_totals([]) == Totals(payments=0, gross=0, tax=0, net=0)


amounts = st.integers(min_value=0, max_value=10**12)
totals = st.builds(
    lambda payments, gross, tax: Totals(payments, gross, tax, gross - tax),
    st.integers(min_value=0, max_value=100),
    amounts,
    amounts,
)


@given(st.lists(totals, max_size=20))
def test_the_years_totals_are_the_sums_in_any_order(funds: list[Totals]) -> None:
    total = year_totals(funds)
    assert total.payments == sum(f.payments for f in funds)
    assert total.gross == sum(f.gross for f in funds)
    assert total.net == total.gross - total.tax
    assert year_totals(reversed(funds)) == total


def test_the_csv_opens_with_the_byte_order_mark_and_the_header() -> None:
    start = csv_start()
    assert start.startswith(BYTE_ORDER_MARK)
    assert start.encode("utf-8")[:3] == b"\xef\xbb\xbf"
    assert start == BYTE_ORDER_MARK + ",".join(CSV_HEADER) + "\r\n"
    assert csv_filename(2030) == "payment-records-2030.csv"


def _row(**overrides: object) -> RecordRow:
    values: dict[str, object] = {
        "investor_id": INVESTOR,
        "full_name": "鈴木 一郎",
        "address": "北海道札幌市北区4-5-6, 101号",
        "fund_id": FUND,
        "fund_name": "十勝ワイナリー応援ファンド",
        "msme_id": MSME,
        "totals": Totals(payments=2, gross=37_998, tax=1_326, net=36_672),
    }
    values.update(overrides)
    return RecordRow(**values)  # type: ignore[arg-type]


def test_a_csv_record_is_one_investor_and_fund_in_header_order() -> None:
    line = csv_rows([_row()])
    [parsed] = list(csv.reader(io.StringIO(line)))
    assert line.endswith("\r\n")
    assert dict(zip(CSV_HEADER, parsed, strict=True)) == {
        "investor_id": str(INVESTOR),
        "full_name": "鈴木 一郎",
        # The comma in the address is quoted, not a new column.
        "address": "北海道札幌市北区4-5-6, 101号",
        "fund_id": str(FUND),
        "fund_name": "十勝ワイナリー応援ファンド",
        "msme_id": str(MSME),
        "payments": "2",
        "total_gross": "37998",
        "total_withheld": "1326",
        "total_net": "36672",
    }


def test_quotes_and_line_breaks_stay_inside_their_field() -> None:
    lines = csv_lines([['a "quoted" name', "two\nlines", 5], ["x", "y", 6]])
    assert lines == '"a ""quoted"" name","two\nlines",5\r\nx,y,6\r\n'
    assert list(csv.reader(io.StringIO(lines))) == [
        ['a "quoted" name', "two\nlines", "5"],
        ["x", "y", "6"],
    ]


@pytest.mark.parametrize("formula", ["=1+1", "+81 call", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_excel_would_run_as_a_formula_is_kept_as_text(formula: str) -> None:
    assert csv_text(formula) == "'" + formula
    parsed = next(csv.reader(io.StringIO(csv_rows([_row(full_name=formula)]))))
    assert parsed[1] == "'" + formula


def test_each_row_is_its_own_record() -> None:
    # Two funds of the same investor: two records, in the order given.
    other = _row(fund_id=MSME, fund_name="小樽ガラス工房ファンド", totals=Totals(1, 100, 0, 100))
    parsed = list(csv.reader(io.StringIO(csv_rows([_row(), other]))))
    assert [(row[4], row[6], row[7]) for row in parsed] == [
        ("十勝ワイナリー応援ファンド", "2", "37998"),
        ("小樽ガラス工房ファンド", "1", "100"),
    ]
    assert csv_rows([]) == ""


def test_plain_text_is_written_as_it_is() -> None:
    assert csv_text("Ichiro Suzuki") == "Ichiro Suzuki"
    assert csv_text("鈴木-一郎") == "鈴木-一郎"
