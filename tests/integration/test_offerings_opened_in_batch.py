"""Openings handled as one batch put each fund on offer once, on its first opening's terms."""

from __future__ import annotations

import json
from datetime import timedelta

from helpers import SettingsFactory, fetch, offline_consumer
from kumiai.contracts.onboarding import FundOpenedV1
from kumiai.db import create_engine
from kumiai.events import Envelope, EventPayload, registry
from kumiai_tools.testing import sample_fund_opened
from subscription.handlers import HANDLERS


def _envelope(payload: EventPayload, subject: str, sequence: int) -> Envelope:
    return Envelope(
        type=payload.event_type,
        schema_version=payload.schema_version,
        source="onboarding",
        subject=subject,
        sequence=sequence,
        data=payload.model_dump(mode="json"),
    )


async def test_a_batch_of_openings_is_one_offering_per_fund(
    settings_for: SettingsFactory,
) -> None:
    settings = settings_for("subscription")
    engine = create_engine(settings.database_url, pool_size=2)
    consumer = offline_consumer(engine, settings.kafka_bootstrap_servers, HANDLERS, registry)
    current = sample_fund_opened(name="First terms")
    fund = str(current.fund_id)
    # The same fund announced again later in the batch: the first opening wins.
    again = sample_fund_opened(fund_id=current.fund_id, name="Second terms")
    older = sample_fund_opened(donation_per_unit=100)
    v1 = FundOpenedV1(
        fund_id=older.fund_id,
        msme_id=older.msme_id,
        name="Published before v2",
        unit_price=older.unit_price,
        handling_fee_per_unit=older.handling_fee_per_unit,
        units_offered=older.units_offered,
        formation_threshold_units=older.formation_threshold_units,
        max_units_per_investor=older.max_units_per_investor,
        offering_start=older.offering_start,
        offering_end=older.offering_end + timedelta(days=1),
    )
    batch = [
        _envelope(current, fund, 1),
        _envelope(v1, str(v1.fund_id), 1),
        _envelope(again, fund, 2),
    ]
    try:
        outcomes = await consumer.handle_many(batch)
        replayed = await consumer.handle_many(batch)
    finally:
        await engine.dispose()
    assert outcomes == ["handled"] * 3
    assert replayed == ["duplicate"] * 3
    rows = await fetch(
        settings.database_url,
        "SELECT fund_id, msme_id, name, currency, unit_price, handling_fee_per_unit,"
        " donation_per_unit, units_offered, units_sold, units_confirmed, investors,"
        " formation_threshold_units, max_units_per_investor, offering_start, offering_end,"
        " terms_digest, terms::text AS terms, status, opened_by_event"
        " FROM offerings WHERE fund_id = ANY($1::uuid[]) ORDER BY name",
        [current.fund_id, v1.fund_id],
    )
    first, before_v2 = (dict(row) for row in rows)
    assert first == {
        "fund_id": current.fund_id,
        "msme_id": current.msme_id,
        "name": "First terms",
        "currency": "JPY",
        "unit_price": current.unit_price,
        "handling_fee_per_unit": current.handling_fee_per_unit,
        "donation_per_unit": current.donation_per_unit,
        "units_offered": current.units_offered,
        "units_sold": 0,
        "units_confirmed": 0,
        "investors": 0,
        "formation_threshold_units": current.formation_threshold_units,
        "max_units_per_investor": current.max_units_per_investor,
        "offering_start": current.offering_start,
        "offering_end": current.offering_end,
        "terms_digest": current.terms_digest,
        "terms": first["terms"],
        "status": "open",
        "opened_by_event": batch[0].id,
    }
    assert json.loads(first["terms"]) == current.model_dump(mode="json")
    # A version 1 opening carried no donation, no digest and no terms to keep.
    assert before_v2["name"] == "Published before v2"
    assert before_v2["offering_end"] == v1.offering_end
    assert (before_v2["donation_per_unit"], before_v2["terms_digest"], before_v2["terms"]) == (
        0,
        None,
        None,
    )
    assert before_v2["opened_by_event"] == batch[1].id
