"""Staff read the record of partners' calls on every service (``GET /partner-calls``); a
partner reads nothing of it; lines are kept for the retention period, then deleted a
batch at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import ValidationError

from helpers import BANK, MUNICIPALITY, STAFF, SettingsFactory, call, fetch
from kumiai.errors import PROBLEM_BASE
from kumiai.partner_calls import prune_calls
from kumiai.service import ServiceRuntime
from kumiai.settings import ServiceSettings
from kumiai_tools.catalog import SERVICES, service
from kumiai_tools.testing import eventually, running

JST = timezone(timedelta(hours=9))
BASE = datetime(2026, 12, 1, 9, 0, tzinfo=JST)
RETENTION = "partner-calls-retention"


def _line(n: int, **overrides: Any) -> dict[str, Any]:
    """A line as the middleware writes it; ``path`` ``/line/<n>`` tells lines apart."""
    line: dict[str, Any] = {
        "at": BASE + timedelta(minutes=n),
        "partner_id": "hokkaido-bank",
        "role": "bank",
        "subject": "hokkaido-bank-api",
        "method": "GET",
        "route": "/line/{n}",
        "path": f"/line/{n}",
        "status": 200,
        "duration_ms": 3,
        "request_id": None,
    }
    line.update(overrides)
    return line


async def _insert(url: str, *lines: dict[str, Any]) -> None:
    """Write ``lines`` in order, as if partners had made the calls (ids follow the order)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.executemany(
            "INSERT INTO partner_calls (at, partner_id, role, subject, method, route, path, "
            "status, duration_ms, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [
                (
                    ln["at"],
                    ln["partner_id"],
                    ln["role"],
                    ln["subject"],
                    ln["method"],
                    ln["route"],
                    ln["path"],
                    ln["status"],
                    ln["duration_ms"],
                    ln["request_id"],
                )
                for ln in lines
            ],
        )
    finally:
        await conn.close()


