"""The sales reports' rules: periods, figures, confirmation, review, who sees them, what
investors are told (pure)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from disclosure.db.models import metadata
from disclosure.funds.rules import FundOutcome, Span
from disclosure.sales.rules import (
    FILE_TYPES,
    LIVE,
    REGISTRATION_NUMBER,
    ConfirmationMissing,
    ConfirmerKind,
    CumulativeSalesNegative,
    Figures,
    FilePurpose,
    FundNotFormed,
    Line,
    PeriodNotEnded,
    ReportExists,
    ReportRefused,
    ReportStatus,
    UnknownPeriod,
    check_adjustment,
    check_approval,
    check_breakdown,
    check_confirmation,
    check_cumulative,
    check_files_open,
    check_formed,
    check_no_other_report,
    check_period_ended,
    check_return,
    check_reviewer,
    cumulative_sales,
    document_body,
    document_data,
    document_title,
    has_confirmation,
    may_read,
    period_of,
)
from kumiai.files import CSV, DOCX, JPEG, PDF, PNG, XLSX
from kumiai.inputs import MAX_AMOUNT
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden, UnprocessableContent

MSME_ID = uuid.UUID("6f1c1a52-0000-4000-8000-00000000000a")
PERIOD = Span(2, date(2027, 10, 1), date(2028, 3, 31))
PERIODS = (Span(1, date(2027, 6, 15), date(2027, 9, 30)), PERIOD)

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)
adjustments = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "kumiai")
BUSINESS = _principal(Role.MSME, str(MSME_ID))


def _check_text(table: str, name: str) -> str:
    for constraint in metadata.tables[table].constraints:
        if isinstance(constraint, CheckConstraint) and str(constraint.name).endswith(name):
            return str(constraint.sqltext)
    raise AssertionError(f"no constraint {name}")


# -- statuses and the database -----------------------------------------------------------


def test_the_statuses_are_the_ones_the_database_accepts() -> None:
    text = _check_text("sales_reports", "status_known")
    assert set(re.findall(r"'(\w+)'", text)) == {s.value for s in ReportStatus}
    purposes = _check_text("sales_report_files", "purpose_known")
    assert set(re.findall(r"'(\w+)'", purposes)) == {p.value for p in FilePurpose}


def test_live_reports_are_those_the_unique_index_covers() -> None:
    index = next(
        i
        for i in metadata.tables["sales_reports"].indexes
        if i.name == "uq_sales_reports_live_period"
    )
    assert index.unique
    assert "status <> 'returned'" in str(index.dialect_options["postgresql"]["where"])
    assert set(ReportStatus) - {ReportStatus.RETURNED} == LIVE


# -- the period --------------------------------------------------------------------------


def test_only_a_formed_fund_reports() -> None:
    check_formed(FundOutcome.FORMED)
    for outcome in (None, FundOutcome.FAILED, FundOutcome.CANCELLED):
        with pytest.raises(FundNotFormed) as caught:
            check_formed(outcome)
        assert caught.value.status == 422
        assert caught.value.problem == "fund-not-formed"


def test_a_period_the_fund_lacks_is_refused_naming_how_many_it_has() -> None:
    assert period_of(PERIODS, 2) == PERIOD
    for number in (0, 3):
        with pytest.raises(UnknownPeriod) as caught:
            period_of(PERIODS, number)
        assert caught.value.status == 422
        assert caught.value.extra["periods"] == 2
    with pytest.raises(UnknownPeriod) as none:
        period_of((), 1)
    assert none.value.extra["periods"] == 0


def test_a_period_is_reported_from_the_day_after_its_last_day() -> None:
    with pytest.raises(PeriodNotEnded) as caught:
        check_period_ended(PERIOD, PERIOD.ends_on)
    assert caught.value.status == 409
    assert caught.value.problem == "period-not-ended"
    with pytest.raises(PeriodNotEnded):
        check_period_ended(PERIOD, PERIOD.starts_on)
    check_period_ended(PERIOD, PERIOD.ends_on + timedelta(days=1))


# -- the figures -------------------------------------------------------------------------


def test_a_breakdown_adds_up_to_the_sales() -> None:
    check_breakdown(0, None)
    check_breakdown(0, ())
    check_breakdown(300, (Line("shop", 100), Line("online", 200)))
    with pytest.raises(UnprocessableContent) as caught:
        check_breakdown(300, (Line("shop", 100),))
    assert caught.value.extra["invalid_params"][0]["name"] == "body.breakdown"


@given(amounts, st.lists(amounts, max_size=8))
def test_a_breakdown_is_accepted_exactly_when_it_sums_to_the_sales(
    sales: int, parts: list[int]
) -> None:
    breakdown = tuple(Line(f"line {i}", a) for i, a in enumerate(parts))
    if sum(parts) == sales:
        check_breakdown(sales, breakdown)
    else:
        with pytest.raises(UnprocessableContent):
            check_breakdown(sales, breakdown)


@given(st.lists(amounts, min_size=1, max_size=8))
def test_a_breakdown_of_its_own_sum_always_passes(parts: list[int]) -> None:
    check_breakdown(sum(parts), tuple(Line("x", a) for a in parts))


def test_an_adjustment_says_why_and_corrects_earlier_periods_only() -> None:
    assert check_adjustment(1, 0, None) is None
    assert check_adjustment(2, 0, "kept?") is None, "no adjustment, no reason kept"
    assert check_adjustment(2, -500, "  returned goods  ") == "returned goods"
    assert check_adjustment(3, 500, "late invoice") == "late invoice"
    cases = [
        (1, 100, "late invoice", "body.adjustment"),
        (2, 100, None, "body.adjustment_reason"),
        (2, -100, "  ab ", "body.adjustment_reason"),
        (2, MAX_AMOUNT + 1, "too much", "body.adjustment"),
        (2, -MAX_AMOUNT - 1, "too much", "body.adjustment"),
    ]
    for number, adjustment, reason, field in cases:
        with pytest.raises(UnprocessableContent) as caught:
            check_adjustment(number, adjustment, reason)
        assert caught.value.extra["invalid_params"][0]["name"] == field


def test_cumulative_sales_add_every_period_and_its_adjustment() -> None:
    assert cumulative_sales([]) == 0
    assert cumulative_sales([(100, 0), (50, -30), (0, 10)]) == 130
    assert check_cumulative([(100, 0)], 0, -100) == 0
    with pytest.raises(CumulativeSalesNegative) as caught:
        check_cumulative([(100, 0)], 0, -101)
    assert caught.value.status == 422
    assert caught.value.problem == "cumulative-sales-negative"


@given(st.lists(st.tuples(amounts, adjustments), max_size=10), amounts, adjustments)
def test_a_report_passes_exactly_when_cumulative_sales_stay_non_negative(
    approved: list[tuple[int, int]], sales: int, adjustment: int
) -> None:
    total = sum(s + a for s, a in approved) + sales + adjustment
    if total >= 0:
        assert check_cumulative(approved, sales, adjustment) == total
    else:
        with pytest.raises(CumulativeSalesNegative):
            check_cumulative(approved, sales, adjustment)


@given(st.lists(st.tuples(amounts, adjustments), max_size=15))
def test_approving_only_what_passes_keeps_cumulative_sales_never_negative(
    reports: list[tuple[int, int]],
) -> None:
    approved: list[tuple[int, int]] = []
    for sales, adjustment in reports:
        try:
            check_cumulative(approved, sales, adjustment)
        except CumulativeSalesNegative:
            continue
        approved.append((sales, adjustment))
        # every running total, not only the last, stays at zero or more
        assert cumulative_sales(approved) >= 0
    assert all(cumulative_sales(approved[: i + 1]) >= 0 for i in range(len(approved)))


# -- the confirmation --------------------------------------------------------------------


def test_a_confirmation_comes_after_the_period_and_not_from_the_future() -> None:
    after = PERIOD.ends_on + timedelta(days=1)
    today = after + timedelta(days=30)
    check_confirmation(after, "12345", period=PERIOD, today=today)
    check_confirmation(today, "0001234567", period=PERIOD, today=today)
    cases = [
        (PERIOD.ends_on, "12345", "body.confirmed_on"),
        (PERIOD.starts_on, "12345", "body.confirmed_on"),
        (today + timedelta(days=1), "12345", "body.confirmed_on"),
        (after, "", "body.registration_number"),
        (after, "12345678901", "body.registration_number"),
        (after, "第12345号", "body.registration_number"),
        (after, "12 345", "body.registration_number"),
        (after, "١٢٣", "body.registration_number"),
    ]
    for confirmed_on, number, field in cases:
        with pytest.raises(UnprocessableContent) as caught:
            check_confirmation(confirmed_on, number, period=PERIOD, today=today)
        assert caught.value.extra["invalid_params"][0]["name"] == field


def test_the_registration_pattern_is_one_to_ten_ascii_digits() -> None:
    pattern = re.compile(REGISTRATION_NUMBER)
    assert pattern.fullmatch("1")
    assert pattern.fullmatch("0123456789")
    assert not pattern.fullmatch("01234567890")
    assert not pattern.fullmatch("12a")


def test_one_live_report_per_period() -> None:
    check_no_other_report(None, 2)
    for live in LIVE:
        with pytest.raises(ReportExists) as caught:
            check_no_other_report(live, 2)
        assert caught.value.status == 409
        assert caught.value.problem == "report-exists"


# -- review ------------------------------------------------------------------------------


def test_only_staff_review() -> None:
    check_reviewer(STAFF)
    for principal in (BUSINESS, _principal(Role.INVESTOR, "i-1"), _principal(Role.BANK, "b")):
        with pytest.raises(Forbidden):
            check_reviewer(principal)


def test_files_are_added_only_while_submitted() -> None:
    check_files_open(ReportStatus.SUBMITTED)
    for status in (ReportStatus.APPROVED, ReportStatus.RETURNED):
        with pytest.raises(ReportRefused) as caught:
            check_files_open(status)
        assert caught.value.status == 409


def test_approval_needs_a_confirmation_file_and_happens_once() -> None:
    assert check_approval(ReportStatus.SUBMITTED, has_confirmation=True) is True
    assert check_approval(ReportStatus.APPROVED, has_confirmation=True) is False
    assert check_approval(ReportStatus.APPROVED, has_confirmation=False) is False
    with pytest.raises(ConfirmationMissing) as missing:
        check_approval(ReportStatus.SUBMITTED, has_confirmation=False)
    assert missing.value.status == 409
    assert missing.value.problem == "confirmation-file-missing"
    with pytest.raises(ReportRefused):
        check_approval(ReportStatus.RETURNED, has_confirmation=True)


def test_a_return_says_why_and_happens_once() -> None:
    assert check_return(ReportStatus.SUBMITTED, "  figures differ  ") == "figures differ"
    assert check_return(ReportStatus.RETURNED, "again") is None
    with pytest.raises(ReportRefused):
        check_return(ReportStatus.APPROVED, "too late")
    for reason in (None, "", "  no "):
        with pytest.raises(UnprocessableContent) as caught:
            check_return(ReportStatus.SUBMITTED, reason)
        assert caught.value.extra["invalid_params"][0]["name"] == "body.reason"


def test_a_confirmation_file_is_one_of_purpose_confirmation() -> None:
    assert not has_confirmation([])
    assert not has_confirmation([FilePurpose.SUPPORTING, FilePurpose.SUPPORTING])
    assert has_confirmation([FilePurpose.SUPPORTING, FilePurpose.CONFIRMATION])


def test_files_are_pdfs_scans_and_spreadsheets() -> None:
    assert {PDF, JPEG, PNG, CSV, XLSX} == FILE_TYPES
    assert DOCX not in FILE_TYPES


# -- who sees what -----------------------------------------------------------------------


def test_reports_belong_to_staff_and_the_funds_business() -> None:
    assert may_read(STAFF, MSME_ID)
    assert may_read(BUSINESS, MSME_ID)
    assert not may_read(_principal(Role.MSME, str(uuid.uuid4())), MSME_ID)
    assert not may_read(BUSINESS, None)
    assert not may_read(_principal(Role.INVESTOR, str(MSME_ID)), MSME_ID)
    assert not may_read(_principal(Role.BANK, str(MSME_ID)), MSME_ID)
    assert not may_read(_principal(Role.SERVICE, "disclosure"), MSME_ID)


# -- what investors are told -------------------------------------------------------------


def _figures(**changes: object) -> Figures:
    values: dict[str, object] = {
        "report_id": uuid.UUID("6f1c1a52-0000-4000-8000-0000000000f1"),
        "period": PERIOD,
        "sales": 1_234_567,
        "breakdown": (Line("店舗 / Shop", 1_000_000), Line("通販 / Online", 234_567)),
        "adjustment": -10_000,
        "adjustment_reason": "返品 / Returned goods",
        "cumulative": 2_000_000,
        "confirmer_kind": ConfirmerKind.TAX_ACCOUNTANT,
        "confirmed_on": date(2028, 4, 20),
        "confirmation_id": uuid.UUID("6f1c1a52-0000-4000-8000-0000000000c1"),
    }
    values.update(changes)
    return Figures(**values)  # type: ignore[arg-type]


def test_the_published_summary_states_the_figures_in_both_languages() -> None:
    assert document_title(3) == "売上報告 第3期 / Sales report, period 3"
    body = document_body(_figures())
    assert body.startswith("売上報告 第2期 / Sales report, period 2\n")
    assert "2027-10-01" in body
    assert "2028-03-31" in body
    assert "1,234,567 円 (JPY 1,234,567)" in body
    assert "234,567 円 (JPY 234,567)" in body
    assert "-10,000 円 (JPY -10,000)" in body
    assert "返品 / Returned goods" in body
    assert "2,000,000 円 (JPY 2,000,000)" in body
    assert "税理士 / Certified tax accountant, 2028-04-20" in body


def test_a_summary_without_breakdown_or_adjustment_leaves_them_out() -> None:
    body = document_body(_figures(breakdown=(), adjustment=0, adjustment_reason=None, sales=0))
    assert "Breakdown" not in body
    assert "Adjustment" not in body
    assert "0 円 (JPY 0)" in body


def test_the_published_data_is_the_figures_as_json() -> None:
    data = document_data(_figures())
    assert json.loads(json.dumps(data)) == data
    assert data["sales"] == 1_234_567
    assert data["adjustment"] == -10_000
    assert data["cumulative_sales"] == 2_000_000
    assert data["period_number"] == 2
    assert data["breakdown"] == [
        {"label": "店舗 / Shop", "amount": 1_000_000},
        {"label": "通販 / Online", "amount": 234_567},
    ]
    assert data["confirmer_kind"] == "tax_accountant"
    assert all(isinstance(v, int) for k, v in data.items() if k in ("sales", "adjustment"))
