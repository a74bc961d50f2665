"""The rules of a programme: who creates it, whether its terms hold together, its fiscal
year, its application window, and who sees it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import CheckConstraint

from kumiai.principal import Principal, Role
from subsidy.db.models import metadata
from subsidy.programmes.rules import (
    K_CITY_CRITERIA,
    ApplicationsNotOpen,
    Criterion,
    InvalidMunicipalityCode,
    InvalidProgramme,
    NotYourMunicipality,
    UnknownMunicipality,
    check_creator,
    check_taking_applications,
    check_terms,
    closing_now,
    fiscal_year_of,
    listed_municipality,
    may_read,
    reported_municipality,
    runs,
    takes_applications,
)

JST = timezone(timedelta(hours=9))
K_CITY = "012068"
HAKODATE = "012025"
STAFF = Principal(subject="staff:1", role=Role.STAFF, tenant="platform")
K = Principal(subject="k-officer", role=Role.MUNICIPALITY, tenant=K_CITY)
OTHER = Principal(subject="h-officer", role=Role.MUNICIPALITY, tenant=HAKODATE)
BUSINESS = Principal(subject="b", role=Role.MSME, tenant="0b1e5d3c-6a8f-4c2e-9f7d-1a2b3c4d5e6f")
BANK = Principal(subject="bank", role=Role.BANK, tenant="hokkaido-bank")
OPEN = datetime(2015, 6, 1, tzinfo=JST)
CLOSE = datetime(2015, 7, 31, 17, tzinfo=JST)


def _terms(**overrides: object) -> dict[str, object]:
    terms: dict[str, object] = {
        "budget": 5_000_000,
        "cap_per_award": 800_000,
        "applications_open_at": OPEN,
        "applications_close_at": CLOSE,
        "criteria": K_CITY_CRITERIA,
    }
    terms.update(overrides)
    return terms


def test_a_municipality_creates_programmes_for_its_own_code_only() -> None:
    check_creator(STAFF, K_CITY)
    check_creator(K, K_CITY)
    with pytest.raises(NotYourMunicipality) as refused:
        check_creator(OTHER, K_CITY)
    assert refused.value.status == 403
    with pytest.raises(NotYourMunicipality):
        check_creator(BUSINESS, K_CITY)


def test_k_citys_terms_hold_together() -> None:
    check_terms(**_terms())  # type: ignore[arg-type]
    assert sum(c.weight for c in K_CITY_CRITERIA) == 100


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cap_per_award": 5_000_001}, "body.cap_per_award"),
        ({"applications_close_at": OPEN}, "body.applications_close_at"),
        ({"criteria": (Criterion("a", "A", 50), Criterion("b", "B", 49))}, "body.criteria"),
        ({"criteria": (Criterion("a", "A", 50), Criterion("a", "A again", 50))}, "body.criteria"),
    ],
)
def test_terms_that_do_not_hold_together_are_named(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidProgramme) as refused:
        check_terms(**_terms(**overrides))  # type: ignore[arg-type]
    assert refused.value.status == 422
    assert [p["name"] for p in refused.value.extra["invalid_params"]] == [field]


def test_the_fiscal_year_is_the_one_applications_open_in_unless_stated() -> None:
    assert fiscal_year_of(None, datetime(2027, 3, 31, 23, 30, tzinfo=JST)) == 2026
    assert fiscal_year_of(None, datetime(2027, 4, 1, 0, 30, tzinfo=JST)) == 2027
    # 1 April 00:30 in Japan is still 31 March in UTC: Japan time decides.
    assert fiscal_year_of(None, datetime(2027, 3, 31, 15, 30, tzinfo=UTC)) == 2027
    assert fiscal_year_of(2015, datetime(2027, 4, 1, 0, 30, tzinfo=JST)) == 2015


def test_the_window_is_open_from_its_opening_to_before_its_closing() -> None:
    assert not takes_applications(OPEN, CLOSE, OPEN - timedelta(microseconds=1))
    assert takes_applications(OPEN, CLOSE, OPEN)
    assert not takes_applications(OPEN, CLOSE, CLOSE)
    with pytest.raises(ApplicationsNotOpen, match="open at"):
        check_taking_applications(OPEN, CLOSE, OPEN - timedelta(seconds=1))
    with pytest.raises(ApplicationsNotOpen, match="closed at"):
        check_taking_applications(OPEN, CLOSE, CLOSE)


def test_applications_close_early_only_while_open() -> None:
    now = OPEN + timedelta(days=3)
    assert closing_now(OPEN, CLOSE, now) == now
    with pytest.raises(ApplicationsNotOpen) as refused:
        closing_now(OPEN, CLOSE, CLOSE + timedelta(days=1))
    assert refused.value.status == 409


def test_who_sees_and_who_runs_a_programme() -> None:
    assert [may_read(p, K_CITY) for p in (STAFF, K, BUSINESS, OTHER, BANK)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert [runs(p, K_CITY) for p in (STAFF, K, BUSINESS, OTHER, BANK)] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_a_municipality_lists_and_reports_only_its_own() -> None:
    assert listed_municipality(K, None) == K_CITY
    assert listed_municipality(K, HAKODATE) == ""  # matches no programme
    assert listed_municipality(STAFF, None) is None
    assert listed_municipality(BUSINESS, HAKODATE) == HAKODATE
    assert reported_municipality(K, None) == K_CITY
    assert reported_municipality(STAFF, None) is None
    assert reported_municipality(STAFF, HAKODATE) == HAKODATE
    with pytest.raises(UnknownMunicipality) as hidden:
        reported_municipality(K, HAKODATE)
    assert hidden.value.status == 404
    with pytest.raises(InvalidMunicipalityCode):
        reported_municipality(STAFF, "012020")


def test_the_database_names_the_same_rules() -> None:
    names = {
        c.name for c in metadata.tables["programmes"].constraints if isinstance(c, CheckConstraint)
    }
    assert {
        "ck_programmes_within_budget",
        "ck_programmes_within_award_count",
        "ck_programmes_cap_within_budget",
        "ck_programmes_window_ordered",
    } <= names
