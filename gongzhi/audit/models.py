"""The append-only audit log: every write and every reveal of personal data.

Rows are never updated or deleted: the database refuses it (triggers, migration 0002).
The acting user and the node are copied as plain values so history survives deletions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    MOVE = "move", _("Moved")
    REVEAL = "reveal", _("Revealed personal data")
    LOOKUP = "lookup", _("Looked up by ID number")  # a search by a whole ID number (PIPL: sensitive)
    IMPORT = "import", _("Imported")
    EXPORT = "export", _("Exported")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED_OUT = "locked_out", _("Locked out")
    TOKEN = "token", _("API token issued")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def visible_to(self, actor: object) -> AuditEntryQuerySet:
        from gongzhi.accounts.permissions import Perm
        from gongzhi.accounts.scope import scope_q

        return self.filter(scope_q(actor, "node_path", Perm.VIEW_AUDIT))  # type: ignore[arg-type]


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(_("object type"), max_length=40, blank=True)
    target_id = models.CharField(_("object id"), max_length=40, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    node_path = models.CharField(max_length=255, blank=True, db_index=True)
    field = models.CharField(_("field"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.target_repr}"
