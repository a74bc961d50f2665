"""What the subsidy service knows of onboarding applications and funds (pure).

Everything here is copied from other services' events: onboarding's
``ApplicationSubmitted`` and ``ApplicationDecided`` (a business's application and the
municipality it names), ``FundOpened`` (v2 or later: the fund of an application and its
arrangement fee) and ``FundCancelled``; subscription's ``FundClosed`` (formed or failed,
and what it raised). Events of two topics arrive in any order, and any of them may be
delivered again: each rule below gives the same answer whatever came first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kumiai.contracts.onboarding import ApplicationOutcome
from kumiai.contracts.subscription import FundOutcome


class OnboardingStatus(StrEnum):
    """Where a business's onboarding application stands
    (``ck_onboarding_applications_status_known`` lists the same)."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


ENDED = frozenset({OnboardingStatus.REJECTED, OnboardingStatus.WITHDRAWN})
"""Onboarding applications that will never raise money: no programme takes them."""


class FundStatus(StrEnum):
    """Where a fund stands as its events tell it; ``ck_funds_status_known`` lists the same."""

    OPEN = "open"
    """Its terms are known (``FundOpened``) and its offering has not ended."""
    FORMED = "formed"
    """It reached its formation threshold (``FundClosed`` succeeded)."""
    FAILED = "failed"
    """It did not (``FundClosed`` failed): investors are refunded."""
    CANCELLED = "cancelled"
    """Staff cancelled it before its offering opened (``FundCancelled``)."""


_RANK = {FundStatus.OPEN: 0, FundStatus.FORMED: 1, FundStatus.FAILED: 1, FundStatus.CANCELLED: 2}


def fund_status_after(current: FundStatus | None, told: FundStatus) -> FundStatus:
    """A fund's status once an event tells ``told``: a cancellation is final, an outcome
    outranks "open", and "open" never undoes an outcome, so the order of arrival does not
    matter."""
    if current is None or _RANK[told] > _RANK[current]:
        return told
    return current


def closed_status(outcome: FundOutcome) -> FundStatus:
    """The status a ``FundClosed`` outcome tells."""
    return FundStatus.FORMED if outcome is FundOutcome.SUCCEEDED else FundStatus.FAILED


_DECIDED = {
    ApplicationOutcome.APPROVED: OnboardingStatus.APPROVED,
    ApplicationOutcome.REJECTED: OnboardingStatus.REJECTED,
    ApplicationOutcome.WITHDRAWN: OnboardingStatus.WITHDRAWN,
}


def onboarding_status_after(
    current: OnboardingStatus | None, decided: ApplicationOutcome | None
) -> OnboardingStatus:
    """An onboarding application's status once its submission (``decided`` is None) or its
    decision is heard: a decision is never undone by a late submission."""
    if decided is not None:
        return _DECIDED[decided]
    return current or OnboardingStatus.SUBMITTED


@dataclass(frozen=True)
class OnboardingApplication:
    """A business's onboarding application as its events told it."""

    application_id: UUID
    msme_id: UUID
    municipality_code: str
    status: OnboardingStatus


@dataclass(frozen=True)
class FundFacts:
    """A fund as its events told it; fields are None until the event that tells them."""

    fund_id: UUID
    application_id: UUID | None
    msme_id: UUID | None
    name: str | None
    arrangement_fee: int | None
    currency: str
    status: FundStatus
    amount_raised: int | None
    opened_at: datetime | None
