"""The rules of applications to a programme: who may apply with which onboarding
application, what a review sheet marks, the score, passing and rank (pure)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.principal import Principal, Role
from subsidy.applications.rules import (
    SCORE_MAX,
    ApplicationStatus,
    InvalidMarks,
    NotUnderReview,
    OnboardingApplicationEnded,
    OtherMunicipality,
    UnknownOnboardingApplication,
    check_applicant,
    check_declinable,
    check_marks,
    check_reviewable,
    has_passed,
    may_read,
    ranks,
    score_centi,
    score_text,
    sees_sheets,
)
from subsidy.facts.rules import OnboardingApplication, OnboardingStatus
from subsidy.programmes.rules import K_CITY_CRITERIA, Criterion

K_CITY = "012068"
HOKKAIDO = "010006"
SAPPORO = "011002"
TOKYO_CHIYODA = "131016"
MSME = uuid.uuid4()
ME = Principal(subject="b", role=Role.MSME, tenant=str(MSME))
SOMEONE_ELSE = Principal(subject="c", role=Role.MSME, tenant=str(uuid.uuid4()))
STAFF = Principal(subject="s", role=Role.STAFF, tenant="platform")
K = Principal(subject="k", role=Role.MUNICIPALITY, tenant=K_CITY)
KEYS = [c.key for c in K_CITY_CRITERIA]


def _known(
    code: str = K_CITY, status: OnboardingStatus = OnboardingStatus.APPROVED
) -> OnboardingApplication:
    return OnboardingApplication(uuid.uuid4(), MSME, code, status)


def _sheet(*marks: int) -> dict[str, int]:
    return dict(zip(KEYS, marks, strict=True))


# -- applying ----------------------------------------------------------------------------


def test_a_business_applies_with_its_own_known_application_of_the_programmes_municipality() -> None:
    found = _known()
    assert (
        check_applicant(
            found, application_id=found.application_id, principal=ME, programme_code=K_CITY
        )
        is found
    )
    assert (
        check_applicant(
            found, application_id=found.application_id, principal=STAFF, programme_code=K_CITY
        )
        is found
    )


def test_an_unknown_or_anothers_application_is_refused_alike() -> None:
    found = _known()
    for given_, caller in ((None, ME), (found, SOMEONE_ELSE)):
        with pytest.raises(UnknownOnboardingApplication) as refused:
            check_applicant(
                given_, application_id=found.application_id, principal=caller, programme_code=K_CITY
            )
        assert refused.value.status == 422


def test_an_application_of_another_municipality_is_refused_naming_both() -> None:
    found = _known(SAPPORO)
    with pytest.raises(OtherMunicipality) as refused:
        check_applicant(
            found, application_id=found.application_id, principal=ME, programme_code=K_CITY
        )
    assert refused.value.extra["application_municipality"] == SAPPORO
    assert refused.value.extra["programme_municipality"] == K_CITY


def test_a_prefectures_programme_takes_its_municipalities_and_no_other() -> None:
    found = _known(SAPPORO)
    check_applicant(
        found, application_id=found.application_id, principal=ME, programme_code=HOKKAIDO
    )
    elsewhere = _known(TOKYO_CHIYODA)
    with pytest.raises(OtherMunicipality):
        check_applicant(
            elsewhere,
            application_id=elsewhere.application_id,
            principal=ME,
            programme_code=HOKKAIDO,
        )


@pytest.mark.parametrize("status", [OnboardingStatus.REJECTED, OnboardingStatus.WITHDRAWN])
def test_a_rejected_or_withdrawn_application_cannot_apply(status: OnboardingStatus) -> None:
    found = _known(status=status)
    with pytest.raises(OnboardingApplicationEnded):
        check_applicant(
            found, application_id=found.application_id, principal=ME, programme_code=K_CITY
        )


# -- reviewing ---------------------------------------------------------------------------


def test_a_sheet_marks_every_criterion_exactly_once() -> None:
    check_marks(K_CITY_CRITERIA, KEYS)
    with pytest.raises(InvalidMarks, match="missing: economic_feasibility"):
        check_marks(K_CITY_CRITERIA, KEYS[:3])
    with pytest.raises(InvalidMarks, match="repeated: unique_local_features"):
        check_marks(K_CITY_CRITERIA, [*KEYS, KEYS[0]])
    with pytest.raises(InvalidMarks, match="unknown: taste"):
        check_marks(K_CITY_CRITERIA, [*KEYS, "taste"])


def test_sheets_are_written_only_while_applied() -> None:
    check_reviewable(ApplicationStatus.APPLIED)
    check_declinable(ApplicationStatus.APPLIED)
    for status in (ApplicationStatus.DECLINED, ApplicationStatus.AWARDED):
        with pytest.raises(NotUnderReview):
            check_reviewable(status)
        with pytest.raises(NotUnderReview):
            check_declinable(status)


def test_k_city_score_is_the_weighted_mean_of_the_reviewers_marks_rounded_down() -> None:
    # 25 x (80+71) + 15 x (60+80) + 10 x (70+50) + 50 x (90+61) = 14,625 over 2 reviewers.
    score = score_centi(K_CITY_CRITERIA, [_sheet(80, 60, 70, 90), _sheet(71, 80, 50, 61)])
    assert score == 7_312  # 73.125 points, rounded down to 73.12
    assert score_text(score) == "73.12"
    assert score_centi(K_CITY_CRITERIA, []) is None
    assert score_text(None) is None
    assert score_text(5) == "0.05"


marks = st.integers(min_value=0, max_value=100)


@st.composite
def criteria_and_sheets(draw: st.DrawFn) -> tuple[list[Criterion], list[dict[str, int]]]:
    count = draw(st.integers(min_value=1, max_value=20))
    cuts = (
        sorted(
            draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1, unique=True))
        )
        if count > 1
        else []
    )
    bounds = [0, *cuts, 100]
    weights = [b - a for a, b in itertools.pairwise(bounds)]
    criteria = [Criterion(f"c{i}", f"C{i}", w) for i, w in enumerate(weights)]
    reviewers = draw(st.integers(min_value=1, max_value=6))
    sheets = [{c.key: draw(marks) for c in criteria} for _ in range(reviewers)]
    return criteria, sheets


@given(criteria_and_sheets())
def test_the_score_is_the_exact_mean_rounded_down_within_0_and_100_points(
    drawn: tuple[list[Criterion], list[dict[str, int]]],
) -> None:
    criteria, sheets = drawn
    score = score_centi(criteria, sheets)
    exact = sum(
        Fraction(c.weight) * Fraction(sum(s[c.key] for s in sheets), len(sheets)) for c in criteria
    )
    assert score == floor(exact)
    assert score is not None
    assert 0 <= score <= SCORE_MAX


@given(criteria_and_sheets(), st.data())
def test_a_higher_mark_never_lowers_the_score(
    drawn: tuple[list[Criterion], list[dict[str, int]]], data: st.DataObject
) -> None:
    criteria, sheets = drawn
    reviewer = data.draw(st.integers(0, len(sheets) - 1))
    key = data.draw(st.sampled_from([c.key for c in criteria]))
    raised: list[Mapping[str, int]] = [dict(s) for s in sheets]
    raised[reviewer] = {**sheets[reviewer], key: data.draw(st.integers(sheets[reviewer][key], 100))}
    before, after = score_centi(criteria, sheets), score_centi(criteria, raised)
    assert before is not None
    assert after is not None
    assert after >= before


def test_passing_needs_enough_reviewers_and_the_pass_mark() -> None:
    assert has_passed(6_000, reviewers=2, reviewers_required=2, pass_mark=60)
    assert not has_passed(5_999, reviewers=2, reviewers_required=2, pass_mark=60)
    assert not has_passed(9_000, reviewers=1, reviewers_required=2, pass_mark=60)
    assert not has_passed(None, reviewers=0, reviewers_required=1, pass_mark=0)
    assert has_passed(0, reviewers=1, reviewers_required=1, pass_mark=0)


def test_ranks_share_places_on_ties_and_skip_after_them() -> None:
    assert ranks([7_000, None, 9_000, 7_000, 6_000]) == [2, None, 1, 2, 4]
    assert ranks([]) == []


@given(st.lists(st.one_of(st.none(), st.integers(0, SCORE_MAX)), max_size=30))
def test_a_higher_score_always_ranks_better(scores: list[int | None]) -> None:
    placed = ranks(scores)
    placed_scores = list(zip(scores, placed, strict=True))
    for (a, ra), (b, rb) in itertools.product(placed_scores, repeat=2):
        if a is not None and b is not None:
            assert ra is not None
            assert rb is not None
            assert (a > b) == (ra < rb)


def test_who_sees_an_application_and_its_sheets() -> None:
    assert may_read(STAFF, programme_code=K_CITY, msme_id=MSME)
    assert may_read(K, programme_code=K_CITY, msme_id=MSME)
    assert may_read(ME, programme_code=K_CITY, msme_id=MSME)
    assert not may_read(SOMEONE_ELSE, programme_code=K_CITY, msme_id=MSME)
    other = Principal(subject="h", role=Role.MUNICIPALITY, tenant="012025")
    assert not may_read(other, programme_code=K_CITY, msme_id=MSME)
    assert sees_sheets(STAFF)
    assert sees_sheets(K)
    assert not sees_sheets(ME)
