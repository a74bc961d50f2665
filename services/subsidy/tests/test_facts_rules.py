"""What events tell of onboarding applications and funds, whatever order they arrive in
(pure)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.onboarding import ApplicationOutcome
from kumiai.contracts.subscription import FundOutcome
from subsidy.facts.rules import (
    FundStatus,
    OnboardingStatus,
    closed_status,
    fund_status_after,
    onboarding_status_after,
)

OUTCOMES = [FundStatus.FORMED, FundStatus.FAILED]


def _replay(told: list[FundStatus]) -> FundStatus | None:
    status: FundStatus | None = None
    for each in told:
        status = fund_status_after(status, each)
    return status


@given(
    outcome=st.sampled_from(OUTCOMES),
    events=st.lists(st.sampled_from(["open", "closed", "cancelled"]), min_size=1, max_size=6),
)
def test_a_funds_status_does_not_depend_on_the_order_its_events_arrive_in(
    outcome: FundStatus, events: list[str]
) -> None:
    named = {"open": FundStatus.OPEN, "closed": outcome, "cancelled": FundStatus.CANCELLED}
    told = [named[e] for e in events]
    finals = {_replay(list(order)) for order in itertools.permutations(told)}
    assert len(finals) == 1
    (final,) = finals
    if FundStatus.CANCELLED in told:
        assert final is FundStatus.CANCELLED
    elif outcome in told:
        assert final is outcome
    else:
        assert final is FundStatus.OPEN


def test_fund_closed_before_fund_opened_keeps_the_outcome() -> None:
    assert fund_status_after(FundStatus.FAILED, FundStatus.OPEN) is FundStatus.FAILED
    assert fund_status_after(FundStatus.OPEN, FundStatus.FORMED) is FundStatus.FORMED
    assert fund_status_after(None, FundStatus.OPEN) is FundStatus.OPEN


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(FundOutcome.SUCCEEDED, FundStatus.FORMED), (FundOutcome.FAILED, FundStatus.FAILED)],
)
def test_a_closing_tells_formed_or_failed(outcome: FundOutcome, status: FundStatus) -> None:
    assert closed_status(outcome) is status


def test_a_late_submission_never_undoes_a_decision() -> None:
    assert onboarding_status_after(None, None) is OnboardingStatus.SUBMITTED
    decided = onboarding_status_after(None, ApplicationOutcome.WITHDRAWN)
    assert decided is OnboardingStatus.WITHDRAWN
    assert onboarding_status_after(decided, None) is OnboardingStatus.WITHDRAWN
    assert (
        onboarding_status_after(OnboardingStatus.SUBMITTED, ApplicationOutcome.APPROVED)
        is OnboardingStatus.APPROVED
    )
