"""The inbox's plan for a fetched batch: which events are due, duplicate or parked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kumiai.events import Envelope
from kumiai.inbox import _Plan

SUBJECTS = ("a", "b", "c")


def _envelope(subject: str, seq: int) -> Envelope:
    return Envelope(
        type="StepRecorded", schema_version=1, source="s", subject=subject, sequence=seq, data={}
    )


batches = st.lists(st.tuples(st.sampled_from(SUBJECTS), st.integers(1, 8)), max_size=40)
positions = st.fixed_dictionaries({s: st.integers(0, 4) for s in SUBJECTS})


@given(batches, positions)
def test_due_events_continue_each_subject_without_gaps_or_repeats(
    batch: list[tuple[str, int]], start: dict[str, int]
) -> None:
    envelopes = [_envelope(subject, seq) for subject, seq in batch]
    plan = _Plan(envelopes, lambda e: True)
    plan.classify({("s", s): p for s, p in start.items()})

    assert len(plan.outcomes) == len(envelopes)
    for subject in SUBJECTS:
        due = [e.sequence for e in plan.due if e.subject == subject]
        # The next ones in sequence, each once, in order.
        assert due == list(range(start[subject] + 1, start[subject] + 1 + len(due)))
    position = dict(start)
    for envelope, outcome in zip(envelopes, plan.outcomes, strict=True):
        expected = (
            "duplicate"
            if envelope.sequence <= position[envelope.subject]
            else "parked"
            if envelope.sequence > position[envelope.subject] + 1
            else "handled"
        )
        assert outcome == expected
        if outcome == "handled":
            position[envelope.subject] = envelope.sequence
    assert [e for e, _ in plan.settled] == plan.due
    assert plan.parked == [
        e for e, o in zip(envelopes, plan.outcomes, strict=True) if o == "parked"
    ]
    # Each subject's position ends at its last settled event.
    assert {e.subject: e.sequence for e in plan.last_settled()} == {
        s: p for s, p in position.items() if p != start[s]
    }


@given(batches)
def test_events_without_a_handler_are_ignored_but_settled(batch: list[tuple[str, int]]) -> None:
    envelopes = [_envelope(subject, seq) for subject, seq in batch]
    plan = _Plan(envelopes, lambda e: False)
    plan.classify({("s", s): 0 for s in SUBJECTS})
    assert "handled" not in plan.outcomes
    assert [o for _, o in plan.settled] == ["ignored"] * len(plan.due)


def test_subjects_are_listed_once_in_key_order() -> None:
    plan = _Plan([_envelope("b", 1), _envelope("a", 1), _envelope("b", 2)], lambda e: True)
    assert plan.subjects() == [("s", "a"), ("s", "b")]
