"""The subscription and ledger contracts: round trips, validators and the AsyncAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import AwareDatetime, ValidationError

from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayoutsInstructed,
    FundsReleased,
    PaymentReceived,
    PayoutInstructed,
    RefundIssued,
    RefundReason,
    SubsidyPaid,
)
from kumiai.contracts.subscription import (
    CancellationReason,
    DistributionAllocated,
    DividendDeclared,
    DividendDeclaredV1,
    FundClosed,
    FundOutcome,
    SubscriptionCancelled,
    SubscriptionConfirmed,
    SubscriptionPlaced,
)
from kumiai.contracts.subsidy import RevocationReason, SubsidyGranted, SubsidyRevoked
from kumiai.events import Envelope, EventPayload, registry
from kumiai_tools.asyncapi import asyncapi_document, producer_of

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
NAIVE = "2026-12-01T10:00:00"


def _id() -> str:
    return str(uuid.uuid4())


def subscription_placed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subscription_id": _id(),
        "fund_id": _id(),
        "investor_id": _id(),
        "units": 3,
        "unit_price": 10_000,
        "handling_fee_per_unit": 500,
        "amount_due": 31_500,
        "currency": "JPY",
        "payment_reference": "KM-2026-000123",
        "payment_deadline": (AT + timedelta(days=7)).isoformat(),
        "placed_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def subscription_cancelled(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subscription_id": _id(),
        "fund_id": _id(),
        "investor_id": _id(),
        "units": 3,
        "reason": "cooling_off",
        "cancelled_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def subscription_confirmed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subscription_id": _id(),
        "fund_id": _id(),
        "investor_id": _id(),
        "units": 3,
        "amount_paid": 31_500,
        "currency": "JPY",
        "confirmed_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def fund_closed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "msme_id": _id(),
        "outcome": "succeeded",
        "units_confirmed": 60,
        "amount_raised": 600_000,
        "handling_fees_collected": 30_000,
        "currency": "JPY",
        "investor_count": 14,
        "closed_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def payment_received(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "deposit_id": _id(),
        "subscription_id": _id(),
        "fund_id": _id(),
        "investor_id": _id(),
        "amount": 31_500,
        "currency": "JPY",
        "value_date": "2026-12-02",
        "bank_id": "0009",
        "received_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def funds_released(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "msme_id": _id(),
        "gross_amount": 630_000,
        "fees_amount": 30_000,
        "net_amount": 600_000,
        "currency": "JPY",
        "entry_id": _id(),
        "released_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def refund_issued(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "refund_id": _id(),
        "fund_id": _id(),
        "investor_id": _id(),
        "subscription_id": _id(),
        "amount": 31_500,
        "currency": "JPY",
        "reason": "fund_failed",
        "entry_id": _id(),
        "issued_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def payout_instructed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payout_id": _id(),
        "fund_id": _id(),
        "beneficiary": "investor",
        "beneficiary_id": _id(),
        "bank_id": "hokkaido-bank",
        "amount": 31_500,
        "currency": "JPY",
        "instructed_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def dividend_declared(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "msme_id": _id(),
        "period_number": 3,
        "period_start": "2027-04-01",
        "period_end": "2028-03-31",
        "sales": 5_000_000,
        "adjustment": 0,
        "cumulative_sales": 8_800_000,
        "distributable_sales": 4_000_000,
        "below_recoup": 1_333_334,
        "above_recoup": 2_666_666,
        "distributable_amount": 66_666,
        "units": 10,
        "per_unit": 6_666,
        "retained": 6,
        "success_fee": 53_333,
        "investor_count": 2,
        "total_gross": 66_660,
        "total_tax": 4_422,
        "total_net": 62_238,
        "fees": [
            {
                "kind": "operation",
                "fiscal_year": 2028,
                "fiscal_year_start": "2027-04-01",
                "fiscal_year_end": "2028-03-31",
                "amount": 60_000,
            },
            {
                "kind": "audit",
                "fiscal_year": 2028,
                "fiscal_year_start": "2027-04-01",
                "fiscal_year_end": "2028-03-31",
                "amount": 100_000,
            },
        ],
        "fees_total": 160_000,
        "business_owes": 279_993,
        "currency": "JPY",
        "payment_reference": "KM2N6Q8R4T7W",
        "payment_due": "2028-06-30",
        "batches": 1,
        "matures": False,
        "declared_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def dividend_declared_v1(**overrides: Any) -> dict[str, Any]:
    data = dividend_declared(business_owes=119_993)
    del data["fees"], data["fees_total"]
    data.update(overrides)
    return data


def distribution_payouts_instructed(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "period_number": 3,
        "bank_id": "bank-a",
        "batch": 1,
        "payouts": [{"payout_id": _id(), "investor_id": _id(), "amount": 18_672}],
        "currency": "JPY",
        "instructed_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def distribution_paid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "msme_id": _id(),
        "period_number": 3,
        "bank_id": "bank-a",
        "deposit_id": _id(),
        "investor_count": 2,
        "payout_count": 2,
        "total_gross": 66_660,
        "total_tax": 4_422,
        "total_net": 62_238,
        "success_fee": 53_333,
        "fees_settled": 160_000,
        "currency": "JPY",
        "paid_on": "2028-06-12",
        "paid_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def subsidy_paid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "award_id": _id(),
        "fund_id": _id(),
        "municipality_code": "012025",
        "amount": 800_000,
        "currency": "JPY",
        "deposit_id": _id(),
        "bank_id": "bank-a",
        "value_date": "2026-12-01",
        "entry_id": _id(),
        "paid_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def subsidy_granted(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "award_id": _id(),
        "programme_id": _id(),
        "municipality_code": "012025",
        "fiscal_year": 2026,
        "fund_id": _id(),
        "msme_id": _id(),
        "application_id": _id(),
        "arrangement_fee": 900_000,
        "amount": 800_000,
        "currency": "JPY",
        "payment_reference": "KM7Q2XH9A4",
        "lapses_if_fund_fails": True,
        "granted_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def subsidy_revoked(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "award_id": _id(),
        "programme_id": _id(),
        "municipality_code": "012025",
        "fund_id": _id(),
        "msme_id": _id(),
        "amount": 800_000,
        "currency": "JPY",
        "reason": RevocationReason.LAPSED.value,
        "revoked_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


def distribution_allocated(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fund_id": _id(),
        "period_number": 3,
        "batch": 1,
        "batches": 1,
        "lines": [
            {
                "investor_id": _id(),
                "units": 3,
                "gross": 19_998,
                "tax": 1_326,
                "net": 18_672,
                "cumulative_gross": 37_998,
            }
        ],
        "allocated_at": AT.isoformat(),
    }
    data.update(overrides)
    return data


EXAMPLES: dict[type[EventPayload], Callable[..., dict[str, Any]]] = {
    SubscriptionPlaced: subscription_placed,
    SubscriptionCancelled: subscription_cancelled,
    SubscriptionConfirmed: subscription_confirmed,
    FundClosed: fund_closed,
    DividendDeclared: dividend_declared,
    DividendDeclaredV1: dividend_declared_v1,
    DistributionAllocated: distribution_allocated,
    PaymentReceived: payment_received,
    FundsReleased: funds_released,
    RefundIssued: refund_issued,
    PayoutInstructed: payout_instructed,
    DistributionPayoutsInstructed: distribution_payouts_instructed,
    DistributionPaid: distribution_paid,
    SubsidyPaid: subsidy_paid,
    SubsidyGranted: subsidy_granted,
    SubsidyRevoked: subsidy_revoked,
}
NEW_EVENTS = list(EXAMPLES)
PRODUCERS: dict[type[EventPayload], str] = {
    SubscriptionPlaced: "subscription",
    SubscriptionCancelled: "subscription",
    SubscriptionConfirmed: "subscription",
    FundClosed: "subscription",
    DividendDeclared: "subscription",
    DividendDeclaredV1: "subscription",
    DistributionAllocated: "subscription",
    PaymentReceived: "ledger",
    FundsReleased: "ledger",
    RefundIssued: "ledger",
    PayoutInstructed: "ledger",
    DistributionPayoutsInstructed: "ledger",
    DistributionPaid: "ledger",
    SubsidyPaid: "ledger",
    SubsidyGranted: "subsidy",
    SubsidyRevoked: "subsidy",
}
DATETIME_FIELDS = [
    (model, name)
    for model in NEW_EVENTS
    for name, field in model.model_fields.items()
    if field.annotation in (datetime, AwareDatetime)  # a plain datetime must fail below
]


def test_every_subscription_ledger_and_subsidy_event_has_an_example() -> None:
    produced = {
        m for m in registry.models() if producer_of(m) in {"subscription", "ledger", "subsidy"}
    }
    assert produced == set(EXAMPLES)
    assert {m: producer_of(m) for m in NEW_EVENTS} == PRODUCERS


@pytest.mark.parametrize("model", NEW_EVENTS, ids=lambda m: m.event_type)
def test_event_round_trips_through_the_envelope(model: type[EventPayload]) -> None:
    payload = model.model_validate(EXAMPLES[model]())
    envelope = Envelope(
        type=model.event_type,
        schema_version=model.schema_version,
        source=producer_of(model),
        subject=str(payload.fund_id),  # type: ignore[attr-defined]
        sequence=1,
        data=payload.model_dump(mode="json"),
    )
    again = Envelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    decoded = registry.payload(again)
    assert type(decoded) is model
    assert decoded == payload
    assert registry.model_for(model.event_type, model.schema_version) is model


def test_decoded_values_keep_their_types() -> None:
    placed = SubscriptionPlaced.model_validate(subscription_placed())
    assert placed.amount_due == 31_500
    assert isinstance(placed.subscription_id, uuid.UUID)
    assert placed.placed_at == AT
    cancelled = SubscriptionCancelled.model_validate(subscription_cancelled(reason="unpaid"))
    assert cancelled.reason is CancellationReason.UNPAID
    closed = FundClosed.model_validate(fund_closed())
    assert closed.outcome is FundOutcome.SUCCEEDED
    refund = RefundIssued.model_validate(refund_issued())
    assert refund.reason is RefundReason.FUND_FAILED
    assert str(PaymentReceived.model_validate(payment_received()).value_date) == "2026-12-02"


@pytest.mark.parametrize(
    ("model", "overrides", "message"),
    [
        (SubscriptionPlaced, {"amount_due": 30_000}, r"amount_due 30000 does not equal .* 31500"),
        (SubscriptionPlaced, {"handling_fee_per_unit": 0}, r"does not equal .* = 30000"),
        (SubscriptionPlaced, {"units": 0}, "units\n  Input should be greater than 0"),
        (SubscriptionPlaced, {"unit_price": 0}, "unit_price\n  Input should be greater than 0"),
        (SubscriptionPlaced, {"handling_fee_per_unit": -1}, "greater than or equal to 0"),
        (SubscriptionPlaced, {"units": 2.5}, "units\n  Input should be a valid integer"),
        (SubscriptionPlaced, {"payment_reference": ""}, "at least 1 character"),
        (SubscriptionPlaced, {"payment_reference": "R" * 65}, "at most 64 characters"),
        (
            SubscriptionPlaced,
            {"payment_deadline": AT.isoformat()},
            "deadline must be after the subscription is placed",
        ),
        (SubscriptionPlaced, {"currency": "yen"}, "currency\n  String should match pattern"),
        (SubscriptionPlaced, {"investor_name": "X"}, "Extra inputs are not permitted"),
        (SubscriptionPlaced, {"investor_id": "investor-1"}, "investor_id\n  Input should be"),
        (SubscriptionCancelled, {"units": 0}, "greater than 0"),
        (SubscriptionCancelled, {"reason": "changed_mind"}, "Input should be 'cooling_off'"),
        (SubscriptionConfirmed, {"amount_paid": 0}, "amount_paid\n  Input should be greater"),
        (SubscriptionConfirmed, {"units": -1}, "units\n  Input should be greater than 0"),
        (
            FundClosed,
            {"units_confirmed": 0, "amount_raised": 0, "handling_fees_collected": 0},
            r"succeeded fund must have units_confirmed > 0",
        ),
        (FundClosed, {"outcome": "partial"}, "Input should be 'succeeded' or 'failed'"),
        (FundClosed, {"investor_count": 61}, "investor_count cannot exceed units_confirmed"),
        (FundClosed, {"investor_count": 0}, "confirmed units need at least one investor"),
        (
            FundClosed,
            {"outcome": "failed", "units_confirmed": 0, "investor_count": 0},
            "amounts must be zero when no units are confirmed",
        ),
        (FundClosed, {"amount_raised": -1}, "amount_raised\n  Input should be greater than or"),
        (PaymentReceived, {"amount": 0}, "amount\n  Input should be greater than 0"),
        (PaymentReceived, {"bank_id": ""}, "bank_id\n  String should have at least 1"),
        (PaymentReceived, {"value_date": "2026-13-01"}, "value_date\n  Input should be a valid"),
        (PaymentReceived, {"subscription_id": None}, "subscription_id\n  UUID input should"),
        (
            FundsReleased,
            {"net_amount": 599_999},
            r"gross_amount 630000 does not equal fees_amount \+ net_amount = 629999",
        ),
        (FundsReleased, {"gross_amount": 0}, "gross_amount\n  Input should be greater than 0"),
        (FundsReleased, {"fees_amount": -1}, "fees_amount\n  Input should be greater than or"),
        (RefundIssued, {"amount": 0}, "amount\n  Input should be greater than 0"),
        (RefundIssued, {"reason": "goodwill"}, "Input should be 'subscription_cancelled'"),
        (
            RefundIssued,
            {"reason": "subscription_cancelled", "subscription_id": None},
            "a subscription_cancelled refund must name its subscription_id",
        ),
        (
            RefundIssued,
            {"subscription_id": None},
            "a fund_failed refund must name its subscription_id",
        ),
        (SubsidyGranted, {"amount": 900_001}, "a grant pays at most the arrangement fee"),
        (SubsidyGranted, {"municipality_code": "12025"}, "municipality_code\n  String should"),
        (SubsidyGranted, {"fiscal_year": 1999}, "fiscal_year\n  Input should be greater"),
        (SubsidyRevoked, {"reason": "expired"}, "Input should be 'revoked' or 'lapsed'"),
        (SubsidyRevoked, {"amount": 0}, "amount\n  Input should be greater than 0"),
        (SubsidyPaid, {"amount": 0}, "amount\n  Input should be greater than 0"),
    ],
)
def test_validators_refuse_bad_values(
    model: type[EventPayload], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(EXAMPLES[model](**overrides))


@pytest.mark.parametrize(
    ("model", "overrides"),
    [
        (FundClosed, {"outcome": "failed"}),
        (
            FundClosed,
            {
                "outcome": "failed",
                "units_confirmed": 0,
                "amount_raised": 0,
                "handling_fees_collected": 0,
                "investor_count": 0,
            },
        ),
        (FundClosed, {"units_confirmed": 1, "investor_count": 1}),
        (SubscriptionPlaced, {"handling_fee_per_unit": 0, "amount_due": 30_000}),
        (FundsReleased, {"gross_amount": 600_000, "fees_amount": 0}),
        (RefundIssued, {"reason": "deposit_returned", "subscription_id": None}),
        (SubsidyGranted, {"amount": 900_000}),
    ],
)
def test_edge_cases_that_are_allowed(model: type[EventPayload], overrides: dict[str, Any]) -> None:
    payload = model.model_validate(EXAMPLES[model](**overrides))
    for name, value in overrides.items():
        dumped = payload.model_dump(mode="json")[name]
        assert dumped == value


def test_every_new_event_has_a_timestamp() -> None:
    assert {model for model, _ in DATETIME_FIELDS} == set(NEW_EVENTS)
    assert (SubscriptionPlaced, "payment_deadline") in DATETIME_FIELDS


@pytest.mark.parametrize(
    ("model", "field"), DATETIME_FIELDS, ids=lambda v: getattr(v, "event_type", v)
)
def test_naive_datetimes_are_refused(model: type[EventPayload], field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}\n  Input should have timezone info"):
        model.model_validate(EXAMPLES[model](**{field: NAIVE}))


def test_every_registered_event_documents_its_subject() -> None:
    for model in registry.models():
        doc = model.__doc__ or ""
        assert "Subject:" in doc, f"{model.event_type} must say what its subject is"
        summary = doc.strip().splitlines()[0]
        assert summary.endswith("."), f"{model.event_type}: one-sentence summary first"
    for model in NEW_EVENTS:
        subject = "Subject: the fund id" + ("" if model is PayoutInstructed else ".")
        assert subject in (model.__doc__ or ""), model.event_type


def test_new_events_carry_no_personal_data() -> None:
    personal = ("name", "address", "account", "email", "phone", "birth", "holder")
    for model in NEW_EVENTS:
        for field in model.model_fields:
            assert not any(word in field for word in personal), f"{model.event_type}.{field}"


def test_asyncapi_has_the_subscription_ledger_and_subsidy_channels() -> None:
    doc = asyncapi_document()
    schemas = doc["components"]["schemas"]
    for service in ("subscription", "ledger", "subsidy"):
        channel = doc["channels"][service]
        assert channel["address"] == f"kumiai.{service}.events"
        expected = {
            f"{m.event_type}V{m.schema_version}" for m, s in PRODUCERS.items() if s == service
        }
        assert set(channel["messages"]) == expected
        assert doc["operations"][f"{service}Publishes"]["channel"] == {
            "$ref": f"#/channels/{service}"
        }
        for name in expected:
            assert channel["messages"][name] == {"$ref": f"#/components/messages/{name}"}
            message = doc["components"]["messages"][name]
            assert message["summary"].endswith(".")
            data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
            assert data_ref.rsplit("/", 1)[-1] in schemas
    placed = schemas["SubscriptionPlacedV1"]
    assert {"amount_due", "payment_reference", "payment_deadline"} <= set(placed["required"])
    assert placed["properties"]["payment_reference"]["maxLength"] == 64
    assert schemas["CancellationReason"]["enum"] == [r.value for r in CancellationReason]
    assert schemas["FundOutcome"]["enum"] == ["succeeded", "failed"]
    assert schemas["RefundReason"]["enum"] == [
        "subscription_cancelled",
        "fund_failed",
        "deposit_returned",
    ]
    assert schemas["FundClosedV1"]["properties"]["outcome"] == {
        "$ref": "#/components/schemas/FundOutcome"
    }
