"""The minimum offering period counts from when an offering actually opens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import STAFF, SettingsFactory, call, fetch, fund_terms, publish, ready_application
from kumiai.errors import PROBLEM_BASE
from kumiai_tools.catalog import service
from kumiai_tools.testing import running
from onboarding.app import service_spec
from onboarding.settings import Settings


async def _draft(client: httpx.AsyncClient, **terms: Any) -> dict[str, Any]:
    _, application_id = await ready_application(client)
    draft: dict[str, Any] = await call(
        client,
        "POST",
        "/funds",
        201,
        json={"application_id": application_id, "terms": fund_terms(**terms)},
        headers=STAFF,
    )
    return draft


async def _move_window(url: str, fund_id: str, start: datetime, end: datetime) -> None:
    """Set a stored fund's window, as if it had been designed at another time."""
    await fetch(
        url,
        "UPDATE funds SET offering_start = $2, offering_end = $3, "
        "terms = terms || $4::jsonb WHERE id = $1::uuid",
        fund_id,
        start,
        end,
        json.dumps({"offering_start": start.isoformat(), "offering_end": end.isoformat()}),
    )


async def _outbox_types(url: str, fund_id: str) -> list[str]:
    rows = await fetch(
        url, "SELECT type FROM outbox_events WHERE subject = $1 ORDER BY seq", fund_id
    )
    return [r["type"] for r in rows]


async def test_a_back_dated_start_does_not_shorten_the_minimum_window(
    settings_for: SettingsFactory,
) -> None:
    """Start two days ago, end in four minutes: it would be open for four minutes."""
    settings = settings_for("onboarding", run_workers=False)
    now = datetime.now(UTC)
    async with running(service("onboarding").create_app(settings)) as client:
        drafted = await client.post(
            "/funds",
            json={
                "application_id": (await ready_application(client))[1],
                "terms": fund_terms(
                    offering_start=(now - timedelta(days=2)).isoformat(),
                    offering_end=(now + timedelta(minutes=4)).isoformat(),
                ),
            },
            headers=STAFF,
        )
        # Designed earlier with a window that was long enough then, published now.
        draft = await _draft(client)
        await _move_window(
            settings.database_url,
            draft["id"],
            now - timedelta(days=2),
            now + timedelta(minutes=4),
        )
        refused = await client.post(f"/funds/{draft['id']}/publish", headers=STAFF)
        after = await call(client, "GET", f"/funds/{draft['id']}", headers=STAFF)
        # With a day and a minute left from now, the same back-dated start opens at once.
        await _move_window(
            settings.database_url,
            draft["id"],
            now - timedelta(days=2),
            now + timedelta(days=1, minutes=1),
        )
        opened = await call(client, "POST", f"/funds/{draft['id']}/publish", headers=STAFF)
    assert drafted.status_code == 422
    assert [p["name"] for p in drafted.json()["invalid_params"]] == ["body.terms.offering_end"]
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"] == PROBLEM_BASE + "fund-terms-invalid"
    assert [p["name"] for p in body["invalid_params"]] == ["terms.offering_end"]
    assert "at least 1 day(s) from its opening (now)" in body["detail"]
    assert after["status"] == "draft"
    assert opened["status"] == "open"
    assert await _outbox_types(settings.database_url, draft["id"]) == ["FundOpened"]


