"""The offering document (募集要項): every term of a fund as published, in Japanese and English.

``TERM_LABELS`` names each term of ``FundOpened`` by its path (``fees.arrangement_fee``);
a test walks the event's fields so that a term added later cannot go unlabelled.
"""

from __future__ import annotations

from disclosure.documents.layout import (
    NONE_JA_EN,
    Layout,
    Row,
    Section,
    japan_time,
    money,
    ppm,
    yes_no,
)
from kumiai.contracts.onboarding import FundOpened, ThresholdBasis

TITLE_JA = "募集要項"
TITLE_EN = "Offering document"
DEFAULT_COOLING_OFF_DAYS = 8

TERM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("ファンド名", "Fund name"),
    "fund_id": ("ファンドID", "Fund ID"),
    "municipality_code": ("地方公共団体コード", "Municipality code"),
    "currency": ("通貨", "Currency"),
    "unit_price": ("1口あたりの価格", "Price per unit"),
    "handling_fee_per_unit": ("1口あたりの取扱手数料", "Handling fee per unit"),
    "donation_per_unit": (
        "1口あたりの寄付金額 (返還されません)",
        "Donation per unit (never repaid)",
    ),
    "units_offered": ("募集口数 (上限)", "Units offered (upper limit)"),
    "formation_threshold_units": ("成立口数 (下限)", "Formation threshold (units)"),
    "max_units_per_investor": ("お一人あたりの上限口数", "Maximum units per investor"),
    "offering_start": ("募集開始", "Offering starts"),
    "offering_end": ("募集終了", "Offering ends"),
    "term_months": ("契約期間", "Term"),
    "settlement.fiscal_year_end_month": ("決算月", "Fiscal year ends in"),
    "settlement.periods_per_year": ("計算期間", "Settlement periods"),
    "revenue_share.rate_before_recoup_ppm": (
        "分配率 (出資金の回収前)",
        "Share of sales before recoup",
    ),
    "revenue_share.rate_after_recoup_ppm": (
        "分配率 (出資金の回収後)",
        "Share of sales after recoup",
    ),
    "revenue_share.sales_threshold": (
        "分配の基準売上高",
        "Sales threshold",
    ),
    "revenue_share.threshold_basis": (
        "基準売上高の適用 (各期 / 累計)",
        "Threshold applies to (each period / cumulative sales)",
    ),
    "revenue_share.plan_sales": ("事業計画の累計売上高", "Cumulative sales of the business plan"),
    "revenue_share.early_termination_at_plan_sales": (
        "計画売上高の達成による早期終了",
        "Early termination once plan sales are reached",
    ),
    "fees.arrangement_fee": ("組成手数料", "Arrangement fee"),
    "fees.operation_fee_rate_ppm": ("運営手数料 (年率, 調達額に対して)", "Operation fee per year"),
    "fees.audit_fee_first_year": ("監査報酬 (初年度)", "Audit fee, first year"),
    "fees.audit_fee_later_years": ("監査報酬 (2年目以降, 毎年)", "Audit fee, each later year"),
    "fees.success_fee_rate_ppm": (
        "成功報酬 (回収後の売上高に対して)",
        "Success fee on sales beyond recoup",
    ),
    "perks_per_unit": ("特典 (1口あたり)", "Perks per unit"),
    "subordinated": ("劣後 (他の債権者に劣後)", "Subordinated to other creditors"),
    "terms_digest": ("契約条件のダイジェスト (SHA-256)", "Terms digest (SHA-256)"),
}
"""Every term's Japanese and English label, by its path in ``FundOpened``."""

UNLISTED_TERMS = frozenset({"msme_id", "application_id"})
"""Identifiers of ``FundOpened`` that investors need not read (internal references)."""

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _row(path: str, value: str) -> Row:
    label_ja, label_en = TERM_LABELS[path]
    return Row(label_ja=label_ja, label_en=label_en, value=value)


def _units(count: int) -> str:
    return f"{count:,} 口 ({count:,} units)"


def _periods(per_year: int) -> str:
    if per_year == 1:
        return "年1回 / Once a year"
    return f"年{per_year}回 / {per_year} times a year (half-yearly)"


def _risks(event: FundOpened, cooling_off_days: int) -> tuple[str, ...]:
    risks = [
        "元本は保証されません。分配の合計が出資額を下回ることがあります。\n"
        "The principal is not guaranteed: distributions may total less than the amount invested.",
        "分配額は事業者の売上高に連動します。\n"
        "Distributions follow the business's sales, which may fall short of the plan.",
        "損失は出資額を超えません。\nLosses never exceed the amount invested.",
        "出資者は経営に関与できず、匿名組合契約上の地位は譲渡できません。\n"
        "Investors have no say in management and cannot transfer their rights.",
        f"契約締結日を含む{cooling_off_days}日間は、クーリング・オフにより契約を解除できます。\n"
        f"Cooling-off: the contract may be cancelled within {cooling_off_days} days, "
        "counting the day it is made.",
    ]
    if event.donation_per_unit:
        donation = money(event.donation_per_unit, event.currency)
        risks.append(
            f"1口のうち寄付金額 {donation} は返還されません。\n"
            f"The donation part of each unit, {donation}, is never repaid."
        )
    if event.subordinated:
        risks.append(
            "事業者の倒産時、出資者は他の債権者に劣後します。\n"
            "If the business fails, investors are repaid only after its other creditors."
        )
    return tuple(risks)


