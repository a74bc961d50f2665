"""Per-partner rate limits: a token bucket for each bank and municipality.

Each partner (role and id) may make ``rate_per_s`` requests a second on
average and ``burst`` at once; past that it is answered 429 ``rate-limited``
with ``Retry-After`` (whole seconds, at least 1). Staff, businesses, investors
and the platform's services are not limited here.

The buckets live in each service process: with N replicas a partner may make N
times the rate in all. That is accepted on purpose. The limit is there to keep
one partner's runaway batch job from crowding out the others, not to meter a
contract, so a bound that scales with the replicas serving the load still does
its work; a shared bucket in PostgreSQL would put a write on every partner
request (the very load the limit guards against) and make the database a point
every request waits on. The check comes after the token's signature and before
the registry lookup, so a flood is refused before it reaches the database; the
tenants come from signed tokens, and the buckets kept are bounded all the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import structlog

from kumiai.principal import PARTNER_ROLES, Principal
from kumiai.problems import RateLimited

log = structlog.get_logger(__name__)


class TokenBuckets:
    """Token buckets by key: ``take`` spends one token or says how long until one is free."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        """key -> (tokens left, when they were counted)."""

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0 if there was one, else the seconds
        until there will be."""
        now = self._clock()
        tokens, counted_at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - counted_at) * self._rate)
        if tokens >= 1.0:
            if key not in self._buckets and len(self._buckets) >= self._max_keys:
                # Forgetting full buckets only ever gives a partner its burst back.
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self._burst}
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate


def retry_after_s(wait_s: float) -> int:
    """``Retry-After`` for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait_s))


class PartnerRateLimit:
    """The limit every bank and municipality token is held to in one service process."""

    def __init__(
        self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets = TokenBuckets(rate_per_s=rate_per_s, burst=burst, clock=clock)

    def check(self, principal: Principal) -> None:
        """Count one request of ``principal``; ``RateLimited`` (429) if its partner is over."""
        if principal.role not in PARTNER_ROLES:
            return
        wait = self._buckets.take(f"{principal.role.value}/{principal.tenant}")
        if wait > 0:
            log.info("partner rate-limited", role=principal.role.value, partner=principal.tenant)
            raise RateLimited(
                f"{principal.role.value} {principal.tenant!r} is over its request rate; "
                "retry after the time in Retry-After",
                retry_after_s=retry_after_s(wait),
            )
