"""Open311 GeoReport v2: the keys clients post with, and what a post carried beside its ticket."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_POSTS_PER_MINUTE = 6000


class Open311Key(models.Model):
    """An API key an Open311 client posts service requests with. Only its SHA-256 is stored;
    the key itself is shown once, when it is issued (back office or `gongzhi open311-key`)."""

    organization = models.ForeignKey(
        "territory.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="open311_keys",
        help_text=_("The organization that runs the client and answers for what it posts."),
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Empty: the platform's default (settings.RATE_LIMITS["open311_post"], 60 a minute unless configured).
    posts_per_minute = models.PositiveIntegerField(
        _("posts per minute"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POSTS_PER_MINUTE)],
        help_text=_("Leave empty for the platform's default (60 a minute unless configured otherwise)."),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="open311_key_has_name"),
            models.CheckConstraint(
                condition=Q(posts_per_minute__isnull=True) | Q(posts_per_minute__gte=1),
                name="open311_key_posts_per_minute_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Open311Submission(models.Model):
    """The Open311 fields a ticket has no place for, and the key that posted it.

    Contact data (e-mail, device and account ids) is kept for the handlers; the public GET
    calls never read this table except for `media_url`, a link the client itself published.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="open311_submission"
    )
    key = models.ForeignKey(Open311Key, on_delete=models.PROTECT, related_name="submissions")
    email = models.EmailField(_("e-mail"), blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} via {self.key_id}"