def offering_layout(
    event: FundOpened,
    *,
    cooling_off_days: int = DEFAULT_COOLING_OFF_DAYS,
    footer: str | None = None,
) -> Layout:
    """The offering document of a fund: every term of ``FundOpened``, readable, and the risks."""

    def cash(value: int) -> str:
        return money(value, event.currency)

    share = event.revenue_share
    fees = event.fees
    offering = Section(
        heading_ja="募集の概要",
        heading_en="The offering",
        rows=(
            _row("name", event.name),
            _row("fund_id", str(event.fund_id)),
            _row("municipality_code", event.municipality_code),
            _row("currency", event.currency),
            _row("unit_price", cash(event.unit_price)),
            _row("donation_per_unit", cash(event.donation_per_unit)),
            Row(
                "1口あたりの出資金額 (価格 - 寄付金額)",
                "Investment per unit (price less donation)",
                cash(event.unit_price - event.donation_per_unit),
            ),
            _row("handling_fee_per_unit", cash(event.handling_fee_per_unit)),
            Row(
                "1口あたりのお支払い額 (価格 + 取扱手数料)",
                "Amount paid per unit (price and handling fee)",
                cash(event.unit_price + event.handling_fee_per_unit),
            ),
            _row("units_offered", _units(event.units_offered)),
            Row(
                "募集総額 (上限)",
                "Target amount (upper limit)",
                cash(event.unit_price * event.units_offered),
            ),
            _row("formation_threshold_units", _units(event.formation_threshold_units)),
            Row(
                "成立に必要な最低金額",
                "Minimum amount for the fund to form",
                cash(event.unit_price * event.formation_threshold_units),
            ),
            _row("max_units_per_investor", _units(event.max_units_per_investor)),
            _row("offering_start", japan_time(event.offering_start)),
            _row("offering_end", japan_time(event.offering_end)),
        ),
    )
    month = event.settlement.fiscal_year_end_month
    settlement = Section(
        heading_ja="契約期間と計算期間",
        heading_en="Term and settlement",
        rows=(
            _row("term_months", f"{event.term_months} か月 ({event.term_months} months)"),
            _row("settlement.fiscal_year_end_month", f"{month}月 / {_MONTHS_EN[month - 1]}"),
            _row("settlement.periods_per_year", _periods(event.settlement.periods_per_year)),
        ),
    )
    distributions = Section(
        heading_ja="分配",
        heading_en="Distributions",
        rows=(
            _row("revenue_share.rate_before_recoup_ppm", ppm(share.rate_before_recoup_ppm)),
            _row("revenue_share.rate_after_recoup_ppm", ppm(share.rate_after_recoup_ppm)),
            _row(
                "revenue_share.sales_threshold",
                NONE_JA_EN if share.sales_threshold is None else cash(share.sales_threshold),
            ),
            _row(
                "revenue_share.threshold_basis",
                "累計売上高 / Cumulative sales"
                if share.threshold_basis is ThresholdBasis.CUMULATIVE
                else "各期の売上高 / Each period's sales",
            ),
            _row(
                "revenue_share.plan_sales",
                NONE_JA_EN if share.plan_sales is None else cash(share.plan_sales),
            ),
            _row(
                "revenue_share.early_termination_at_plan_sales",
                yes_no(share.early_termination_at_plan_sales),
            ),
            _row("perks_per_unit", event.perks_per_unit or NONE_JA_EN),
            _row("subordinated", yes_no(event.subordinated)),
        ),
        paragraphs=(
            "各期の分配額 = 売上高 \N{MULTIPLICATION SIGN} 分配率 ÷ 口数。"
            "出資金の回収 (累計分配額が出資額に達する時点) の前後で分配率が変わります。\n"
            "Each period's distribution = sales x share rate / units; the rate changes once "
            "cumulative distributions reach the amount invested (recoup).",
        ),
    )
    fee_section = Section(
        heading_ja="手数料",
        heading_en="Fees",
        rows=(
            _row("fees.arrangement_fee", cash(fees.arrangement_fee)),
            _row("fees.operation_fee_rate_ppm", ppm(fees.operation_fee_rate_ppm)),
            _row("fees.audit_fee_first_year", cash(fees.audit_fee_first_year)),
            _row("fees.audit_fee_later_years", cash(fees.audit_fee_later_years)),
            _row("fees.success_fee_rate_ppm", ppm(fees.success_fee_rate_ppm)),
        ),
        paragraphs=(
            "これらの手数料は事業者が運営者に支払います。\n"
            "The business pays these fees to the operator.",
        ),
    )
    acknowledgement = Section(
        heading_ja="契約条件の確認",
        heading_en="Acknowledging the terms",
        rows=(_row("terms_digest", event.terms_digest),),
        paragraphs=(
            "お申込みの際に確認いただく契約条件は、このダイジェストで特定されます。\n"
            "The terms an investor acknowledges when subscribing are identified by this digest.",
        ),
    )
    risks = Section(
        heading_ja="主なリスクと留意事項",
        heading_en="Main risks",
        paragraphs=_risks(event, cooling_off_days),
    )
    return Layout(
        title_ja=TITLE_JA,
        title_en=TITLE_EN,
        subtitle=event.name,
        sections=(offering, settlement, distributions, fee_section, acknowledgement, risks),
        footer=f"SHA-256 {event.terms_digest}" if footer is None else footer,
    )
