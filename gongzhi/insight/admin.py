"""Back office for insight: the targets of the three rates per level (district admins), audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.core.admin import AuditedAdminMixin
from gongzhi.insight.definitions import DEFAULT_TARGETS
from gongzhi.insight.models import RateTarget
from gongzhi.tickets.admin import may_manage_categories


@admin.register(RateTarget)
class RateTargetAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A target set here replaces the default for its level and rate on every dashboard card."""

    list_display = ("level", "rate", "percent", "default", "updated_at")
    list_filter = ("level", "rate")
    ordering = ("level", "rate")
    fields = ("level", "rate", "percent")

    @admin.display(description=_("default (%)"))
    def default(self, obj: RateTarget) -> int | None:
        return DEFAULT_TARGETS.get(obj.level, {}).get(obj.rate)

    # The same people who set the categories' deadlines set the targets (district admins).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_categories(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_manage_categories(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)
