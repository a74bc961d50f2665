"""An application's rules: the pipeline, submission, the committee, who sees what (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.contracts.onboarding import ApplicationOutcome, Referrer
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden, UnprocessableContent
from onboarding.applications.rules import (
    DEFAULT_TARGET_DAYS,
    ORDER,
    Guards,
    IllegalTransition,
    InvalidDecision,
    MoveRefused,
    Outcome,
    Step,
    Vote,
    allowed_moves,
    check_at_committee,
    check_committee_recorder,
    check_move,
    check_mover,
    check_municipality,
    check_one_vote_each,
    committee_outcome,
    ending,
    first_step,
    listing,
    may_read,
    next_step,
    overdue_since,
    referral,
    step_after_committee,
    tally,
    target_days,
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


# -- Refusals are the application's problem types ------------------------------------------


def test_an_illegal_move_is_answered_409_with_the_allowed_moves() -> None:
    with pytest.raises(MoveRefused) as caught:
        check_move(Step.PROJECT_MEETING, Step.READY, ALL_CLEAR)
    assert caught.value.status == 409
    assert caught.value.problem == "illegal-transition"
    assert caught.value.extra == {
        "current": "project_meeting",
        "allowed": ["agreement_and_documents", "withdrawn", "rejected"],
    }


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "platform")
BANK = _principal(Role.BANK, "hokkaido-bank")
MSME_ID = uuid.uuid4()
BUSINESS = _principal(Role.MSME, str(MSME_ID))


# -- Who moves an application --------------------------------------------------------------


@pytest.mark.parametrize("to", list(Step))
def test_a_business_only_withdraws_and_only_staff_move_on(to: Step) -> None:
    check_mover(STAFF, to)
    if to is Step.WITHDRAWN:
        check_mover(BUSINESS, to)
    else:
        with pytest.raises(Forbidden, match="may only withdraw"):
            check_mover(BUSINESS, to)
    for role in (Role.BANK, Role.MUNICIPALITY, Role.INVESTOR, Role.SERVICE):
        with pytest.raises(Forbidden):
            check_mover(_principal(role, "someone"), to)


def test_only_an_ending_move_announces_an_outcome() -> None:
    assert ending(Step.WITHDRAWN) is ApplicationOutcome.WITHDRAWN
    assert ending(Step.REJECTED) is ApplicationOutcome.REJECTED
    assert [s for s in Step if ending(s) is not None] == [Step.WITHDRAWN, Step.REJECTED]


def test_an_ended_application_has_no_target() -> None:
    assert target_days(Step.ONSITE_INTERVIEW, DEFAULT_TARGET_DAYS) == 7
    assert target_days(Step.READY, DEFAULT_TARGET_DAYS) is None
    assert target_days(Step.REJECTED, {Step.REJECTED: 3}) is None


# -- Submission ---------------------------------------------------------------------------


def test_the_project_municipality_must_check_out() -> None:
    check_municipality("012025")
    with pytest.raises(UnprocessableContent) as caught:
        check_municipality("012026")
    assert caught.value.extra["invalid_params"][0]["name"] == "body.municipality_code"


def test_the_partner_introduction_comes_from_a_bank_or_a_municipality_staff_record() -> None:
    def introduced(
        caller: Principal, *, municipality: bool = False, bank: str | None = None
    ) -> tuple[Referrer | None, str | None]:
        return referral(
            caller,
            introduced_by_municipality=municipality,
            municipality_code="012025",
            msme_referred_by_bank=bank,
        )

    assert introduced(BANK) == (Referrer.BANK, "hokkaido-bank")
    assert introduced(BANK, municipality=True) == (Referrer.BANK, "hokkaido-bank")
    assert introduced(STAFF, municipality=True) == (Referrer.MUNICIPALITY, "012025")
    assert introduced(STAFF, bank="other-bank") == (Referrer.BANK, "other-bank")
    assert introduced(BUSINESS, bank="other-bank") == (Referrer.BANK, "other-bank")
    assert introduced(BUSINESS) == (None, None)
    with pytest.raises(Forbidden, match="only staff record a municipality"):
        introduced(BUSINESS, municipality=True)


# -- The investment committee --------------------------------------------------------------


def test_only_staff_record_the_committee_and_only_at_its_step() -> None:
    check_committee_recorder(STAFF)
    with pytest.raises(Forbidden):
        check_committee_recorder(BUSINESS)
    check_at_committee(Step.COMMITTEE_DECISION)
    with pytest.raises(MoveRefused) as caught:
        check_at_committee(Step.PROJECT_MEETING)
    assert caught.value.extra["current"] == "project_meeting"
    assert "not at the committee" in str(caught.value)


def test_each_member_votes_once() -> None:
    check_one_vote_each(["a", "b", "c"])
    with pytest.raises(InvalidDecision, match="votes once") as caught:
        check_one_vote_each(["a", "b", "a"])
    assert (caught.value.status, caught.value.problem) == (422, "decision-invalid")


@given(votes=st.lists(st.sampled_from(list(Vote)), min_size=3, max_size=9))
def test_the_committee_outcome_sets_the_next_step_and_the_tally_counts_every_vote(
    votes: list[Vote],
) -> None:
    outcome = committee_outcome(votes, quorum=3)
    to = step_after_committee(outcome)
    assert to is (Step.OFFERING_PREPARATION if outcome is Outcome.APPROVED else Step.REJECTED)
    counts = tally(votes)
    assert set(counts) == {"approve", "reject", "abstain"}
    assert sum(counts.values()) == len(votes)


# -- Who sees which application ------------------------------------------------------------

APPLICATION = SimpleNamespace(msme_id=MSME_ID, referred_by="bank", referrer_id="hokkaido-bank")
REFERRED = SimpleNamespace(referred_by_bank="hokkaido-bank")
NOT_REFERRED = SimpleNamespace(referred_by_bank=None)


@given(
    role=st.sampled_from(list(Role)),
    tenant=st.sampled_from(["hokkaido-bank", "other-bank", str(MSME_ID), str(uuid.uuid4())]),
)
def test_staff_the_business_and_its_bank_read_an_application(role: Role, tenant: str) -> None:
    caller = _principal(role, tenant)
    expected = (
        role is Role.STAFF
        or (role is Role.MSME and tenant == str(MSME_ID))
        or (role is Role.BANK and tenant == "hokkaido-bank")
    )
    assert may_read(caller, APPLICATION, REFERRED) is expected
    assert may_read(caller, APPLICATION, NOT_REFERRED) is expected
    by_municipality = SimpleNamespace(
        msme_id=MSME_ID, referred_by="municipality", referrer_id="hokkaido-bank"
    )
    assert may_read(caller, by_municipality, NOT_REFERRED) is (
        role is Role.STAFF or (role is Role.MSME and tenant == str(MSME_ID))
    )


def test_a_list_shows_a_bank_its_introductions_and_a_business_its_own() -> None:
    assert listing(STAFF, referring_bank="x", msme_id=None).referring_bank == "x"
    assert listing(BANK, referring_bank=None, msme_id=None).referring_bank == "hokkaido-bank"
    with pytest.raises(Forbidden, match="only the applications it introduced"):
        listing(BANK, referring_bank="other-bank", msme_id=None)
    assert listing(BUSINESS, referring_bank=None, msme_id=uuid.uuid4()).msme_id == MSME_ID
    with pytest.raises(Forbidden, match="must carry its id"):
        listing(_principal(Role.MSME, "not-a-uuid"), referring_bank=None, msme_id=None)
    for role in (Role.MUNICIPALITY, Role.INVESTOR, Role.SERVICE):
        with pytest.raises(Forbidden, match="does not list applications"):
            listing(_principal(role, "someone"), referring_bank=None, msme_id=None)
