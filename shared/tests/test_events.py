"""The envelope, the registry and the FundOpened contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from kumiai.contracts.onboarding import FundOpened, FundOpenedV1, FundOpenedV2, RevenueShareV2
from kumiai.events import Envelope, EventPayload, EventRegistry, UnknownEventError, registry
from kumiai_tools.testing import sample_fund_opened


def fund_opened(**overrides: Any) -> dict[str, Any]:
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    data: dict[str, Any] = {
        "fund_id": str(uuid.uuid4()),
        "msme_id": str(uuid.uuid4()),
        "name": "Tanka orchard",
        "currency": "JPY",
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "units_offered": 100,
        "formation_threshold_units": 40,
        "max_units_per_investor": 10,
        "offering_start": start.isoformat(),
        "offering_end": (start + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_envelope_round_trips_through_bytes() -> None:
    envelope = Envelope(
        type="FundOpened",
        schema_version=1,
        source="onboarding",
        subject="fund-1",
        sequence=3,
        correlation_id="req-1",
        causation_id=uuid.uuid4(),
        data=fund_opened(),
    )
    again = Envelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert again.time.tzinfo is not None


def test_envelope_requires_a_positive_sequence() -> None:
    with pytest.raises(ValidationError, match="sequence"):
        Envelope(type="X", schema_version=1, source="s", subject="x", sequence=0, data={})


def test_registry_resolves_the_payload_model() -> None:
    envelope = Envelope(
        type="FundOpened",
        schema_version=1,
        source="onboarding",
        subject="f",
        sequence=1,
        data=fund_opened(),
    )
    payload = registry.payload(envelope)
    current = sample_fund_opened()
    data = current.model_dump(mode="json")
    v3 = registry.payload(envelope.model_copy(update={"schema_version": 3, "data": data}))
    del data["revenue_share"]["threshold_basis"]
    v2 = registry.payload(envelope.model_copy(update={"schema_version": 2, "data": data}))
    assert isinstance(payload, FundOpenedV1)
    assert payload.unit_price == 10_000
    assert v3 == current
    assert isinstance(v3, FundOpened)
    # A v2 opening has every term but the threshold's basis (per period, then).
    assert type(v2) is FundOpenedV2
    assert v2.revenue_share == RevenueShareV2(**data["revenue_share"])
    with pytest.raises(UnknownEventError, match="FundOpened v9"):
        registry.model_for("FundOpened", 9)


def test_a_type_and_version_is_registered_once() -> None:
    local = EventRegistry()

    class Thing(EventPayload):
        event_type = "ThingHappened"

    class Other(EventPayload):
        event_type = "ThingHappened"

    local.register(Thing)
    local.register(Thing)  # the same class again is harmless
    with pytest.raises(ValueError, match="already registered"):
        local.register(Other)
    assert local.models() == [Thing]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"formation_threshold_units": 101}, "threshold exceeds"),
        ({"offering_end": "2026-11-01T00:00:00+00:00"}, "end after it starts"),
        ({"unit_price": 0}, "greater than 0"),
        ({"unit_price": 10_000.5}, "unit_price"),
        ({"currency": "jpy"}, "currency"),
        ({"extra_field": 1}, "extra"),
    ],
)
def test_fund_opened_refuses_inconsistent_terms(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FundOpenedV1.model_validate(fund_opened(**overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"donation_per_unit": 10_000}, "investment part"),
        ({"max_units_per_investor": 1_001}, "maximum per investor"),
        ({"municipality_code": "12345"}, "municipality_code"),
        ({"terms_digest": "x" * 64}, "terms_digest"),
        ({"offering_start": "2026-12-01T10:00:00"}, "timezone"),
    ],
)
def test_fund_opened_v2_refuses_inconsistent_terms(overrides: dict[str, Any], message: str) -> None:
    data = sample_fund_opened().model_dump(mode="json") | overrides
    with pytest.raises(ValidationError, match=message):
        FundOpened.model_validate(data)


def test_fund_opened_v2_refuses_an_arrangement_fee_a_formed_fund_cannot_pay() -> None:
    current = sample_fund_opened()
    data = current.model_dump(mode="json")
    data["fees"]["arrangement_fee"] = 300 * 10_000 + 1
    with pytest.raises(ValidationError, match="arrangement fee exceeds"):
        FundOpened.model_validate(data)


# Events that state what has come to be rather than what was done; the names are the
# ones partners were promised.
STATE_EVENTS = frozenset({"DisclosureOverdue"})


def test_every_registered_event_is_past_tense_and_versioned() -> None:
    for model in registry.models():
        assert model.event_type[0].isupper()
        past = model.event_type.endswith(("ed", "Opened", "Paid"))
        assert past or model.event_type in STATE_EVENTS, model.event_type
        assert model.schema_version >= 1
        assert model.__doc__, f"{model.event_type} needs a docstring"


def test_asyncapi_document_lists_every_contract() -> None:
    from kumiai_tools.asyncapi import asyncapi_document

    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["onboarding"]["address"] == "kumiai.onboarding.events"
    message = doc["components"]["messages"]["FundOpenedV1"]
    assert message["name"] == "FundOpened"
    data = doc["components"]["schemas"]["FundOpenedV1"]
    assert {"fund_id", "unit_price", "units_offered"} <= set(data["required"])
    current = doc["components"]["schemas"]["FundOpenedV2"]
    assert {"fees", "revenue_share", "terms_digest"} <= set(current["required"])
    assert len(doc["components"]["messages"]) == len(registry.models())
