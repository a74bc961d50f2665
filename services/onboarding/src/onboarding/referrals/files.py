"""A bank's referrals as a CSV file it opens in Excel (pure).

UTF-8 with a byte order mark and CRLF records (``kumiai.spreadsheets``), so Excel in Japan
shows the Japanese header and names as they are; one record per fund, and one for a
business without a fund, so that every referral appears. Amounts are integers of the
currency's minor unit (whole yen) without separators, so they stay numbers in the sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date

from kumiai.contracts.onboarding import PARTNER_ID
from kumiai.periods import japan_date
from kumiai.spreadsheets import csv_file, csv_text
from onboarding.referrals.rules import JAPANESE, STATUS_JAPANESE, STEP_JAPANESE
from onboarding.referrals.schemas import ReferralOut, ReferredFundOut

REFERRALS_CSV_HEADER = (
    "基準日",
    "事業者ID",
    "会社名",
    "法人番号",
    "市区町村コード",
    "最新申込ID",
    "審査段階",
    "段階開始日",
    "ファンドID",
    "ファンド名",
    "ファンド状態",
    "調達額",
    "通貨",
    "期間（月）",  # noqa: RUF001 - full-width parentheses are Japanese punctuation
    "成立日",
    "満期日",
    "残存期間（月）",  # noqa: RUF001
    "劣後",
    "資本性借入金",
    "理由コード",
    "理由",
)
ELIGIBLE, NOT_ELIGIBLE = "該当", "非該当"
SUBORDINATED, NOT_SUBORDINATED = "あり", "なし"


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _number(value: int | None) -> str | int:
    # An empty cell, not 0: nothing is known yet (not raised, not formed).
    return "" if value is None else value


def _fund_cells(fund: ReferredFundOut) -> tuple[str | int, ...]:
    return (
        str(fund.id),
        csv_text(fund.name),
        STATUS_JAPANESE[fund.status],
        _number(fund.amount_raised),
        fund.currency,
        fund.term_months,
        _day(fund.formed_on),
        _day(fund.term_ends_on),
        _number(fund.remaining_term_months),
        SUBORDINATED if fund.subordinated else NOT_SUBORDINATED,
        ELIGIBLE if fund.ecldb.eligible else NOT_ELIGIBLE,
        " ".join(r.code.value for r in fund.ecldb.reasons),
        "; ".join(JAPANESE[r.code] for r in fund.ecldb.reasons),
    )


_NO_FUND = ("",) * (len(REFERRALS_CSV_HEADER) - 8)


def _records(referrals: Sequence[ReferralOut], as_of: date) -> Iterator[Sequence[str | int]]:
    yield REFERRALS_CSV_HEADER
    for referral in referrals:
        application = referral.latest_application
        business: tuple[str | int, ...] = (
            as_of.isoformat(),
            str(referral.msme_id),
            csv_text(referral.company_name),
            referral.corporate_number,
            referral.municipality_code,
            "" if application is None else str(application.id),
            "" if application is None else STEP_JAPANESE[application.step],
            "" if application is None else japan_date(application.step_entered_at).isoformat(),
        )
        if not referral.funds:
            yield business + _NO_FUND
        for fund in referral.funds:
            yield business + _fund_cells(fund)


def referrals_csv(referrals: Sequence[ReferralOut], as_of: date) -> bytes:
    """The referrals as CSV for Excel in Japan: a header, then one record per fund (one per
    business without a fund), each with the reporting date and the eligibility reasons."""
    return csv_file(_records(referrals, as_of))


def referrals_csv_filename(bank_id: str, as_of: date) -> str:
    """The ASCII name the file is saved under, e.g. ``referrals-hokkaido-bank-2026-11-29.csv``."""
    # Only a partner id may reach a Content-Disposition header.
    if re.fullmatch(PARTNER_ID, bank_id) is None:
        raise ValueError(f"{bank_id!r} is not a partner id")
    return f"referrals-{bank_id}-{as_of.isoformat()}.csv"
