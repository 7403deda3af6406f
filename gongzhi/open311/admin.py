"""Back office: issue Open311 keys (the key is shown once, on the page after saving) and revoke them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from gongzhi.core.admin import ReadOnlyAdminMixin, admin_actor
from gongzhi.core.errors import ApplicationError
from gongzhi.open311.models import Open311Key, Open311Submission
from gongzhi.open311.services import open311_key_issue, open311_key_revoke, open311_key_update


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Superusers only: a key lets a client file tickets anywhere on the platform."""

    list_display = (
        "name",
        "prefix",
        "organization",
        "posts_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    list_select_related = ("organization",)
    search_fields = ("name", "prefix", "organization__name", "organization__code")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    raw_id_fields = ("organization",)
    actions = ["revoke"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Its organization and rate limit change; its name and secret never do.
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay: the tickets they posted point at them

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ("organization", "posts_per_minute")
        return ("name", *editable) if obj is None else ("name", *editable, *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is None else ("name", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Open311Key, form: ModelForm[Any], change: bool) -> None:
        data = form.cleaned_data
        if change:
            open311_key_update(
                actor=admin_actor(request),
                key_id=obj.pk,
                organization_id=obj.organization_id,
                posts_per_minute=data.get("posts_per_minute"),
            )
            obj.refresh_from_db()
            return
        issued = open311_key_issue(
            actor=admin_actor(request),
            name=data["name"],
            organization_id=obj.organization_id,
            posts_per_minute=data.get("posts_per_minute"),
        )
        for model_field in Open311Key._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(issued.key, model_field.attname))
        obj._state.adding = False
        request._open311_secret = issued.secret  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: Open311Key, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The key is on this page and nowhere else: it is not stored, logged or put in a message.
        return TemplateResponse(
            request,
            "admin/open311/key_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Open311 API key issued"),
                "key": obj,
                "secret": request._open311_secret,  # type: ignore[attr-defined]
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Open311Key]) -> None:
        actor = admin_actor(request)
        try:
            for key in queryset:
                open311_key_revoke(actor=actor, key_id=key.pk)
        except ApplicationError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return
        self.message_user(request, _("The selected keys are revoked."), messages.SUCCESS)


@admin.register(Open311Submission)
class Open311SubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Which key posted which ticket, with the contact fields the ticket has no place for."""

    list_display = ("ticket", "key", "created_at")
    list_select_related = ("ticket", "key")
    search_fields = ("ticket__number", "key__name", "key__prefix")
    fields = ("ticket", "key", "email", "device_id", "account_id", "media_url", "created_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)
