"""Reads of the outbox: a staff member's inbox, the unread badge, failures for admins."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import NotFound
from gongzhi.notifications.models import DeliveryStatus, Notification, NotificationChannel


def inbox_for(actor: Actor) -> QuerySet[Notification]:
    """The actor's own in-app messages, newest first (index notification_inbox).

    Shown from the moment they commit, whether or not the worker has marked them sent yet: the
    inbox is the table, so a stopped worker never hides a message from staff.
    """
    if actor.user is None:
        return Notification.objects.none()
    return Notification.objects.filter(user=actor.user, channel=NotificationChannel.INBOX).order_by(
        "-created_at", "-pk"
    )


def unread_for(actor: Actor) -> QuerySet[Notification]:
    # Matches the partial index notification_unread (channel = inbox AND read_at IS NULL).
    if actor.user is None:
        return Notification.objects.none()
    return Notification.objects.filter(
        user=actor.user, channel=NotificationChannel.INBOX, read_at__isnull=True
    )


def unread_count(actor: Actor) -> int:
    return unread_for(actor).count()


def inbox_get(*, actor: Actor, notification_id: int) -> Notification:
    """One of the actor's inbox rows; NotFound for a missing row and for anyone else's."""
    notification = inbox_for(actor).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound()
    return notification


def can_view_failures(actor: Actor) -> bool:
    """Failed deliveries concern the whole installation: superusers and district admins see them."""
    return actor.is_superuser or Role.DISTRICT_ADMIN in actor.roles


def failures_for(actor: Actor) -> QuerySet[Notification]:
    """Dead rows, newest first (index notification_dead); NotFound for everyone else."""
    if not can_view_failures(actor):
        raise NotFound()
    return Notification.objects.filter(status=DeliveryStatus.DEAD).select_related("webhook", "user")
