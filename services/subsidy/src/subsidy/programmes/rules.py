"""The rules of a programme (pure): what a municipality's grant programme is, who runs it,
when it takes applications, and which fiscal year it belongs to.

A programme belongs to a municipality or prefecture (its six-digit local government code)
and a fiscal year (April to March, Japan time). It has a budget, a maximum number of
awards, the share of a business's arrangement fee it pays (``coverage_ppm``: 90 % is
900000) up to a cap per award, an application window, scoring criteria whose weights add
up to 100 points, a pass mark, how many reviewers must score each application, and
whether a grant lapses when its fund fails. The K City Support Fund (DOMAIN.md) is the
template: JPY 5 million, five awards, 90 % of the fee capped at JPY 800,000, criteria
25/15/10/50.

The database holds some of these too (``subsidy.db.models.Programme``):
``ck_programmes_cap_within_budget``, ``ck_programmes_window_ordered``,
``ck_programmes_coverage_in_range``, ``ck_programmes_max_awards_in_range``,
``ck_programmes_pass_mark_in_range``, ``ck_programmes_fiscal_year_in_range``; and the
budget counters (``awards.rules.check_room``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kumiai.local_government import is_local_government_code
from kumiai.periods import government_fiscal_year
from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, NotFound, UnprocessableContent

CRITERION_KEY = r"^[a-z][a-z0-9_]{0,39}$"
"""A criterion's key: a lower-case slug, what reviewers' marks are keyed by."""

WEIGHTS_TOTAL = 100
"""The weights of a programme's criteria add up to exactly 100 points."""

MAX_CRITERIA = 20
MAX_AWARDS = 1_000
MAX_REVIEWERS = 20
PPM = 1_000_000
"""Parts per million: a coverage of 900000 ppm is 90 %."""

FIRST_FISCAL_YEAR = 2000
LAST_FISCAL_YEAR = 2100
MAX_NAME = 200


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion: its key, its title (Japanese welcome) and its weight in points."""

    key: str
    title: str
    weight: int


K_CITY_CRITERIA = (
    Criterion("unique_local_features", "地域独自の特色 Unique local features", 25),
    Criterion("resonates_with_people", "共感を呼ぶか Resonates with people", 15),
    Criterion("attachment_to_the_city", "市への愛着 Attachment to the city", 10),
    Criterion("economic_feasibility", "経済的な実現性 Economic feasibility", 50),
)
"""The K City Support Fund's criteria (DOMAIN.md): the example of the API."""


# -- problems ----------------------------------------------------------------------------


class UnknownProgramme(NotFound):
    """The programme does not exist, or the caller may not see it (``may_read``)."""

    problem = "unknown-programme"
    title = "No such programme"


class NotYourMunicipality(Forbidden):
    """A municipality creates programmes for its own local government code only.

    403, not 422: the request is well-formed and the caller names the code itself, so
    nothing is hidden from it; it lacks the authority to act for another municipality.
    """

    problem = "not-your-municipality"
    title = "A municipality runs only its own programmes"


class UnknownMunicipality(NotFound):
    """A municipality asked for another's figures: it is told there are none to see."""

    problem = "unknown-municipality"
    title = "No programmes of that municipality are visible"


class InvalidMunicipalityCode(UnprocessableContent):
    problem = "invalid-municipality-code"
    title = "Not a local government code"


class InvalidProgramme(UnprocessableContent):
    problem = "invalid-programme"
    title = "The programme's terms do not hold together"


class ApplicationsNotOpen(Conflict):
    problem = "applications-not-open"
    title = "The programme does not take applications now"


def _invalid(name: str, reason: str) -> dict[str, str]:
    return {"name": name, "reason": reason}


# -- creating ----------------------------------------------------------------------------


def check_creator(principal: Principal, municipality_code: str) -> None:
    """Staff create programmes for any municipality; a municipality only for its own code
    (its token's tenant); anyone else is refused (403 ``not-your-municipality``)."""
    if principal.is_staff():
        return
    if principal.role is Role.MUNICIPALITY and principal.tenant == municipality_code:
        return
    raise NotYourMunicipality(
        f"a municipality creates programmes for its own code ({principal.tenant}) only"
    )


