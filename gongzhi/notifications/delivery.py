"""Delivering the outbox: due pending rows, claimed one by one, sent outside any transaction.

Guarantees and their limits:
- Nothing is lost: a row commits with the state change it reports (see services.notify), and stays
  pending until a worker records its success, or it has failed `NOTIFY_MAX_ATTEMPTS` times (dead,
  with the last error, shown to admins, who can retry it).
- Several workers may run at once (huey threads, several machines). A worker *claims* a row with a
  compare-and-set on (status, attempts): `UPDATE … SET attempts = attempts + 1, next_attempt_at =
  now + backoff WHERE id = … AND status = 'pending' AND attempts = <seen>`; only the worker whose
  update changed one row sends it. This works the same on SQLite and PostgreSQL (on PostgreSQL the
  losing UPDATE waits for the winner's commit, re-checks the condition and changes nothing).
- The claim pushes `next_attempt_at` forward by the backoff of that attempt, which is at once the
  lease (no other worker takes the row while it is being sent; the backoff is never shorter than
  the send timeout) and the retry time if the send fails or the worker dies mid-send.
- The send happens outside any transaction, and its outcome is recorded after. A crash after the
  provider accepted a message but before the outcome is recorded sends it again when the lease ends:
  delivery is **at least once**. Webhook receivers can drop repeats by X-Gongzhi-Delivery (the same
  on every retry). Duplicates created by producers (a retried write, two sweeps) cannot happen: the
  outbox's unique `dedupe_key` keeps one row per event, recipient and channel.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F

from gongzhi.core import clock
from gongzhi.core.personal import mask_phone
from gongzhi.notifications import webhooks
from gongzhi.notifications.models import DeliveryStatus, Notification, NotificationChannel
from gongzhi.notifications.sms import SmsGateway, get_gateway

logger = logging.getLogger("gongzhi.notifications")

BATCH_SIZE = 20
# One run handles at most this many rows, so a long backlog does not pin a worker; the periodic
# task (every minute) and the after-commit kicks continue where it stopped.
MAX_ROWS_PER_RUN = 500
# …and stops taking new rows after this many seconds (dead receivers cost a 5 s timeout each).
MAX_SECONDS_PER_RUN = 50


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dead


def backoff(attempt: int) -> dt.timedelta:
    """Wait after the `attempt`-th try (1-based): base, 2×base, 4×base … capped."""
    base = settings.NOTIFY_BACKOFF_SECONDS
    seconds = min(base * 2 ** max(attempt - 1, 0), settings.NOTIFY_BACKOFF_MAX_SECONDS)
    return dt.timedelta(seconds=max(seconds, base))


def deliver_pending(now: dt.datetime | None = None, *, limit: int = MAX_ROWS_PER_RUN) -> DeliveryReport:
    """Send due pending rows (oldest due first) in small batches; return what happened."""
    now = now or clock.now()
    report = DeliveryReport()
    report.sent += _deliver_inbox(now, limit)
    gateway = _LazyGateway()
    started = time.monotonic()
    while report.handled < limit and time.monotonic() - started < MAX_SECONDS_PER_RUN:
        due = list(
            Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .exclude(channel=NotificationChannel.INBOX)
            .order_by("next_attempt_at", "pk")
            .select_related("webhook")[:BATCH_SIZE]
        )
        if not due:
            break
        claimed_any = False
        for row in due:
            if not _claim(row, now):
                continue  # another worker has it
            claimed_any = True
            _record(row, _send(row, gateway), report)
        if not claimed_any:
            break  # every row of the batch went to other workers: let them work
    return report


class _LazyGateway:
    """The configured SMS gateway, built on first use (a bad configuration fails that attempt)."""

    def __init__(self) -> None:
        self._gateway: SmsGateway | None = None

    def send(self, phone: str, text: str) -> None:
        if self._gateway is None:
            self._gateway = get_gateway()
        self._gateway.send(phone, text)


def _deliver_inbox(now: dt.datetime, limit: int) -> int:
    """In-app rows are delivered by being in the table: mark due ones sent, a batch per query."""
    sent = 0
    while sent < limit:
        ids = list(
            Notification.objects.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=now, channel=NotificationChannel.INBOX
            ).values_list("pk", flat=True)[: BATCH_SIZE * 5]
        )
        if not ids:
            break
        sent += Notification.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENT, sent_at=now, attempts=F("attempts") + 1
        )
    return sent


def _claim(row: Notification, now: dt.datetime) -> bool:
    """Compare-and-set: take the row for one attempt, or learn that another worker took it."""
    attempt = row.attempts + 1
    # The lease counts from the real time of the claim, not from the start of a long run: a stale
    # start would hand out a lease that has already ended, and a second worker could take the row.
    lease_until = max(now, clock.now()) + backoff(attempt)
    claimed = Notification.objects.filter(
        pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts, next_attempt_at__lte=now
    ).update(attempts=attempt, next_attempt_at=lease_until)
    if claimed != 1:
        return False
    row.attempts, row.next_attempt_at = attempt, lease_until
    return True


def _send(row: Notification, gateway: _LazyGateway) -> str:
    """Send one claimed row; return "" on success or the error text. Runs outside any transaction."""
    try:
        if row.channel == NotificationChannel.SMS:
            gateway.send(row.phone, sms_text(row))
        elif row.channel == NotificationChannel.WEBHOOK:
            _send_webhook(row)
        else:
            return f"unknown channel {row.channel!r}"
    except Exception as error:  # any failure of a provider is a failed attempt
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return ""


def sms_text(row: Notification) -> str:
    """The subject, and the link to follow it as a full address on the site (GONGZHI_SITE_URL)."""
    if row.url.startswith("/"):
        return f"{row.subject} {settings.SITE_URL}{row.url}"
    return row.subject


def webhook_body(row: Notification) -> bytes:
    document = {
        "delivery": row.pk,
        "event": row.event_type,
        "created_at": row.created_at.isoformat(),
        "subject": row.subject,
        "data": row.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True).encode()


def _send_webhook(row: Notification) -> None:
    endpoint = row.webhook
    if endpoint is None or not endpoint.is_active:
        raise webhooks.WebhookError("endpoint disabled")
    webhooks.post(
        url=endpoint.url,
        secret=endpoint.secret,
        event_type=row.event_type,
        delivery_id=row.pk,
        body=webhook_body(row),
        timestamp=int(clock.now().timestamp()),
    )


def _record(row: Notification, error: str, report: DeliveryReport) -> None:
    """Write the outcome of one attempt (the clock is read again: the send took time)."""
    finished = clock.now()
    if not error:
        # Recorded even if a lease ran out meanwhile: the message did go out. A sent SMS keeps only
        # the masked number (data minimisation): nothing needs the full number any more.
        done: dict[str, object] = {"status": DeliveryStatus.SENT, "sent_at": finished, "last_error": ""}
        if row.channel == NotificationChannel.SMS:
            done["phone"] = mask_phone(row.phone)
        Notification.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(**done)
        report.sent += 1
        return
    logger.warning("notification %s attempt %s failed: %s", row.pk, row.attempts, error)
    mine = Notification.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING, attempts=row.attempts)
    if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.DEAD, last_error=error[:500])
        report.dead += 1
    else:
        # next_attempt_at was already moved forward by the claim: the retry waits the backoff.
        mine.update(last_error=error[:500])
        report.failed += 1