async def _paths(client: httpx.AsyncClient, **params: Any) -> list[str]:
    """The paths of every line the query answers, following the pages to the end."""
    paths: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await call(client, "GET", "/partner-calls", params=query, headers=STAFF)
        paths += [item["path"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return paths
    raise AssertionError("more than 100 pages")


async def test_staff_read_the_calls_partners_made_to_each_service(
    settings_for: SettingsFactory,
) -> None:
    ledger = service("ledger").create_app(settings_for("ledger", run_workers=False))
    onboarding = service("onboarding").create_app(settings_for("onboarding", run_workers=False))
    missing = uuid.uuid4()
    async with running(ledger) as books, running(onboarding) as registry:
        listed = await books.get("/deposits", headers=BANK)
        unknown = await books.get(f"/deposits/{missing}", headers=BANK)
        town = await books.get("/partner-calls", headers=MUNICIPALITY)
        bank = await books.get("/partner-calls", headers=BANK)
        referred = await registry.get("/msmes", headers=BANK)
        in_ledger = await call(books, "GET", "/partner-calls", headers=STAFF)
        in_onboarding = await call(registry, "GET", "/partner-calls", headers=STAFF)
    assert (listed.status_code, unknown.status_code, referred.status_code) == (200, 404, 200)
    for refused in (town, bank):
        assert refused.status_code == 403, refused.text
        assert "items" not in refused.json(), "a partner learns nothing of the record"
    assert [
        (i["partner_id"], i["role"], i["method"], i["route"], i["status"])
        for i in in_ledger["items"]
    ] == [
        ("hokkaido-bank", "bank", "GET", "/deposits", 200),
        ("hokkaido-bank", "bank", "GET", "/deposits/{deposit_id}", 404),
        ("012025", "municipality", "GET", "/partner-calls", 403),
        ("hokkaido-bank", "bank", "GET", "/partner-calls", 403),
    ], "the ledger's calls, oldest first; staff's own reads are not partner calls"
    first = in_ledger["items"][0]
    assert first["request_id"] == listed.headers["x-request-id"]
    assert in_ledger["items"][1]["path"] == f"/deposits/{missing}"
    assert datetime.fromisoformat(first["at"]).tzinfo is not None
    assert in_ledger["next_cursor"] is None
    assert [(i["partner_id"], i["route"], i["status"]) for i in in_onboarding["items"]] == [
        ("hokkaido-bank", "/msmes", 200)
    ], "each service shows the calls made to it, and only those"


async def test_the_calls_are_filtered_by_partner_status_and_period(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subsidy", run_workers=False)
    await _insert(
        settings.database_url,
        _line(0),
        _line(60, partner_id="other-bank"),
        _line(120, status=404),
        _line(180, partner_id="012025", role="municipality", status=403),
        _line(240),
    )
    hour = timedelta(hours=1)
    async with running(service("subsidy").create_app(settings)) as client:
        by_partner = await _paths(client, partner_id="hokkaido-bank")
        by_status = await _paths(client, status=200)
        both = await _paths(client, partner_id="hokkaido-bank", status=200)
        within = await _paths(
            client, **{"from": (BASE + hour).isoformat(), "to": (BASE + 3 * hour).isoformat()}
        )
        same_instants_in_utc = await _paths(
            client,
            **{
                "from": (BASE + hour).astimezone(UTC).isoformat(),
                "to": (BASE + 3 * hour).astimezone(UTC).isoformat(),
            },
        )
        since = await _paths(client, **{"from": (BASE + 3 * hour).isoformat()})
        until = await _paths(client, to=(BASE + hour).isoformat())
        nobody = await _paths(client, partner_id="no-such-bank")
        empty = await client.get(
            "/partner-calls",
            params={"from": BASE.isoformat(), "to": BASE.isoformat()},
            headers=STAFF,
        )
        backwards = await client.get(
            "/partner-calls",
            params={"from": (BASE + hour).isoformat(), "to": BASE.isoformat()},
            headers=STAFF,
        )
        naive = await client.get(
            "/partner-calls", params={"from": "2026-12-01T09:00:00"}, headers=STAFF
        )
        numeric = await client.get("/partner-calls", params={"to": "1764547200"}, headers=STAFF)
        no_status = await client.get("/partner-calls", params={"status": 42}, headers=STAFF)
    assert by_partner == ["/line/0", "/line/120", "/line/240"]
    assert by_status == ["/line/0", "/line/60", "/line/240"]
    assert both == ["/line/0", "/line/240"]
    assert within == ["/line/60", "/line/120"], "from included, to excluded"
    assert same_instants_in_utc == within
    assert since == ["/line/180", "/line/240"]
    assert until == ["/line/0"]
    assert nobody == []
    for refused in (empty, backwards):
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == PROBLEM_BASE + "empty-period"
    for refused in (naive, numeric, no_status):
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == PROBLEM_BASE + "validation"


async def test_pages_are_stable_while_partners_keep_calling(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("disclosure", run_workers=False)
    url = settings.database_url
    await _insert(
        url, *(_line(n, partner_id="other-bank" if n % 2 else "hokkaido-bank") for n in range(7))
    )
    seen: list[str] = []
    async with running(service("disclosure").create_app(settings)) as client:
        first = await call(client, "GET", "/partner-calls", params={"limit": 3}, headers=STAFF)
        seen += [i["path"] for i in first["items"]]
        # Calls made while staff page through come after the pages already read.
        await _insert(url, _line(7), _line(8))
        cursor = first["next_cursor"]
        while cursor is not None:
            page = await call(
                client,
                "GET",
                "/partner-calls",
                params={"limit": 3, "cursor": cursor},
                headers=STAFF,
            )
            assert len(page["items"]) <= 3
            seen += [i["path"] for i in page["items"]]
            cursor = page["next_cursor"]
        one_bank = await _paths(client, partner_id="other-bank", limit=2)
        bad = await client.get("/partner-calls", params={"cursor": "bm90LW91cnM"}, headers=STAFF)
    assert seen == [f"/line/{n}" for n in range(9)], "every line once, in order"
    assert one_bank == ["/line/1", "/line/3", "/line/5"]
    assert bad.status_code == 422, bad.text
    assert bad.json()["type"] == PROBLEM_BASE + "bad-cursor"


async def test_retention_deletes_only_lines_older_than_it(settings_for: SettingsFactory) -> None:
    settings = settings_for("ledger", run_workers=False, partner_calls_retention_days=400)
    now = datetime.now(UTC)
    day = timedelta(days=1)
    await _insert(
        settings.database_url,
        _line(1, at=now - 500 * day),
        _line(2, at=now - 400 * day - timedelta(minutes=5)),
        _line(3, at=now - 400 * day + timedelta(minutes=5)),
        _line(4, at=now - 31 * day),
        _line(5, at=now - day),
        _line(6, at=now),
    )
    runtime = ServiceRuntime(service("ledger").module().SPEC, settings)  # type: ignore[attr-defined]
    try:
        (timer,) = [t for t in runtime.timers if t.name == RETENTION]
        async with runtime.unit_of_work() as uow:
            deleted = await timer.run(uow, datetime.now(UTC))
        async with runtime.unit_of_work() as uow:
            again = await timer.run(uow, datetime.now(UTC))
    finally:
        await runtime.close()
    left = await fetch(settings.database_url, "SELECT path FROM partner_calls ORDER BY id")
    assert (deleted, again) == (2, 0)
    assert [r["path"] for r in left] == [f"/line/{n}" for n in (3, 4, 5, 6)]


async def test_retention_deletes_a_bounded_batch_oldest_first(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription", run_workers=False)
    now = datetime.now(UTC)
    # Written out of order: the oldest line is not the first one written.
    ages = [450, 470, 410, 460, 440, 420, 430]
    await _insert(
        settings.database_url,
        *(_line(n, at=now - timedelta(days=age)) for n, age in enumerate(ages)),
        _line(99, at=now - timedelta(days=2)),
    )
    runtime = ServiceRuntime(service("subscription").module().SPEC, settings)  # type: ignore[attr-defined]
    passes: list[int] = []
    after_first: list[asyncpg.Record] = []
    try:
        while not passes or passes[-1]:
            assert len(passes) < 10, passes
            async with runtime.unit_of_work() as uow:
                passes.append(
                    await prune_calls(uow.session, now=now, retention=timedelta(days=400), batch=3)
                )
            if len(passes) == 1:
                after_first = await fetch(
                    settings.database_url, "SELECT path FROM partner_calls ORDER BY id"
                )
    finally:
        await runtime.close()
    left = await fetch(settings.database_url, "SELECT path FROM partner_calls")
    assert passes == [3, 3, 1, 0]
    assert [r["path"] for r in after_first] == [f"/line/{n}" for n in (2, 4, 5, 6)] + [
        "/line/99"
    ], "the three oldest (470, 460, 450 days) went first"
    assert [r["path"] for r in left] == ["/line/99"]


async def test_the_database_refuses_to_delete_a_line_younger_than_a_month(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    now = datetime.now(UTC)
    await _insert(settings.database_url, _line(1, at=now - timedelta(days=29)))
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await fetch(settings.database_url, "DELETE FROM partner_calls")
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await fetch(settings.database_url, "UPDATE partner_calls SET status = 200")
    left = await fetch(settings.database_url, "SELECT path FROM partner_calls")
    assert [r["path"] for r in left] == ["/line/1"]


@pytest.mark.parametrize("name", [info.name for info in SERVICES])
async def test_every_service_runs_the_retention_timer(name: str) -> None:
    settings = service(name).settings_class()(run_workers=False)
    runtime = ServiceRuntime(service(name).module().SPEC, settings)  # type: ignore[attr-defined]
    await runtime.close()
    assert [t.name for t in runtime.timers].count(RETENTION) == 1
    assert settings.partner_calls_retention_days == 400


def test_the_retention_is_a_month_or_more() -> None:
    with pytest.raises(ValidationError, match="partner_calls_retention_days"):
        ServiceSettings(partner_calls_retention_days=29)
    assert ServiceSettings(partner_calls_retention_days=30).partner_calls_retention_days == 30


async def test_a_running_service_deletes_old_lines_by_itself(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subsidy")
    now = datetime.now(UTC)
    await _insert(
        settings.database_url,
        _line(1, at=now - timedelta(days=401)),
        _line(2, at=now - timedelta(days=2)),
    )

    async def pruned() -> list[str] | None:
        rows = await fetch(settings.database_url, "SELECT path FROM partner_calls ORDER BY id")
        paths = [r["path"] for r in rows]
        return paths if "/line/1" not in paths else None

    async with running(service("subsidy").create_app(settings)):
        left = await eventually(pruned, timeout_s=30, what="the old line deleted")
    assert left == ["/line/2"]
