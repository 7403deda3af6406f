"""The outbox: every message to send is a row written in the transaction of the change it reports.

A crash between a state change and its notification therefore loses nothing (the row commits with
the change or not at all), and `dedupe_key` makes a message to one recipient about one event unique,
so a retried write or a second sweep never sends twice. The worker delivers pending rows with
retries and exponential backoff; rows that keep failing become `dead` and show to admins.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationChannel(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Failed for good")


class WebhookEndpoint(models.Model):
    """An outside system that hears events (a department's own case system), signed with a secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    organization = models.ForeignKey(
        "territory.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    # Event types it hears, e.g. ["ticket.whistled", "ticket.resolved"]; empty means all.
    events = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def hears(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class Notification(models.Model):
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    phone = models.CharField(max_length=20, blank=True)
    webhook = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE)
    event_type = models.CharField(max_length=50)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=2000, blank=True)
    url = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The delivery task: pending rows whose next attempt is due.
            models.Index(fields=["next_attempt_at"], name="notification_due", condition=Q(status="pending")),
            # A user's inbox, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
            # The unread badge in the nav of every staff page: one count on a small index.
            models.Index(
                fields=["user"],
                name="notification_unread",
                condition=Q(channel="inbox", read_at__isnull=True),
            ),
            # The failures page for admins: dead rows, newest first.
            models.Index(fields=["-created_at"], name="notification_dead", condition=Q(status="dead")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel="inbox") & Q(user__isnull=False))
                | (Q(channel="sms") & ~Q(phone=""))
                | (Q(channel="webhook") & Q(webhook__isnull=False)),
                name="notification_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.subject}"

    @property
    def masked_phone(self) -> str:
        from gongzhi.core.personal import mask_phone

        return mask_phone(self.phone)
