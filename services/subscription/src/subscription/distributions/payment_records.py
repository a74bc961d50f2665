"""Statements and payment records: what was paid to an investor, and when (pure).

A declared distribution line is paid once the ledger's ``DistributionPaid`` of its fund
and period is recorded (``distribution_payments``); it then belongs to the calendar year
of ``paid_on``, the day in Japan the ledger booked it. A line of nothing (gross 0) is no
payment: a period below its sales threshold pays nobody, and is left out of the year.

The year's payment record is what an investor files and keeps, and what staff report to
the tax office: per investor and fund, the payments, the gross, the tax withheld and the
net. It is complete only once the year is over in Japan, so investors get it from
1 January of the next year. Staff get the whole year as a CSV that Excel in Japan opens
as it is: UTF-8 with a byte order mark, CRLF line ends, a header row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent
from kumiai.spreadsheets import BYTE_ORDER_MARK, csv_lines, csv_text

FIRST_YEAR = 2000
LAST_YEAR = 2200
"""The calendar years a payment record is asked for (the routes refuse others with 422)."""


class PaymentStatus(StrEnum):
    """Where a declared distribution line stands for its investor."""

    DECLARED = "declared"
    PAID = "paid"


def payment_status(paid_on: date | None) -> PaymentStatus:
    """A line is paid once its period's payment is recorded, declared until then."""
    return PaymentStatus.DECLARED if paid_on is None else PaymentStatus.PAID


class YearOutOfRange(UnprocessableContent):
    problem = "year-out-of-range"
    title = f"A payment record's year is {FIRST_YEAR} to {LAST_YEAR}"


class YearNotOver(Conflict):
    problem = "year-not-over"
    title = "The year's payment record is available once the year is over in Japan"


def check_year(year: int) -> None:
    """Years from 2000 to 2200 only (the routes' bounds say the same)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutOfRange(f"{year} is not a year from {FIRST_YEAR} to {LAST_YEAR}")


def year_span(year: int) -> tuple[date, date]:
    """The first and last day of the calendar year: the ``paid_on`` days it counts."""
    check_year(year)
    return date(year, 1, 1), date(year, 12, 31)


def available_from(year: int) -> date:
    """The day in Japan a year's payment record is complete: 1 January of the next year."""
    check_year(year)
    return date(year + 1, 1, 1)


def check_year_over(year: int, *, today: date) -> None:
    """An investor's payment record of a year is given once the year is over in Japan
    (``today`` is the day in Japan); before, it could still grow."""
    opens = available_from(year)
    if today < opens:
        raise YearNotOver(
            f"the payment record of {year} is available from {opens.isoformat()}",
            available_from=opens.isoformat(),
        )


def may_read_all_payment_records(principal: Principal) -> bool:
    """Only platform staff read every investor's payment record (with names and addresses)."""
    return principal.role is Role.STAFF


def check_may_read_all_payment_records(principal: Principal) -> None:
    """Refuse anyone but staff the year's payment records of every investor."""
    if not may_read_all_payment_records(principal):
        raise Forbidden("only staff read every investor's payment record")


@dataclass(frozen=True)
class Totals:
    """Payments counted and the money they moved: gross, tax withheld, net."""

    payments: int = 0
    gross: int = 0
    tax: int = 0
    net: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            payments=self.payments + other.payments,
            gross=self.gross + other.gross,
            tax=self.tax + other.tax,
            net=self.net + other.net,
        )


def year_totals(funds: Iterable[Totals]) -> Totals:
    """The year's totals: every fund's added up (all zero when nothing was paid)."""
    return sum(funds, Totals())


@dataclass(frozen=True)
class RecordRow:
    """One line of the staff's payment record: an investor, a fund, and the year's totals."""

    investor_id: UUID
    full_name: str
    address: str
    fund_id: UUID
    fund_name: str
    msme_id: UUID
    totals: Totals


CSV_HEADER = (
    "investor_id",
    "full_name",
    "address",
    "fund_id",
    "fund_name",
    "msme_id",
    "payments",
    "total_gross",
    "total_withheld",
    "total_net",
)


def csv_start() -> str:
    """What the file opens with: the byte order mark and the header row."""
    return BYTE_ORDER_MARK + csv_lines([CSV_HEADER])


def _fields(row: RecordRow) -> list[str | int]:
    return [
        str(row.investor_id),
        csv_text(row.full_name),
        csv_text(row.address),
        str(row.fund_id),
        csv_text(row.fund_name),
        str(row.msme_id),
        row.totals.payments,
        row.totals.gross,
        row.totals.tax,
        row.totals.net,
    ]


def csv_rows(rows: Iterable[RecordRow]) -> str:
    """Investors and funds of the year, one record each in ``CSV_HEADER`` order; amounts in
    whole yen."""
    return csv_lines(_fields(row) for row in rows)


def csv_filename(year: int) -> str:
    """The name the year's file is saved under."""
    return f"payment-records-{year}.csv"


def record_filename(year: int, investor_id: UUID) -> str:
    """The name an investor's document of the year is saved under."""
    return f"payment-record-{year}-{investor_id}.pdf"


def statement_filename(fund_id: UUID, period_number: int) -> str:
    """The name of a period's statement saved by its investor."""
    return f"distribution-statement-{fund_id}-{period_number}.pdf"
