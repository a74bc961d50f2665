"""The rules of distributions as disclosure tells them (pure): the notice of each paid one.

Subscription declares a period's distribution (``DividendDeclared``) and the ledger says
when it was paid out (``DistributionPaid``); the two come on two topics, in either
order. Once both are known, the fund's investors get a distribution notice
(分配のお知らせ), made by the service and published as made: the period, the
distributable amount, the amount per unit, the gross, the tax withheld and the net of
all investors together, how many investors were paid, and the day. A period with
nothing to distribute gets its notice too, saying so (investors hear of every period).
One notice per fund and period, however often either event is delivered: the database
holds it too (``pk_distribution_notices``), and ``ck_paid_distributions_net_is_gross_less_tax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class NoticeFacts:
    """What a distribution notice says: the declared period and amounts, and the payment.

    The totals are the ones paid (``DistributionPaid``); the period, the distributable
    amount and the amount per unit are the declaration's.
    """

    fund_name: str
    period_number: int
    period_start: date | None
    """Unknown for a distribution declared before disclosure kept it."""
    period_end: date
    distributable_amount: int
    per_unit: int
    total_gross: int
    total_tax: int
    total_net: int
    investor_count: int
    paid_on: date

    def __post_init__(self) -> None:
        amounts = (
            self.distributable_amount,
            self.per_unit,
            self.total_gross,
            self.total_tax,
            self.total_net,
            self.investor_count,
        )
        if any(amount < 0 for amount in amounts):
            raise ValueError("a distribution's amounts and investors are not negative")
        if self.total_net != self.total_gross - self.total_tax:
            raise ValueError("the net must be the gross less the tax withheld")
        if self.period_number < 1:
            raise ValueError("settlement periods are numbered from 1")

    @property
    def distributed(self) -> bool:
        """Whether the period distributed anything (a period may have nothing to share)."""
        return self.total_gross > 0


def notice_title(period_number: int) -> str:
    """The notice's title, as My page lists it."""
    return f"分配のお知らせ 第{period_number}期 / Distribution notice, period {period_number}"
