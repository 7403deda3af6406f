"""The cache-based rate limiter used by the API (and reusable by any endpoint)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from gongzhi.core.ratelimit import Rate, RateLimited, ensure_within_rate, parse_rate, rate_limit_hit


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/minute", Rate(20, 60)),
        ("5/second", Rate(5, 1)),
        ("100/5minutes", Rate(100, 300)),
        ("1/day", Rate(1, 86400)),
    ],
)
def test_rates_are_parsed(text: str, rate: Rate) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["20", "x/minute", "20/fortnight", ""])
def test_malformed_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(text)


@override_settings(RATE_LIMITS={"api_token": "2/minute"})
def test_the_limit_counts_per_key_and_resets_with_the_window() -> None:
    start = 6000.0  # a window boundary (a multiple of 60)

    assert rate_limit_hit(name="api_token", key="10.0.0.1", now=start) is None
    assert rate_limit_hit(name="api_token", key="10.0.0.1", now=start + 10) is None
    assert rate_limit_hit(name="api_token", key="10.0.0.1", now=start + 15) == 45
    assert rate_limit_hit(name="api_token", key="10.0.0.2", now=start + 15) is None
    assert rate_limit_hit(name="api_token", key="10.0.0.1", now=start + 60) is None


@override_settings(RATE_LIMITS={"api_token": "1/hour"})
def test_exceeding_the_limit_raises_rate_limited_with_the_wait() -> None:
    ensure_within_rate(name="api_token", key="10.0.0.1")

    with pytest.raises(RateLimited) as refused:
        ensure_within_rate(name="api_token", key="10.0.0.1")

    assert refused.value.code == "rate_limited"
    assert refused.value.status == 429
    assert 1 <= refused.value.retry_after <= 3600
