"""Back office for tickets: categories with their policies (district admins), tickets read-only.

Categories are configured here by superusers and district administrators (MANAGE_CATEGORIES);
every change is audited. Tickets change only through the handling services, so the admin
shows them to superusers without any write.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.permissions import Perm
from gongzhi.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, admin_actor
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType, Ticket


def duration_words(minutes: int) -> str:
    """90 → "1.5 h", 2880 → "2 days", 15 → "15 min": deadlines as people say them."""
    if minutes < 60:
        return gettext("%(n)d min") % {"n": minutes}
    if minutes < 60 * 24 or minutes % (60 * 24):
        hours = minutes / 60
        return gettext("%(n)s h") % {"n": f"{hours:g}" if hours != int(hours) else int(hours)}
    return gettext("%(n)d days") % {"n": minutes // (60 * 24)}


def may_manage_categories(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser or admin_actor(request).has_perm_anywhere(Perm.MANAGE_CATEGORIES))


class CategoryQuestionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CategoryQuestion
        fields = ("order", "code", "prompt", "description", "datatype", "required", "choices")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        datatype, choices = data.get("datatype"), data.get("choices") or []
        if datatype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            if not isinstance(choices, list) or not choices:
                self.add_error(
                    "choices", _('A choice question needs its choices, e.g. [{"key": "1", "name": "一楼"}].')
                )
            elif not all(
                isinstance(c, dict) and str(c.get("key", "")).strip() and str(c.get("name", "")).strip()
                for c in choices
            ):
                self.add_error("choices", _('Each choice needs a "key" and a "name".'))
            elif len({str(c["key"]) for c in choices}) != len(choices):
                self.add_error("choices", _("Two choices have the same key."))
        elif choices:
            self.add_error("choices", _("Only choice questions have choices."))
        return data


class CategoryManagersOnlyMixin:
    """Only those who may manage the ticket categories (superusers, district admins) see and change
    this model in the back office; district admins hold no Django model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_categories(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_categories(request)


class CategoryQuestionInline(CategoryManagersOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = CategoryQuestion
    form = CategoryQuestionForm
    extra = 0
    ordering = ("order", "pk")


class CategoryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Category
        fields = (
            "code",
            "name",
            "description",
            "group",
            "kind",
            "keywords",
            "order",
            "is_active",
            "default_level",
            "response_minutes",
            "resolution_minutes",
            "report_in_minutes",
            "counting",
            "is_urgent",
            "departments",
        )
        help_texts = {
            "response_minutes": _(
                "Minutes to respond (accept): 15 for 红帽一刻钟, 120 for emergencies, 1440 = 24 h."
            ),
            "resolution_minutes": _("Minutes to resolve: 10080 = 7 days, 21600 = 15 days."),
            "report_in_minutes": _(
                "Minutes a summoned department has to report in (报到), counted like the other deadlines; "
                "it is reminded then and again after each such period. Empty: the platform's default."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "departments" in self.fields:
            self.fields["departments"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
                kind=OrganizationKind.DEPARTMENT
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        response, resolution = data.get("response_minutes"), data.get("resolution_minutes")
        if response and resolution and resolution < response:
            self.add_error(
                "resolution_minutes", _("The resolution deadline cannot come before the response deadline.")
            )
        return data


@admin.register(Category)
class CategoryAdmin(CategoryManagersOnlyMixin, AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = CategoryForm
    inlines = (CategoryQuestionInline,)
    list_display = (
        "name",
        "code",
        "group",
        "kind",
        "default_level",
        "response_deadline",
        "resolution_deadline",
        "counting",
        "is_urgent",
        "is_active",
        "order",
    )
    list_filter = ("kind", "group", "default_level", "counting", "is_urgent", "is_active")
    search_fields = ("name", "code", "keywords")
    filter_horizontal = ("departments",)
    ordering = ("order", "code")
    fieldsets = (
        (
            None,
            {"fields": ("code", "name", "description", "group", "kind", "keywords", "order", "is_active")},
        ),
        (
            _("Handling policy"),
            {
                "fields": (
                    "default_level",
                    "response_minutes",
                    "resolution_minutes",
                    "report_in_minutes",
                    "counting",
                    "is_urgent",
                    "departments",
                )
            },
        ),
    )

    @admin.display(description=_("respond within"), ordering="response_minutes")
    def response_deadline(self, obj: Category) -> str:
        return duration_words(obj.response_minutes)

    @admin.display(description=_("resolve within"), ordering="resolution_minutes")
    def resolution_deadline(self, obj: Category) -> str:
        return duration_words(obj.resolution_minutes)

    # Tickets keep their category (PROTECT): deactivate a used one instead of deleting it.


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("number", "category", "state", "level", "channel", "owner_node", "submitted_at")
    list_filter = ("state", "level", "channel", "kind")
    search_fields = ("number",)
    list_select_related = ("category", "owner_node")
    ordering = ("-submitted_at",)
    show_full_result_count = False
    exclude = ("reporter_phone",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
