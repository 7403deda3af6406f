"""Digital doorplates (数字门牌): one current QR address per entrance or building."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Doorplate(models.Model):
    """The current plate of a node. Reissuing replaces `token`, so the old printed code stops working."""

    node = models.OneToOneField("territory.Node", on_delete=models.CASCADE, related_name="doorplate")
    # A random part signed with the secret key: forged codes are refused before any database read,
    # guessed ones are impossible (96 random bits).
    token = models.CharField(max_length=64, unique=True)
    version = models.PositiveIntegerField(default=1)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("doorplate")
        verbose_name_plural = _("doorplates")

    def __str__(self) -> str:
        return f"{self.node} v{self.version}"
