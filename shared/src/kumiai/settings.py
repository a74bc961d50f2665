"""Settings from the environment, one class per service.

Every service reads its own prefix (``ONBOARDING_DATABASE_URL``...), so one
machine can run all five with different databases and nothing is guessed from
a shared variable.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "kumiai-development-secret-change-me-0123456789"  # noqa: S105


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """What every service needs: its database, the broker, auth and worker tuning."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kumiai"
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="Connections per process for requests; relay and consumer get theirs on top",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_namespace: str = Field(default="kumiai", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "kumiai"
    jwt_audience: str = "kumiai"
    jwt_leeway_s: int = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, iat and nbf"
    )
    jwt_max_lifetime_s: int = Field(
        default=24 * 3600,
        gt=0,
        description="Tokens living longer than this (exp - iat) are refused",
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body read; larger ones are answered 413 before parsing",
    )

    run_workers: bool = True
    relay_poll_interval_s: float = Field(default=0.1, gt=0)
    relay_batch_size: int = Field(default=500, ge=1)
    broker_check_interval_s: float = Field(default=1.0, gt=0)
    outbox_retention_hours: float = Field(default=7 * 24, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_development_secret_in_production(self) -> ServiceSettings:
        if (
            self.environment is Environment.PRODUCTION
            and self.jwt_jwks_url is None
            and self.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
        ):
            raise ValueError(
                "jwt_secret is the development default; set a secret or a JWKS URL in production"
            )
        if self.jwt_jwks_url is None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("jwt_secret must be at least 32 characters")
        return self