def check_terms(
    *,
    budget: int,
    cap_per_award: int,
    applications_open_at: datetime,
    applications_close_at: datetime,
    criteria: Sequence[Criterion],
) -> None:
    """A programme's terms hold together: the cap per award fits the budget, the window
    closes after it opens, criteria keys are unique and their weights add up to exactly
    100 points. Every fault is named (422 ``invalid-programme``)."""
    faults: list[dict[str, str]] = []
    if cap_per_award > budget:
        faults.append(_invalid("body.cap_per_award", "must not exceed the budget"))
    if applications_close_at <= applications_open_at:
        faults.append(_invalid("body.applications_close_at", "must be after applications_open_at"))
    repeated = sorted(key for key, n in Counter(c.key for c in criteria).items() if n > 1)
    if repeated:
        faults.append(_invalid("body.criteria", f"keys repeated: {', '.join(repeated)}"))
    total = sum(c.weight for c in criteria)
    if total != WEIGHTS_TOTAL:
        faults.append(
            _invalid("body.criteria", f"weights add up to {total}, not {WEIGHTS_TOTAL} points")
        )
    if faults:
        raise InvalidProgramme(
            "; ".join(f"{f['name']}: {f['reason']}" for f in faults), invalid_params=faults
        )


def fiscal_year_of(stated: int | None, applications_open_at: datetime) -> int:
    """The programme's fiscal year: the one stated, else the Japanese government fiscal year
    (April to March, Japan time) in which applications open."""
    if stated is not None:
        return stated
    return government_fiscal_year(applications_open_at)


# -- the application window ----------------------------------------------------------------


def takes_applications(open_at: datetime, close_at: datetime, now: datetime) -> bool:
    """The window is open from its opening instant (included) to its closing one (excluded)."""
    return open_at <= now < close_at


def check_taking_applications(open_at: datetime, close_at: datetime, now: datetime) -> None:
    """Applications are accepted only while the window is open (409 otherwise, saying when
    it opens or when it closed)."""
    if now < open_at:
        raise ApplicationsNotOpen(
            f"applications open at {open_at.isoformat()}", opens_at=open_at.isoformat()
        )
    if now >= close_at:
        raise ApplicationsNotOpen(
            f"applications closed at {close_at.isoformat()}", closed_at=close_at.isoformat()
        )


def closing_now(open_at: datetime, close_at: datetime, now: datetime) -> datetime:
    """The new closing instant when the owner closes applications early: now, and only
    while the window is open (409 before it opens or once it closed)."""
    check_taking_applications(open_at, close_at, now)
    return now


def has_closed(close_at: datetime, now: datetime) -> bool:
    """Whether the application window is over (selection may begin)."""
    return now >= close_at


# -- budget ------------------------------------------------------------------------------


def left(total: int, used: int) -> int:
    """What is left of a budget or an award count."""
    return total - used


# -- who sees what -----------------------------------------------------------------------


def may_read(principal: Principal, municipality_code: str) -> bool:
    """Staff see every programme and businesses every programme (to apply); a municipality
    sees only its own; anyone else is told it does not exist."""
    if principal.is_staff() or principal.role is Role.MSME:
        return True
    return principal.role is Role.MUNICIPALITY and principal.tenant == municipality_code


def runs(principal: Principal, municipality_code: str) -> bool:
    """Whether the caller manages the programme: staff, or the municipality it belongs to."""
    if principal.is_staff():
        return True
    return principal.role is Role.MUNICIPALITY and principal.tenant == municipality_code


def listed_municipality(principal: Principal, asked: str | None) -> str | None:
    """The municipality whose programmes a list shows: a municipality sees only its own
    (asking for another's lists nothing), staff and businesses what they ask for."""
    if principal.role is Role.MUNICIPALITY:
        return principal.tenant if asked in (None, principal.tenant) else ""
    return asked


def reported_municipality(principal: Principal, asked: str | None) -> str | None:
    """Whose programmes a report covers: staff, every municipality's or the one asked for
    (a valid local government code, else 422); a municipality, its own (asking for
    another's is 404, as if it had none)."""
    if principal.role is Role.MUNICIPALITY:
        if asked not in (None, principal.tenant):
            raise UnknownMunicipality(f"no programmes of municipality {asked}")
        asked = principal.tenant
    if asked is not None and not is_local_government_code(asked):
        raise InvalidMunicipalityCode(
            f"{asked} is not a local government code (six digits with a check digit)",
            invalid_params=[{"name": "query.municipality_code", "reason": "wrong check digit"}],
        )
    return asked
