"""Back office for surveys: read-only (surveys change through their services and pages)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.core.admin import ReadOnlyAdminMixin
from gongzhi.surveys.models import Survey, SurveyQuestion


class QuestionInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = SurveyQuestion
    fields = ("order", "kind", "prompt", "required", "options")
    extra = 0


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "node", "respondent", "status", "opens_at", "closes_at", "responses_count")
    list_filter = ("status", "respondent", "results_published")
    search_fields = ("title", "node__name")
    list_select_related = ("node",)
    exclude = ("created_by",)
    inlines = (QuestionInline,)
