"""The fees over a fund's term, worked by hand."""

from __future__ import annotations

from datetime import date

from kumiai.contracts.subscription import FeeKind
from subscription.distributions.fees import FeeTerms, fee_terms_from, fees_due

# Formed 15 October 2026, a 36-month term, fiscal years ending in March:
#   FY2027  2026-10-15 .. 2027-03-31  (17+30+31+31+28+31 = 168 days of a 365-day year)
#   FY2028  2027-04-01 .. 2028-03-31  (366 days: February 2028 has 29)
#   FY2029  2028-04-01 .. 2029-03-31
#   FY2030  2029-04-01 .. 2029-10-14  (the term's last day)
TERMS = FeeTerms(
    operation_fee_rate_ppm=20_000,  # 2 % a year
    audit_fee_first_year=150_000,
    audit_fee_later_years=100_000,
    term_months=36,
    fiscal_year_end_month=3,
)
FORMED = date(2026, 10, 15)
RAISED = 300 * 10_000  # 300 units of JPY 10,000


def _due(
    period_end: date, *, last: bool = False, charged: frozenset[tuple[FeeKind, int]] = frozenset()
) -> list[tuple[FeeKind, int, int]]:
    return [
        (fee.kind, fee.fiscal_year, fee.amount)
        for fee in fees_due(
            TERMS,
            formed_on=FORMED,
            raised=RAISED,
            period_end=period_end,
            last=last,
            charged=charged,
        )
    ]


def test_the_first_fiscal_year_is_charged_pro_rata_with_the_period_that_ends_it() -> None:
    # operation: floor(3,000,000 x 20,000 x 168 / (1,000,000 x 365)) = floor(27,616.43) = 27,616
    assert _due(date(2027, 3, 31)) == [
        (FeeKind.OPERATION, 2027, 27_616),
        (FeeKind.AUDIT, 2027, 150_000),
    ]


def test_a_half_year_that_ends_no_fiscal_year_owes_nothing() -> None:
    charged = frozenset({(FeeKind.OPERATION, 2027), (FeeKind.AUDIT, 2027)})
    assert _due(date(2027, 9, 30), charged=charged) == []


def test_what_was_charged_is_never_charged_again() -> None:
    charged = frozenset({(FeeKind.OPERATION, 2027), (FeeKind.AUDIT, 2027)})
    # a whole later year: 3,000,000 x 2 % = 60,000; the later years' audit fee
    assert _due(date(2028, 3, 31), charged=charged) == [
        (FeeKind.OPERATION, 2028, 60_000),
        (FeeKind.AUDIT, 2028, 100_000),
    ]


def test_a_late_declaration_catches_up_every_year_that_ended() -> None:
    assert [(k, y) for k, y, _ in _due(date(2029, 3, 31))] == [
        (FeeKind.OPERATION, 2027),
        (FeeKind.AUDIT, 2027),
        (FeeKind.OPERATION, 2028),
        (FeeKind.AUDIT, 2028),
        (FeeKind.OPERATION, 2029),
        (FeeKind.AUDIT, 2029),
    ]


def test_the_last_period_of_the_term_charges_the_short_last_year() -> None:
    charged = frozenset((kind, year) for kind in FeeKind for year in (2027, 2028, 2029))
    # FY2030 lived 2029-04-01 .. 2029-10-14: 30+31+30+31+31+30+14 = 197 days of 365
    # floor(60,000 x 197 / 365) = floor(32,383.56) = 32,383
    assert _due(date(2029, 10, 14), charged=charged) == [
        (FeeKind.OPERATION, 2030, 32_383),
        (FeeKind.AUDIT, 2030, 100_000),
    ]


def test_early_termination_charges_the_year_it_cuts_short() -> None:
    charged = frozenset({(FeeKind.OPERATION, 2027), (FeeKind.AUDIT, 2027)})
    # matures with the period ending 2027-09-30: FY2028 lived 183 days of 366
    # 60,000 x 183 / 366 = 30,000 exactly
    assert _due(date(2027, 9, 30), last=True, charged=charged) == [
        (FeeKind.OPERATION, 2028, 30_000),
        (FeeKind.AUDIT, 2028, 100_000),
    ]


def test_fees_of_zero_are_not_charged() -> None:
    free = fee_terms_from(
        {
            "fees": {
                "operation_fee_rate_ppm": 0,
                "audit_fee_first_year": 0,
                "audit_fee_later_years": 0,
            },
            "term_months": 12,
            "settlement": {"fiscal_year_end_month": 12},
        }
    )
    assert (
        fees_due(
            free,
            formed_on=FORMED,
            raised=RAISED,
            period_end=date(2027, 10, 14),
            last=True,
            charged=(),
        )
        == []
    )
