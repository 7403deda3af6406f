"""Back office for surveys: read-only (surveys change through their services and pages), and only
the surveys of the places in the staff user's scope (as the surveys pages do)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin
from gongzhi.surveys.models import Survey, SurveyQuestion


class QuestionInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = SurveyQuestion
    fields = ("order", "kind", "prompt", "required", "options")
    extra = 0


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("node__path",)
    list_display = ("title", "node", "respondent", "status", "opens_at", "closes_at", "responses_count")
    list_filter = ("status", "respondent", "results_published")
    search_fields = ("title", "node__name")
    list_select_related = ("node",)
    exclude = ("created_by",)
    inlines = (QuestionInline,)
