"""The distribution notice (分配のお知らせ) investors read once a period's distribution is
paid, in Japanese and English."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from disclosure.distributions.rules import NoticeFacts
from disclosure.documents.layout import Layout, Row, Section, yen

TITLE_JA = "分配のお知らせ"
TITLE_EN = "Distribution notice"

WITHHOLDING = (
    "源泉徴収税 (20.42 %) は、累計の分配額が出資額を超えた部分 (利益部分) にのみかかります。"
    "お一人ごとの金額は分配明細をご覧ください。\n"
    "Withholding tax (20.42 %) applies only to the profit part, once an investor's cumulative "
    "distributions exceed what they paid in; each investor's amounts are in their statement."
)
NOTHING_DISTRIBUTED = (
    "当期の分配はありません。\nThere is no distribution for this settlement period."
)


def _period(facts: NoticeFacts) -> str:
    start = facts.period_start.isoformat() if facts.period_start is not None else ""
    span = f"{start} 〜 {facts.period_end.isoformat()}".strip()
    return f"第{facts.period_number}期 / Period {facts.period_number}: {span}"


def notice_layout(facts: NoticeFacts, *, footer: str = "") -> Layout:
    """The notice of one period's paid distribution, as a layout to render."""
    count = facts.investor_count
    distribution = Section(
        heading_ja="分配の内容",
        heading_en="The distribution",
        rows=(
            Row("計算期間", "Settlement period", _period(facts)),
            Row("分配可能額", "Distributable amount", yen(facts.distributable_amount)),
            Row("1口あたり分配額 (税引前)", "Per unit (before tax)", yen(facts.per_unit)),
            Row("分配総額 (税引前)", "Total gross", yen(facts.total_gross)),
            Row("源泉徴収税額", "Tax withheld", yen(facts.total_tax)),
            Row("分配総額 (税引後)", "Total net", yen(facts.total_net)),
            Row("対象の出資者数", "Investors", f"{count:,} 名 ({count:,} investors)"),
            Row("支払日", "Paid on", facts.paid_on.isoformat()),
        ),
        paragraphs=(WITHHOLDING,) if facts.distributed else (NOTHING_DISTRIBUTED,),
    )
    return Layout(
        title_ja=TITLE_JA,
        title_en=TITLE_EN,
        subtitle=facts.fund_name,
        sections=(distribution,),
        footer=footer,
    )


NOTICE: TypeAdapter[NoticeFacts] = TypeAdapter(NoticeFacts)
"""The facts as JSON (kept with the published notice) and back."""


def notice_facts_of(data: dict[str, Any]) -> NoticeFacts:
    """The facts a published notice was made from (its document's data)."""
    return NOTICE.validate_python(data)
