"""Writing to the outbox. Call `notify` inside the transaction of the change it reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from gongzhi.accounts.models import User
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.personal import lookup_hash
from gongzhi.notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationChannel,
    WebhookEndpoint,
)
from gongzhi.notifications.selectors import can_view_failures, inbox_get, unread_for


def notify(
    *,
    key: str,
    event_type: str,
    subject: str,
    body: str = "",
    url: str = "",
    users: Iterable[User] = (),
    phones: Iterable[str] = (),
    payload: dict[str, Any] | None = None,
    organization_ids: Iterable[int] | None = None,
    fresh: bool = False,
) -> int:
    """Queue one message per recipient and channel; `key` names the event (e.g. "ticket:12:event:345").

    Staff users get an inbox row, phones an SMS, and, when a `payload` is given, every active webhook
    endpoint hearing `event_type` (of the given organizations, or global ones) a signed POST. Returns the
    number of rows queued now; rows already queued under the same key are left alone, so calling twice
    sends once (`fresh=True`: the caller knows nothing was queued under `key` yet, e.g. it names an
    event written in this very transaction, which spares the look-up). A rolled-back transaction takes its rows with it: nothing is sent for a change that
    did not happen.
    """
    now = clock.now()
    rows: list[Notification] = []
    common = {"event_type": event_type, "subject": subject[:200], "body": body, "url": url, "created_at": now}
    for user in {u.pk: u for u in users}.values():
        rows.append(
            Notification(
                channel=NotificationChannel.INBOX,
                user=user,
                dedupe_key=f"{key}:inbox:{user.pk}",
                next_attempt_at=now,
                **common,
            )
        )
    for phone in sorted({p for p in phones if p}):
        rows.append(
            Notification(
                channel=NotificationChannel.SMS,
                phone=phone,
                # A keyed hash, not the number: keys are shown in the admin and logs.
                dedupe_key=f"{key}:sms:{lookup_hash(phone)[:32]}",
                next_attempt_at=now,
                **common,
            )
        )
    endpoints: Iterable[WebhookEndpoint] = ()
    if payload is not None and _any_active_webhook():
        endpoints = WebhookEndpoint.objects.filter(is_active=True)
        if organization_ids is not None:
            endpoints = endpoints.filter(organization_id__in=list(organization_ids)) | endpoints.filter(
                organization__isnull=True
            )
    for endpoint in endpoints:
        if endpoint.hears(event_type):
            rows.append(
                Notification(
                    channel=NotificationChannel.WEBHOOK,
                    webhook=endpoint,
                    payload=payload or {},
                    dedupe_key=f"{key}:webhook:{endpoint.pk}",
                    next_attempt_at=now,
                    **common,
                )
            )
    if not rows:
        return 0
    # bulk_create(ignore_conflicts=True) hands back every object, inserted or skipped, so count the
    # keys that are new. (Under a race with another writer of the same key the database still keeps
    # one row; only this count could then be one too high.)
    if fresh:
        new = rows
    else:
        keys = [row.dedupe_key for row in rows]
        existing = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        new = [row for row in rows if row.dedupe_key not in existing]
        if not new:
            return 0
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    _kick_after_commit()
    return len(new)


def _any_active_webhook() -> bool:
    """Whether any active endpoint exists (memoized for a few seconds: most installations have none,
    and the outbox is written on every ticket event). Saving or deleting an endpoint starts a new
    memo generation, so a new endpoint hears the next event; see gongzhi.tickets.routing.memoized."""
    from gongzhi.tickets.routing import memoized

    return memoized(
        ("webhooks-active",), lambda: WebhookEndpoint.objects.filter(is_active=True).exists(), seconds=5
    )


# At most one queued kick per window: under load every submission queues messages, and each kick
# is a write to the task queue. The kick runs when the window closes, so rows queued inside the
# window (whose own kick was skipped) are due by then; the per-minute periodic task catches up if a
# kick is lost with a crashed queue.
KICK_WINDOW_SECONDS = 2
_KICK_KEY = "notifications:kick-queued"


def _kick_after_commit() -> None:
    transaction.on_commit(_kick_delivery)


def _queue_is_immediate() -> bool:
    from gongzhi.config.huey import huey

    return bool(huey.immediate)


def _kick_delivery() -> None:
    from gongzhi.notifications.tasks import deliver_due

    if _queue_is_immediate():
        deliver_due()  # tests and single-process setups: deliver now, nothing to debounce
    elif cache.add(_KICK_KEY, 1, timeout=KICK_WINDOW_SECONDS):
        deliver_due.schedule(delay=KICK_WINDOW_SECONDS)


def notifications_pending_count() -> int:
    return Notification.objects.filter(status=DeliveryStatus.PENDING).count()


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's own inbox rows read (404 for anyone else's). Reading twice is fine."""
    notification = inbox_get(actor=actor, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = clock.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: Actor) -> int:
    return unread_for(actor).update(read_at=clock.now())


@transaction.atomic
def notifications_retry(*, actor: Actor, notification_ids: Iterable[int] | None = None) -> int:
    """Give dead rows a fresh round of attempts, due now (all of them when no ids are given).

    Superusers and district admins only; the retry is audited and kicks the worker after commit.
    """
    if not can_view_failures(actor):
        raise PermissionDenied()
    rows = Notification.objects.filter(status=DeliveryStatus.DEAD)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    # Resetting `attempts` is safe: no worker holds a dead row (the last one set it dead).
    count = Notification.objects.filter(pk__in=ids, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=clock.now()
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target_type="notifications.notification",
        target_repr=f"retry {count} notification(s)",
        changes={"retried": ids[:100]},
    )
    _kick_after_commit()
    return count
