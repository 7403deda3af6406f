"""Cache-based rate limits: a fixed window counter per (limit name, key), e.g. per client IP.

The counter lives in Django's cache, which production shares between processes (Redis) and a
single machine shares through the file cache, so every web process counts the same window.
Rates read like "20/minute"; `settings.RATE_LIMITS` may override the defaults by name
(tests shrink them with `override_settings`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongzhi.core.errors import ApplicationError

DEFAULT_RATES: dict[str, str] = {
    # POST /api/v1/auth/token: password guessing is also stopped per username by the
    # lockout; this stops one address from spraying many usernames.
    "api_token": "20/minute",
    # POST /accounts/login/: the same guard for the staff web's login form.
    "login": "20/minute",
}

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class RateLimited(ApplicationError):
    code = "rate_limited"
    status = 429

    def __init__(self, *, retry_after: int):
        super().__init__(
            _("Too many requests. Try again in %(seconds)d seconds.") % {"seconds": retry_after},
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """'20/minute' -> Rate(20, 60); also '5/10second' style multiples ('100/5minute')."""
    count, _slash, period = text.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :].strip().lower().removesuffix("s")
    if not count.strip().isdigit() or unit not in _PERIODS:
        raise ValueError(f"bad rate {text!r}: expected e.g. '20/minute'")
    return Rate(int(count), int(digits or 1) * _PERIODS[unit])


def rate_for(name: str) -> Rate:
    overrides: dict[str, str] = getattr(settings, "RATE_LIMITS", {}) or {}
    return parse_rate(overrides.get(name) or DEFAULT_RATES[name])


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. Behind a proxy, the proxy must set REMOTE_ADDR
    (gunicorn's --forwarded-allow-ips); a client-sent X-Forwarded-For is never trusted here."""
    return request.META.get("REMOTE_ADDR") or None


def rate_limit_hit(*, name: str, key: str, now: float | None = None, rate: Rate | None = None) -> int | None:
    """Count one hit of `key` against the limit `name` (or `rate`, when the caller has its own, e.g.
    an API key's). Returns None when allowed, or the seconds to wait until the window resets when
    the limit is exceeded."""
    rate = rate or rate_for(name)
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    cache_key = f"ratelimit:{name}:{key}:{window}"
    # add() is a no-op when the key exists; incr() is atomic on Redis and locmem.
    cache.add(cache_key, 0, timeout=rate.seconds + 1)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=rate.seconds + 1)
        hits = 1
    if hits <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


def ensure_within_rate(*, name: str, key: str, rate: Rate | None = None) -> None:
    """Raise RateLimited (429, with the seconds to wait) when `key` exceeded the limit `name` (or `rate`)."""
    retry_after = rate_limit_hit(name=name, key=key, rate=rate)
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)