async def test_the_timer_opening_a_fund_late_counts_the_window_from_then(
    settings_for: SettingsFactory,
) -> None:
    """Reached 20 minutes late, a fund with a day and ten minutes goes back to draft
    unannounced; one with a month opens; one reached within the timer's grace opens."""
    settings = settings_for("onboarding", run_workers=False, min_offering_days=1)
    assert isinstance(settings, Settings)
    opener = service_spec(settings).timers[0]
    app = service("onboarding").create_app(settings)
    soon = datetime.now(UTC) + timedelta(hours=1)
    later = soon + timedelta(hours=1)
    async with running(app) as client:
        exact = await publish(
            client,
            offering_start=soon.isoformat(),
            offering_end=(soon + timedelta(days=1)).isoformat(),
        )
        tight = await publish(
            client,
            offering_start=later.isoformat(),
            offering_end=(later + timedelta(days=1, minutes=10)).isoformat(),
        )
        roomy = await publish(
            client,
            offering_start=later.isoformat(),
            offering_end=(later + timedelta(days=30)).isoformat(),
        )
        runtime = app.state.runtime
        passes = []
        for at in (soon - timedelta(seconds=1), soon + timedelta(seconds=30)):
            async with runtime.unit_of_work() as uow:
                passes.append(await opener.run(uow, at))
        late_at = later + timedelta(minutes=20)
        async with runtime.unit_of_work() as uow:
            passes.append(await opener.run(uow, late_at))
        async with runtime.unit_of_work() as uow:
            passes.append(await opener.run(uow, late_at))
        states = {
            name: await call(client, "GET", f"/funds/{fund['id']}", headers=STAFF)
            for name, fund in {"exact": exact, "tight": tight, "roomy": roomy}.items()
        }
        trail = await call(
            client,
            "GET",
            "/audit",
            params={"entity_type": "fund", "entity_id": tight["id"]},
            headers=STAFF,
        )
        republished = await call(client, "POST", f"/funds/{tight['id']}/publish", headers=STAFF)
    assert passes == [0, 1, 2, 0], "nothing early, each fund once, nothing twice"
    assert [f["status"] for f in (exact, tight, roomy)] == ["scheduled"] * 3
    assert states["exact"]["status"] == "open"
    assert states["roomy"]["status"] == "open"
    assert states["roomy"]["opened_at"][:19] == late_at.isoformat()[:19]
    unscheduled = states["tight"]
    assert unscheduled["status"] == "draft"
    assert unscheduled["terms_digest"] is None
    assert unscheduled["published_at"] is None
    assert "0.99 day(s) of it remained, less than the minimum of 1" in unscheduled["status_reason"]
    assert [r["action"] for r in trail["items"]] == [
        "fund.drafted",
        "fund.published",
        "fund.unscheduled",
    ]
    assert trail["items"][-1]["actor_role"] == "service"
    assert await _outbox_types(settings.database_url, tight["id"]) == [], "never announced"
    assert await _outbox_types(settings.database_url, roomy["id"]) == ["FundOpened"]
    assert await _outbox_types(settings.database_url, exact["id"]) == ["FundOpened"]
    assert republished["status"] == "scheduled", "staff may publish it again"
    assert republished["status_reason"] is None


async def test_a_back_dated_start_does_not_move_the_fund_out_of_the_yearly_limit(
    settings_for: SettingsFactory,
) -> None:
    """On paper 400 days ago, in fact opening now: the fund opened today still counts."""
    settings = settings_for("onboarding", run_workers=False, yearly_raise_limit=15_000_000)
    now = datetime.now(UTC)
    async with running(service("onboarding").create_app(settings)) as client:
        first = await publish(client)
        msme_id = first["msme_id"]
        _, application_id = await ready_application(client, msme_id)
        draft = await call(
            client,
            "POST",
            "/funds",
            201,
            json={
                "application_id": application_id,
                "terms": fund_terms(
                    offering_start=(now - timedelta(days=400)).isoformat(),
                    offering_end=(now + timedelta(days=30)).isoformat(),
                ),
            },
            headers=STAFF,
        )
        refused = await client.post(f"/funds/{draft['id']}/publish", headers=STAFF)
    assert first["status"] == "open"
    assert refused.status_code == 422
    assert refused.json()["type"] == PROBLEM_BASE + "yearly-limit"
    assert (refused.json()["counted"], refused.json()["this_fund"]) == (10_000_000, 10_000_000)


async def test_the_database_refuses_a_window_that_ends_before_it_starts(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False)
    async with running(service("onboarding").create_app(settings)) as client:
        draft = await _draft(client)
    with pytest.raises(asyncpg.CheckViolationError, match="ck_funds_window_ordered"):
        await fetch(
            settings.database_url,
            "UPDATE funds SET offering_end = offering_start WHERE id = $1::uuid",
            draft["id"],
        )
