"""Settings refuse unsafe values and read each service's own prefix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from kumiai.settings import Environment, ServiceSettings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="development default"):
        ServiceSettings(environment=Environment.PRODUCTION)
    ok = ServiceSettings(environment=Environment.PRODUCTION, jwt_secret="x" * 40)
    assert ok.environment is Environment.PRODUCTION


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
