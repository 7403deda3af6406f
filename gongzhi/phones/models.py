"""Phone verification by a one-time code (a resident needs no account where a verified phone will do)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PhonePurpose(models.TextChoices):
    TICKET = "ticket", _("Submit or rate a ticket")  # 码上帮 / 码上办 / 码上说, rating
    LOOKUP = "lookup", _("Look up my tickets")  # 码上查


class PhoneChallenge(models.Model):
    """One code sent to one phone. Neither the phone nor the code is stored in clear here.

    Only the newest open challenge of a phone and purpose is checked, at most MAX_ATTEMPTS times,
    within its lifetime; a new code supersedes the old one.
    """

    # personal.lookup_hash(phone): the keyed hash the tickets' reporter_phone_hash also uses.
    phone_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=16, choices=PhonePurpose.choices)
    # A keyed HMAC of the code (salted with the phone hash): useless without the secret key.
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone challenge")
        verbose_name_plural = _("phone challenges")
        indexes = [
            # verify(): the newest challenge of a phone for a purpose.
            models.Index(fields=["phone_hash", "purpose", "-created_at"], name="phone_challenge_latest"),
            # A clean-up job deletes expired rows by age.
            models.Index(fields=["created_at"], name="phone_challenge_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="phone_challenge_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.phone_hash[:8]}… {self.created_at:%Y-%m-%d %H:%M}"
