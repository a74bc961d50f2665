"""Published events are kept for the retention period, then purged; unpublished never."""

from __future__ import annotations

from helpers import SettingsFactory, fetch
from kumiai.service import ServiceRuntime
from kumiai_tools.catalog import service
from kumiai_tools.testing import sample_fund_opened


async def test_purge_removes_only_published_events_past_retention(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("onboarding", run_workers=False, outbox_retention_hours=24)
    runtime = ServiceRuntime(service("onboarding").module().SPEC, settings)  # type: ignore[attr-defined]
    try:
        async with runtime.unit_of_work() as uow:
            for _ in range(3):
                payload = sample_fund_opened()
                await uow.emit(payload, subject=str(payload.fund_id))
        conn_url = settings.database_url
        await fetch(
            conn_url,
            "UPDATE outbox_events SET published_at = now() - interval '25 hours' WHERE seq = 1",
        )
        await fetch(
            conn_url,
            "UPDATE outbox_events SET published_at = now() - interval '23 hours' WHERE seq = 2",
        )
        await runtime.relay._purge()
        left = await fetch(
            conn_url, "SELECT seq, published_at IS NULL AS pending FROM outbox_events"
        )
    finally:
        await runtime.close()
    assert sorted((r["seq"], r["pending"]) for r in left) == [(2, False), (3, True)]
    assert runtime.relay.stats.purged == 1
