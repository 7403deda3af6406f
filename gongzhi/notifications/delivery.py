"""Sending pending notifications: placeholder until the delivery work lands (marks inbox rows sent)."""

from __future__ import annotations

from gongzhi.core import clock
from gongzhi.notifications.models import DeliveryStatus, Notification, NotificationChannel


def deliver_pending() -> int:
    now = clock.now()
    return Notification.objects.filter(
        status=DeliveryStatus.PENDING, channel=NotificationChannel.INBOX, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENT, sent_at=now)
