"""The rules of a partner bank's view of its referrals (pure): who may read a bank's list,
the remaining term of a formed fund, and whether the fund counts as capital-like debt.

Capital-like debt (資本性借入金, "ECLDB") is the Financial Services Agency's treatment
under which a bank may count a loan-like instrument as capital when it screens the
borrower's credit: a long term (over five years to maturity, repaid at maturity), ranking
after other creditors in bankruptcy, returns that follow the business's results, and no
collateral. A TK fund's returns are a share of the business's sales (``validate_terms``
refuses terms without a positive share rate) and investors hold no security, so of the
four conditions only the term and the subordination vary from fund to fund; the term
runs from the fund's formation (the day its offering closed with the threshold reached).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from kumiai.periods import japan_date
from kumiai.principal import Principal, Role
from kumiai.problems import NotFound
from onboarding.applications.rules import Step
from onboarding.funds.rules import FundStatus

ECLDB_MIN_REMAINING_MONTHS = 60
"""The remaining term must be over this many whole months (five years) at the reporting date."""


# -- who sees what -----------------------------------------------------------------------


class UnknownBank(NotFound):
    """No bank of this id, or one the caller may not see (told apart by nothing)."""


def check_may_read_bank(principal: Principal, bank_id: str) -> None:
    """Staff read any bank's referrals; a bank only its own (another bank's id is 404)."""
    if principal.is_staff():
        return
    if principal.role is Role.BANK and principal.tenant == bank_id:
        return
    raise UnknownBank(f"no bank {bank_id}")


# -- the calendar of a fund's term ---------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later; past the end of a shorter month, its
    last day (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end``, rounded down (0 if ``end`` is not
    after ``start``): the largest ``n`` with ``add_months(start, n) <= end``."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    # ``add_months(start, months)`` falls in ``end``'s month; a later day is not yet a
    # whole month, so the count is rounded down by one.
    if add_months(start, months) > end:
        months -= 1
    return months


def term_ends_on(formed_on: date, term_months: int) -> date:
    """The day a fund formed on ``formed_on`` reaches the end of its term."""
    return add_months(formed_on, term_months)


def remaining_term_months(formed_on: date, term_months: int, as_of: date) -> int:
    """Whole months of the term left at ``as_of``, rounded down (0 once the term has ended)."""
    return whole_months_between(as_of, term_ends_on(formed_on, term_months))


# -- capital-like debt (ECLDB) -------------------------------------------------------------


class ReasonCode(StrEnum):
    """Why a fund counts, or does not count, as capital-like debt: one code per condition."""

    FORMED = "formed"
    NOT_FORMED = "not_formed"
    FORMATION_DATE_UNKNOWN = "formation_date_unknown"
    LONG_TERM = "long_term"
    TERM_TOO_SHORT = "term_too_short"
    SUBORDINATED = "subordinated"
    NOT_SUBORDINATED = "not_subordinated"
    PERFORMANCE_LINKED = "performance_linked"
    NO_COLLATERAL = "no_collateral"


POSITIVE = frozenset(
    {
        ReasonCode.FORMED,
        ReasonCode.LONG_TERM,
        ReasonCode.SUBORDINATED,
        ReasonCode.PERFORMANCE_LINKED,
        ReasonCode.NO_COLLATERAL,
    }
)
"""The codes that say a condition is met; any other code makes the fund ineligible."""

JAPANESE: Mapping[ReasonCode, str] = {
    ReasonCode.FORMED: "ファンドは成立済み",
    ReasonCode.NOT_FORMED: "基準日時点でファンドが成立していない",
    ReasonCode.FORMATION_DATE_UNKNOWN: "成立日が記録されていない",
    ReasonCode.LONG_TERM: "残存期間が5年超",
    ReasonCode.TERM_TOO_SHORT: "残存期間が5年以下",
    ReasonCode.SUBORDINATED: "破産時に他の債権者に劣後する",
    ReasonCode.NOT_SUBORDINATED: "劣後条項がない",
    ReasonCode.PERFORMANCE_LINKED: "分配は売上に連動する（業績連動）",  # noqa: RUF001
    ReasonCode.NO_COLLATERAL: "担保の提供なし",
}
"""What each reason says in the CSV a bank opens in Excel."""


@dataclass(frozen=True)
class Reason:
    """One condition of capital-like debt and how the fund stands on it."""

    code: ReasonCode
    text: str

    @property
    def met(self) -> bool:
        """Whether this reason says the condition is met."""
        return self.code in POSITIVE

    @property
    def japanese(self) -> str:
        """The reason as the CSV states it."""
        return JAPANESE[self.code]


@dataclass(frozen=True)
class FundFacts:
    """All that capital-like debt eligibility reads of a fund."""

    status: FundStatus
    subordinated: bool
    term_months: int
    formed_on: date | None
    """The day in Japan its offering closed with the threshold reached; ``None`` if unknown."""


@dataclass(frozen=True)
class Eligibility:
    """Whether a fund counts as capital-like debt at a reporting date, with a reason for
    each condition (the unmet ones first) and the term's end and months left."""

    eligible: bool
    reasons: tuple[Reason, ...]
    term_ends_on: date | None
    remaining_months: int | None


