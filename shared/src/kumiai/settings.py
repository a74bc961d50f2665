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
DEVELOPMENT_AUDIENCE = "kumiai"
"""The audience of development tokens (``kumiai token``), the same for every service."""
DEFAULT_PARTNER_RATE_PER_S = 20.0
MIN_PARTNER_CALLS_RETENTION_DAYS = 30
"""A month of partner calls is always kept, to answer a partner about what it did."""


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

    jwt_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_JWT_SECRET),
        description="HS256 secret of development tokens (``make run``, ``kumiai token``); "
        "never used when a JWKS URL is set, refused in production",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="The identity provider's JWKS URL; required (https) in production",
    )
    jwt_jwks_refresh_s: float = Field(
        default=300.0,
        gt=0,
        description="Keys are fetched again when older than this: a key removed from the "
        "JWKS stops being accepted within it",
    )
    jwt_jwks_min_refetch_s: float = Field(
        default=30.0,
        ge=0,
        description="At most one fetch of the JWKS per this many seconds, however many "
        "tokens name a key not seen yet (a flood of forged kids never hammers the provider)",
    )
    jwt_jwks_timeout_s: float = Field(
        default=3.0, gt=0, le=30, description="Longest wait for the JWKS URL to answer"
    )
    jwt_issuer: str = "kumiai"
    jwt_audience: str | None = Field(
        default=None,
        description="The audience a token must name; default kumiai-<service> with a JWKS "
        "URL (a token for one service is refused by the others), kumiai without",
    )
    jwt_role_claim: str = Field(
        default="role",
        min_length=1,
        description="The claim holding the caller's role (an identity provider may put it "
        "under a namespaced name)",
    )
    jwt_tenant_claim: str = Field(
        default="tenant", min_length=1, description="The claim holding the caller's tenant"
    )
    jwt_leeway_s: int = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, iat and nbf"
    )
    jwt_max_lifetime_s: int | None = Field(
        default=None,
        gt=0,
        le=24 * 3600,
        description="Tokens living longer than this (exp - iat) are refused; default 1 hour "
        "with a JWKS URL, 24 hours for development tokens",
    )

    partner_rate_per_s: float | None = Field(
        default=None,
        gt=0,
        description="Requests per second each bank or municipality may make to one instance "
        "of the service; default 20, and no limit in the test environment",
    )
    partner_burst: int = Field(
        default=40, ge=1, description="Requests a partner may make at once above its rate"
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body read; larger ones are answered 413 before parsing",
    )

    run_workers: bool = True
    relay_poll_interval_s: float = Field(
        default=0.02,
        gt=0,
        description="How long the relay waits before looking at the outbox again when it "
        "found nothing: the longest an event waits to be published (a near-empty indexed read)",
    )
    relay_batch_size: int = Field(default=500, ge=1)
    broker_check_interval_s: float = Field(default=1.0, gt=0)
    outbox_retention_hours: float = Field(default=7 * 24, gt=0)
    partner_calls_retention_days: int = Field(
        default=400,
        ge=MIN_PARTNER_CALLS_RETENTION_DAYS,
        description="Days each partner call is kept in partner_calls (a year, and a margin "
        "to answer about it); older lines are deleted",
    )
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_max_records: int = Field(
        default=1_000,
        ge=1,
        le=10_000,
        description="Events fetched at most at once; a fetch is handled in one transaction",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=50,
        ge=1,
        le=5_000,
        description="How long the broker may hold a fetch that found nothing new: the "
        "longest an event waits on the broker before the consumer sees it",
    )
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    consumer_session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        le=300_000,
        description="A consumer not heard from for this long leaves its group; joining a "
        "group takes up to half of it (Apache Kafka accepts 6,000 at least by default)",
    )

    log_level: str = "INFO"

    def token_audience(self, service: str | None) -> str:
        """The audience this service's tokens must name."""
        if self.jwt_audience is not None:
            return self.jwt_audience
        if self.jwt_jwks_url is None:
            return DEVELOPMENT_AUDIENCE
        if service is None:
            raise ValueError("with a JWKS URL, name the service or set jwt_audience")
        return f"kumiai-{service}"

    @property
    def token_max_lifetime_s(self) -> int:
        """The longest a token may live (exp - iat)."""
        if self.jwt_max_lifetime_s is not None:
            return self.jwt_max_lifetime_s
        return 3600 if self.jwt_jwks_url is not None else 24 * 3600

    @property
    def partner_rate_limit(self) -> tuple[float, int] | None:
        """Each partner's rate (per second) and burst, or ``None`` for no limit."""
        if self.partner_rate_per_s is not None:
            return self.partner_rate_per_s, self.partner_burst
        if self.environment is Environment.TEST:
            # The suite's load tests drive one bank at hundreds of requests a second; a
            # test of the limit sets it.
            return None
        return DEFAULT_PARTNER_RATE_PER_S, self.partner_burst

    @model_validator(mode="after")
    def _refuse_development_credentials_in_production(self) -> ServiceSettings:
        if self.environment is Environment.PRODUCTION:
            if self.jwt_jwks_url is None:
                raise ValueError(
                    "production verifies tokens from the identity provider: set jwt_jwks_url "
                    "(the development secret is for development and tests only)"
                )
            if not self.jwt_jwks_url.startswith("https://"):
                raise ValueError("jwt_jwks_url must be an https URL in production")
        if self.jwt_jwks_url is not None and not self.jwt_jwks_url.startswith(
            ("https://", "http://")
        ):
            raise ValueError("jwt_jwks_url must be an http(s) URL")
        if self.jwt_jwks_url is None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("jwt_secret must be at least 32 characters")
        if self.jwt_jwks_min_refetch_s > self.jwt_jwks_refresh_s:
            raise ValueError("jwt_jwks_min_refetch_s must not exceed jwt_jwks_refresh_s")
        return self
