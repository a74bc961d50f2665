"""Per-partner rate limits: token buckets, and who is held to them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.errors import RateLimited
from kumiai.principal import Principal, Role
from kumiai.ratelimit import PartnerRateLimit, TokenBuckets, retry_after_s


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=2, burst=5, clock=clock)
    assert [buckets.take("a") for _ in range(5)] == [0.0] * 5
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 10
    assert [buckets.take("a") for _ in range(5)] == [0.0] * 5, "refilled up to the burst only"
    assert buckets.take("a") > 0


def test_buckets_are_per_key() -> None:
    buckets = TokenBuckets(rate_per_s=1, burst=1, clock=Clock())
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0


@given(st.floats(min_value=1e-9, max_value=1e6, allow_nan=False))
def test_retry_after_is_whole_seconds_never_early_and_at_least_one(wait: float) -> None:
    after = retry_after_s(wait)
    assert isinstance(after, int)
    assert after >= 1
    assert after >= wait
    assert after < wait + 1 or after == 1


def test_refused_requests_do_not_spend_tokens() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=1, burst=1, clock=clock)
    buckets.take("a")
    for _ in range(100):
        buckets.take("a")
    clock.now += 1
    assert buckets.take("a") == 0.0, "hammering while refused does not push the wait out"


BANK = Principal(subject="api", role=Role.BANK, tenant="hokkaido-bank")
OTHER_BANK = Principal(subject="api", role=Role.BANK, tenant="other-bank")
TOWN = Principal(subject="api", role=Role.MUNICIPALITY, tenant="012025")
STAFF = Principal(subject="ops", role=Role.STAFF, tenant="platform")


def test_a_partner_over_its_rate_is_refused_with_retry_after() -> None:
    clock = Clock()
    limit = PartnerRateLimit(rate_per_s=0.25, burst=2, clock=clock)
    limit.check(BANK)
    limit.check(BANK)
    with pytest.raises(RateLimited) as refused:
        limit.check(BANK)
    assert refused.value.status == 429
    assert refused.value.problem == "rate-limited"
    assert refused.value.response_headers()["Retry-After"] == "4"
    # Another partner, another kind of partner, and staff are not affected.
    limit.check(OTHER_BANK)
    limit.check(TOWN)
    for _ in range(1000):
        limit.check(STAFF)
    clock.now += 4
    limit.check(BANK)
