"""The service's settings refuse periods shorter than the regulation's outside tests."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from subscription.settings import Settings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_jwks_url": "https://id.example/protocol/openid-connect/certs",
    "data_keys": "k1:" + base64.b64encode(bytes(range(32))).decode(),
}


def test_production_defaults_are_the_statutory_periods() -> None:
    settings = Settings(**PRODUCTION)
    assert settings.cooling_off_days == 8
    assert settings.cooling_off_test_period is None
    assert settings.payment_period == timedelta(days=7)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cooling_off_days": 7}, "cooling_off_days must be at least 8"),
        ({"cooling_off_test_period": timedelta(seconds=5)}, "for tests and development"),
        ({"payment_period": timedelta(hours=23)}, "payment_period must be at least 1 day"),
    ],
)
def test_production_refuses_short_periods(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**PRODUCTION, **overrides)


@pytest.mark.parametrize("environment", ["test", "development"])
def test_tests_and_development_may_shorten_them(environment: str) -> None:
    settings = Settings(
        environment=environment,
        cooling_off_days=1,
        cooling_off_test_period=timedelta(seconds=2),
        payment_period=timedelta(seconds=8),
    )
    assert settings.cooling_off_test_period == timedelta(seconds=2)
    assert settings.payment_period == timedelta(seconds=8)


@pytest.mark.parametrize(
    "overrides",
    [
        {"cooling_off_days": 0},
        {"cooling_off_days": 32},
        {"cooling_off_test_period": timedelta(0)},
        {"cooling_off_test_period": timedelta(days=2)},
        {"payment_period": timedelta(0)},
        {"payment_period": timedelta(days=31)},
        {"issuer_yearly_limit": -1},
    ],
)
def test_periods_and_limits_have_bounds_everywhere(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(environment="test", **overrides)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_renamed_cooling_off_period_is_refused_not_ignored(environment: str) -> None:
    values = PRODUCTION if environment == "production" else {"environment": "test"}
    with pytest.raises(ValidationError, match="cooling_off_period is no longer read"):
        Settings(**values, cooling_off_period=timedelta(days=8))


def test_the_renamed_setting_is_refused_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUBSCRIPTION_COOLING_OFF_PERIOD", "PT30S")
    with pytest.raises(ValidationError, match="cooling_off_days"):
        Settings(environment="test")
