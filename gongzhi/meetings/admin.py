"""Back office for meetings: the kinds of meeting are configurable here ("more kinds configurable");
meetings and projects change only through the services, so the admin shows them read-only, and
only those of the places in the staff user's scope (as the meetings pages do)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, ScopedAdminMixin
from gongzhi.meetings.models import Meeting, MeetingKind, Project


@admin.register(MeetingKind)
class MeetingKindAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "code")


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("node__path",)
    list_display = ("title", "kind", "node", "starts_at", "status", "residents_attending")
    list_filter = ("kind", "status")
    search_fields = ("title", "place")
    exclude = ("signin_token",)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("node__path",)
    list_display = ("title", "node", "owner", "status", "deadline", "budget")
    list_filter = ("status",)
    search_fields = ("title",)
