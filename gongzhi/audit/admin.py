from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from gongzhi.accounts.permissions import Perm
from gongzhi.audit.models import AuditEntry
from gongzhi.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin, admin_actor


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Append-only: nobody adds, changes or deletes entries, not even a superuser."""

    scope_fields = ("node_path",)
    scope_perm = Perm.VIEW_AUDIT
    list_display = ("at", "actor_username", "action", "target_repr", "field", "reason")
    list_filter = ("action",)
    search_fields = ("actor_username", "target_repr", "reason")
    date_hierarchy = "at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        actor = admin_actor(request)
        if not actor.has_perm_anywhere(Perm.VIEW_AUDIT):
            return AuditEntry.objects.none()
        return super().get_queryset(request)
