"""Writing to the outbox. Call `notify` inside the transaction of the change it reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from gongzhi.accounts.models import User
from gongzhi.core import clock
from gongzhi.notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationChannel,
    WebhookEndpoint,
)


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
) -> int:
    """Queue one message per recipient and channel; `key` names the event (e.g. "ticket:12:event:345").

    Staff users get an inbox row, phones an SMS, and, when a `payload` is given, every active webhook
    endpoint hearing `event_type` (of the given organizations, or global ones) a signed POST. Returns rows queued;
    rows already queued under the same key are left alone, so calling twice sends once.
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
                dedupe_key=f"{key}:sms:{phone}",
                next_attempt_at=now,
                **common,
            )
        )
    endpoints = (
        WebhookEndpoint.objects.filter(is_active=True)
        if payload is not None
        else WebhookEndpoint.objects.none()
    )
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
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_kick_delivery)
    return len(created)


def _kick_delivery() -> None:
    from gongzhi.notifications.tasks import deliver_due

    deliver_due()


def notifications_pending_count() -> int:
    return Notification.objects.filter(status=DeliveryStatus.PENDING).count()