def ecldb_eligibility(facts: FundFacts, as_of: date) -> Eligibility:
    """Whether a partner bank may count the fund as capital-like debt (資本性借入金) on
    ``as_of``: formed by then, subordinated, and over 60 whole months (rounded down) of its
    term left, the term running from formation.

    A screening aid, not legal advice: the bank decides under the Financial Services
    Agency's conditions and the contract itself. Returns follow sales and investors hold no
    collateral for every TK fund, so those reasons are always given as met.
    """
    reasons: list[Reason] = []
    ends_on: date | None = None
    remaining: int | None = None
    formed = facts.status is FundStatus.CLOSED_SUCCEEDED
    if not formed:
        reasons.append(
            Reason(ReasonCode.NOT_FORMED, f"the fund has not formed (it is {facts.status.value})")
        )
    elif facts.formed_on is None:
        reasons.append(
            Reason(
                ReasonCode.FORMATION_DATE_UNKNOWN,
                "the fund formed, but its formation date is not recorded; the remaining "
                "term cannot be told",
            )
        )
    else:
        ends_on = term_ends_on(facts.formed_on, facts.term_months)
        if as_of < facts.formed_on:
            reasons.append(
                Reason(
                    ReasonCode.NOT_FORMED,
                    f"the fund formed on {facts.formed_on.isoformat()}, after the reporting "
                    f"date {as_of.isoformat()}",
                )
            )
        else:
            reasons.append(
                Reason(ReasonCode.FORMED, f"the fund formed on {facts.formed_on.isoformat()}")
            )
            remaining = whole_months_between(as_of, ends_on)
            long_term = remaining > ECLDB_MIN_REMAINING_MONTHS
            reasons.append(
                Reason(
                    ReasonCode.LONG_TERM if long_term else ReasonCode.TERM_TOO_SHORT,
                    f"{remaining} whole months of its {facts.term_months}-month term remain "
                    f"on {as_of.isoformat()} (it ends on {ends_on.isoformat()}); "
                    f"{'over' if long_term else 'not over'} {ECLDB_MIN_REMAINING_MONTHS} "
                    "months (five years)",
                )
            )
    reasons.append(
        Reason(ReasonCode.SUBORDINATED, "investors rank after other creditors in bankruptcy")
        if facts.subordinated
        else Reason(
            ReasonCode.NOT_SUBORDINATED,
            "the terms do not rank investors after other creditors in bankruptcy",
        )
    )
    reasons.append(
        Reason(
            ReasonCode.PERFORMANCE_LINKED,
            "returns are a share of the business's sales: low when the business does badly",
        )
    )
    reasons.append(
        Reason(ReasonCode.NO_COLLATERAL, "investors hold no collateral from the business")
    )
    ordered = tuple(sorted(reasons, key=lambda r: r.met))
    return Eligibility(
        eligible=all(r.met for r in ordered),
        reasons=ordered,
        term_ends_on=ends_on,
        remaining_months=remaining,
    )


# -- a fund as the bank sees it ------------------------------------------------------------


class RecordedFund(Protocol):
    """What the bank's view reads of a fund as onboarding stores it."""

    @property
    def status(self) -> str: ...

    @property
    def terms(self) -> dict[str, Any]: ...

    @property
    def closed_at(self) -> datetime | None: ...


def facts_of(fund: RecordedFund) -> FundFacts:
    """The facts eligibility reads of a stored fund; it formed on the day in Japan its
    offering closed, if it succeeded."""
    status = FundStatus(fund.status)
    closed_at = fund.closed_at if status is FundStatus.CLOSED_SUCCEEDED else None
    return FundFacts(
        status=status,
        subordinated=bool(fund.terms.get("subordinated", True)),
        term_months=int(fund.terms["term_months"]),
        formed_on=None if closed_at is None else japan_date(closed_at),
    )


STEP_JAPANESE: Mapping[Step, str] = {
    Step.SUBMITTED: "申込受付",
    Step.INITIAL_MEETING: "初回面談",
    Step.STAFF_JUDGEMENT: "担当者審査",
    Step.ONSITE_INTERVIEW: "現地面談",
    Step.PROJECT_MEETING: "案件会議",
    Step.AGREEMENT_AND_DOCUMENTS: "契約締結・書類提出",
    Step.COMMITTEE_DECISION: "投資委員会",
    Step.OFFERING_PREPARATION: "募集準備",
    Step.MSME_CONFIRMATION: "事業者確認",
    Step.READY: "募集可能",
    Step.WITHDRAWN: "取下げ",
    Step.REJECTED: "否決",
}
"""The pipeline steps as the CSV names them."""

STATUS_JAPANESE: Mapping[FundStatus, str] = {
    FundStatus.DRAFT: "設計中",
    FundStatus.SCHEDULED: "募集開始前",
    FundStatus.OPEN: "募集中",
    FundStatus.CANCELLED: "中止",
    FundStatus.CLOSED_SUCCEEDED: "成立",
    FundStatus.CLOSED_FAILED: "不成立",
}
"""A fund's states as the CSV names them."""
