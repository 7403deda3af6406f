"""Back office for insight: the targets of the three rates per level (district admins), audited."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.core.admin import AuditedAdminMixin
from gongzhi.insight.definitions import DEFAULT_TARGETS
from gongzhi.insight.models import RateTarget
from gongzhi.tickets.admin import CategoryManagersOnlyMixin


@admin.register(RateTarget)
class RateTargetAdmin(CategoryManagersOnlyMixin, AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A target set here replaces the default for its level and rate on every dashboard card. The
    people who set the categories' deadlines set the targets (district admins)."""

    list_display = ("level", "rate", "percent", "default", "updated_at")
    list_filter = ("level", "rate")
    ordering = ("level", "rate")
    fields = ("level", "rate", "percent")

    @admin.display(description=_("default (%)"))
    def default(self, obj: RateTarget) -> int | None:
        return DEFAULT_TARGETS.get(obj.level, {}).get(obj.rate)
