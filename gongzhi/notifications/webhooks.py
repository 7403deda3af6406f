"""Signed webhook POSTs.

A receiver checks a delivery like this (Python; any language with HMAC-SHA256 works):

    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Gongzhi-Signature"])
    fresh = abs(time.time() - int(request.headers["X-Gongzhi-Timestamp"])) < 300

Headers: X-Gongzhi-Event (e.g. "ticket.whistle"), X-Gongzhi-Delivery (the outbox row id: the same
id on every retry, so a receiver can drop a repeat), X-Gongzhi-Timestamp (Unix seconds) and
X-Gongzhi-Signature (hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret).
Any 2xx answer is a success; anything else, a timeout or a refused connection is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

# Seconds to wait for a receiver; slow receivers are retried later rather than holding a worker.
TIMEOUT_SECONDS = 5


class WebhookError(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301/302 with a GET and drop the body; a moved receiver is a failure
    # the admin must see (and fix the address), not a silent success.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def post(*, url: str, secret: str, event_type: str, delivery_id: int, body: bytes, timestamp: int) -> int:
    """POST `body` (JSON) signed with `secret`; return the HTTP status, raise WebhookError if not 2xx."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Gongzhi-Webhook/1",
            "X-Gongzhi-Event": event_type,
            "X-Gongzhi-Delivery": str(delivery_id),
            "X-Gongzhi-Timestamp": str(timestamp),
            "X-Gongzhi-Signature": signature(secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        raise WebhookError(f"receiver answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise WebhookError(f"receiver unreachable: {error}") from error
    if not 200 <= status < 300:
        raise WebhookError(f"receiver answered HTTP {status}")
    return status
