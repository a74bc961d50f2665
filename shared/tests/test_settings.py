"""Settings refuse unsafe values and read each service's own prefix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kumiai.settings import Environment, ServiceSettings

JWKS = "https://id.example/protocol/openid-connect/certs"


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)


def test_production_needs_the_identity_providers_keys() -> None:
    with pytest.raises(ValidationError, match="set jwt_jwks_url"):
        ServiceSettings(environment=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match="set jwt_jwks_url"):
        ServiceSettings(environment=Environment.PRODUCTION, jwt_secret="x" * 40)
    with pytest.raises(ValidationError, match="https"):
        ServiceSettings(environment=Environment.PRODUCTION, jwt_jwks_url="http://id.example/jwks")
    ok = ServiceSettings(environment=Environment.PRODUCTION, jwt_jwks_url=JWKS)
    assert ok.environment is Environment.PRODUCTION


def test_audience_and_lifetime_follow_the_kind_of_token() -> None:
    development = ServiceSettings(environment=Environment.DEVELOPMENT)
    assert development.token_audience("ledger") == "kumiai"
    assert development.token_max_lifetime_s == 24 * 3600
    provider = ServiceSettings(environment=Environment.PRODUCTION, jwt_jwks_url=JWKS)
    assert provider.token_audience("ledger") == "kumiai-ledger"
    assert provider.token_audience("subsidy") == "kumiai-subsidy"
    assert provider.token_max_lifetime_s == 3600
    set_ = ServiceSettings(jwt_jwks_url=JWKS, jwt_audience="api://ledger", jwt_max_lifetime_s=600)
    assert set_.token_audience("ledger") == "api://ledger"
    assert set_.token_max_lifetime_s == 600
    with pytest.raises(ValidationError, match="jwt_max_lifetime_s"):
        ServiceSettings(jwt_max_lifetime_s=2 * 24 * 3600)


def test_the_jwks_is_fetched_again_no_more_often_than_it_is_refreshed() -> None:
    with pytest.raises(ValidationError, match="must not exceed"):
        ServiceSettings(jwt_jwks_url=JWKS, jwt_jwks_refresh_s=10, jwt_jwks_min_refetch_s=60)


def test_partners_are_limited_outside_tests_unless_set() -> None:
    assert ServiceSettings(environment=Environment.DEVELOPMENT).partner_rate_limit == (20.0, 40)
    assert ServiceSettings(environment=Environment.TEST).partner_rate_limit is None
    assert ServiceSettings(
        environment=Environment.TEST, partner_rate_per_s=2, partner_burst=3
    ).partner_rate_limit == (2.0, 3)
    with pytest.raises(ValidationError, match="partner_rate_per_s"):
        ServiceSettings(partner_rate_per_s=0)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        ServiceSettings(jwt_secret="short")


def test_each_service_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql+asyncpg://u@db:5432/kumiai_example")
    monkeypatch.setenv("OTHER_DATABASE_URL", "postgresql+asyncpg://u@db:5432/other")
    monkeypatch.setenv("EXAMPLE_TOPIC_NAMESPACE", "staging")
    settings = ExampleSettings()
    assert settings.database_url.endswith("/kumiai_example")
    assert settings.topic_namespace == "staging"


def test_topic_namespace_is_a_safe_name() -> None:
    with pytest.raises(ValidationError, match="topic_namespace"):
        ServiceSettings(topic_namespace="../etc")
