"""The due-diligence and screening pipeline (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onboarding.domain.pipeline import (
    DEFAULT_TARGET_DAYS,
    ORDER,
    Guards,
    IllegalTransition,
    InvalidDecision,
    Outcome,
    Step,
    Vote,
    allowed_moves,
    check_move,
    committee_outcome,
    first_step,
    next_step,
    overdue_since,
)

ALL_CLEAR = Guards(documents_complete=True, committee_approved=True)


def test_a_referral_counts_as_the_partner_introduction() -> None:
    assert first_step(referred=True) is Step.INITIAL_MEETING
    assert first_step(referred=False) is Step.SUBMITTED


def test_the_whole_pipeline_walks_step_by_step_to_ready() -> None:
    step = Step.SUBMITTED
    walked = [step]
    while (following := next_step(step)) is not None:
        check_move(step, following, ALL_CLEAR)
        step = following
        walked.append(step)
    assert walked == list(ORDER)
    assert allowed_moves(Step.READY) == [Step.WITHDRAWN, Step.REJECTED]


def test_an_illegal_move_lists_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_move(Step.INITIAL_MEETING, Step.READY, ALL_CLEAR)
    assert caught.value.allowed == [Step.STAFF_JUDGEMENT, Step.WITHDRAWN, Step.REJECTED]
    assert "not the next step" in str(caught.value)


def test_documents_and_the_committee_gate_their_steps() -> None:
    with pytest.raises(IllegalTransition, match="every checklist document"):
        check_move(Step.AGREEMENT_AND_DOCUMENTS, Step.COMMITTEE_DECISION, Guards())
    with pytest.raises(IllegalTransition, match="committee has not approved"):
        check_move(Step.COMMITTEE_DECISION, Step.OFFERING_PREPARATION, Guards())
    check_move(Step.AGREEMENT_AND_DOCUMENTS, Step.REJECTED, Guards())
    check_move(Step.COMMITTEE_DECISION, Step.WITHDRAWN, Guards())


@pytest.mark.parametrize("closed", [Step.WITHDRAWN, Step.REJECTED])
def test_a_closed_application_goes_nowhere(closed: Step) -> None:
    assert allowed_moves(closed) == []
    with pytest.raises(IllegalTransition, match="closed"):
        check_move(closed, Step.SUBMITTED, ALL_CLEAR)


@given(
    attempts=st.lists(
        st.tuples(st.sampled_from(list(Step)), st.booleans(), st.booleans()), max_size=40
    )
)
def test_no_sequence_of_moves_skips_a_step(attempts: list[tuple[Step, bool, bool]]) -> None:
    """Whatever is tried, the steps reached are a prefix of the pipeline (then maybe an end)."""
    step = Step.SUBMITTED
    reached = [step]
    for wanted, documents, committee in attempts:
        try:
            check_move(step, wanted, Guards(documents, committee))
        except IllegalTransition:
            continue
        if step is Step.AGREEMENT_AND_DOCUMENTS and wanted is Step.COMMITTEE_DECISION:
            assert documents
        if step is Step.COMMITTEE_DECISION and wanted is Step.OFFERING_PREPARATION:
            assert committee
        step = wanted
        reached.append(step)
    progress = [s for s in reached if not s.terminal]
    assert progress == list(ORDER[: len(progress)])
    assert all(not s.terminal for s in reached[:-1])


def test_overdue_counts_from_the_step_target() -> None:
    entered = datetime(2026, 11, 1, tzinfo=UTC)
    target = DEFAULT_TARGET_DAYS[Step.ONSITE_INTERVIEW]
    on_time = entered + timedelta(days=target)
    assert overdue_since(Step.ONSITE_INTERVIEW, entered, on_time, DEFAULT_TARGET_DAYS) is None
    late = overdue_since(
        Step.ONSITE_INTERVIEW, entered, on_time + timedelta(days=3), DEFAULT_TARGET_DAYS
    )
    assert late == timedelta(days=3)
    assert overdue_since(Step.READY, entered, on_time + timedelta(days=99), {}) is None


@given(votes=st.lists(st.sampled_from(list(Vote)), max_size=9))
def test_the_committee_approves_with_a_quorum_and_a_majority(votes: list[Vote]) -> None:
    if len(votes) < 3:
        with pytest.raises(InvalidDecision):
            committee_outcome(votes, quorum=3)
        return
    approvals = votes.count(Vote.APPROVE)
    rejections = votes.count(Vote.REJECT)
    expected = Outcome.APPROVED if approvals > rejections else Outcome.REJECTED
    assert committee_outcome(votes, quorum=3) is expected
