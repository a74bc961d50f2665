"""The annual report investors read after each fiscal year (DOMAIN.md, rule 3).

It says how the business went and how the raised money was spent, the sales of
the fiscal year, whether a distribution was paid (its total and per unit), and
who confirmed the books (a certified public accountant or a tax accountant).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import TypeAdapter

from disclosure.documents.layout import (
    NONE_JA_EN,
    Layout,
    Row,
    Section,
    paragraphs_of,
    yen,
)

TITLE_JA = "年次報告書"
TITLE_EN = "Annual report"

CONFIRMER_KINDS: dict[str, tuple[str, str]] = {
    "accountant": ("公認会計士", "Certified public accountant"),
    "tax_accountant": ("税理士", "Certified tax accountant"),
}
"""Who may confirm the books, in Japanese and English."""


@dataclass(frozen=True)
class PeriodSales:
    """One approved sales report of the fiscal year: the period's sales and their adjustment."""

    number: int
    starts_on: date
    ends_on: date
    sales: int
    adjustment: int


@dataclass(frozen=True)
class DistributionFacts:
    """A distribution paid (or due) for the fiscal year: its total and its amount per unit."""

    total: int
    per_unit: int
    paid_on: date | None


@dataclass(frozen=True)
class Confirmation:
    """The accountant's or tax accountant's confirmation of the books."""

    kind: str
    name: str
    registration_number: str
    confirmed_on: date

    def __post_init__(self) -> None:
        if self.kind not in CONFIRMER_KINDS:
            raise ValueError(f"unknown kind of confirmation {self.kind!r}")


@dataclass(frozen=True)
class AnnualReportFacts:
    """What the annual report of one fund's fiscal year is made of."""

    fund_name: str
    fiscal_year: int
    starts_on: date
    ends_on: date
    overview: str
    use_of_funds: str
    sales: tuple[PeriodSales, ...]
    distributions: tuple[DistributionFacts, ...]
    confirmation: Confirmation | None

    @property
    def total_sales(self) -> int:
        """The fiscal year's sales: every period's sales plus its adjustment."""
        return sum(period.sales + period.adjustment for period in self.sales)


def _span(starts_on: date, ends_on: date) -> str:
    return f"{starts_on.isoformat()} 〜 {ends_on.isoformat()}"


def _period_value(period: PeriodSales) -> str:
    value = yen(period.sales)
    if period.adjustment:
        value += f"\n調整 / Adjustment: {yen(period.adjustment)}"
    return value


def _sales_section(facts: AnnualReportFacts) -> Section:
    rows = tuple(
        Row(
            label_ja=f"第{period.number}期 ({_span(period.starts_on, period.ends_on)})",
            label_en=f"Period {period.number}",
            value=_period_value(period),
        )
        for period in sorted(facts.sales, key=lambda period: period.number)
    )
    total = Row(label_ja="売上高 (合計)", label_en="Sales, total", value=yen(facts.total_sales))
    paragraphs = (
        ()
        if facts.sales
        else ("当期の売上報告はありません。\nNo sales report was approved for the fiscal year.",)
    )
    return Section(
        heading_ja="当期の売上高",
        heading_en="Sales in the fiscal year",
        rows=(*rows, total),
        paragraphs=paragraphs,
    )


def _distributions_section(facts: AnnualReportFacts) -> Section:
    if not facts.distributions:
        return Section(
            "分配の有無",
            "Distributions",
            rows=(Row("分配の有無", "Distribution paid", NONE_JA_EN),),
        )
    any_paid = any(d.paid_on is not None for d in facts.distributions)
    rows = [
        Row(
            "分配の有無",
            "Distribution paid",
            "あり / Yes" if any_paid else "分配決定済み・未払い / Declared, not yet paid",
        )
    ]
    several = len(facts.distributions) > 1
    for number, paid in enumerate(facts.distributions, start=1):
        ja = f"第{number}回 " if several else ""
        en = f"Distribution {number}: " if several else ""
        rows += [
            Row(f"{ja}分配総額", f"{en}Total", yen(paid.total)),
            Row(f"{ja}1口あたり", f"{en}Per unit", yen(paid.per_unit)),
            Row(
                f"{ja}支払日",
                f"{en}Paid on",
                paid.paid_on.isoformat() if paid.paid_on else "未払い / Not yet paid",
            ),
        ]
    if several:
        total = sum(paid.total for paid in facts.distributions)
        rows.append(Row("分配総額 (合計)", "Total of the year", yen(total)))
    return Section("分配の有無", "Distributions", rows=tuple(rows))


def _confirmation_section(confirmation: Confirmation | None) -> Section:
    heading_ja, heading_en = "帳簿の確認", "Confirmation of the books"
    if confirmation is None:
        unconfirmed = Row("確認", "Confirmed", "未確認 / Not yet confirmed")
        return Section(heading_ja, heading_en, rows=(unconfirmed,))
    kind_ja, kind_en = CONFIRMER_KINDS[confirmation.kind]
    return Section(
        heading_ja,
        heading_en,
        rows=(
            Row("確認者の資格", "Confirmed by", f"{kind_ja} / {kind_en}"),
            Row("氏名", "Name", confirmation.name),
            Row("登録番号", "Registration number", confirmation.registration_number),
            Row("確認日", "Confirmed on", confirmation.confirmed_on.isoformat()),
        ),
    )


def annual_report_layout(facts: AnnualReportFacts, *, footer: str = "") -> Layout:
    """The annual report of one fiscal year of a fund, as a layout to render."""
    overview = Section(
        heading_ja="事業の概況",
        heading_en="Business overview",
        rows=(
            Row("事業年度", "Fiscal year", str(facts.fiscal_year)),
            Row("対象期間", "Period", _span(facts.starts_on, facts.ends_on)),
        ),
        paragraphs=paragraphs_of(facts.overview),
    )
    use_of_funds = Section(
        heading_ja="資金の使途",
        heading_en="Use of funds",
        paragraphs=paragraphs_of(facts.use_of_funds),
    )
    return Layout(
        title_ja=TITLE_JA,
        title_en=TITLE_EN,
        subtitle=facts.fund_name,
        sections=(
            overview,
            use_of_funds,
            _sales_section(facts),
            _distributions_section(facts),
            _confirmation_section(facts.confirmation),
        ),
        footer=footer,
    )


FACTS: TypeAdapter[AnnualReportFacts] = TypeAdapter(AnnualReportFacts)
"""The facts as JSON (kept with the published document) and back."""


def facts_of(data: dict[str, Any]) -> AnnualReportFacts:
    """The facts a published annual report was made from (its document's data)."""
    return FACTS.validate_python(data)
