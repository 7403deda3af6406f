"""Back office: the outbox (read-only, with "retry now" for dead rows) and webhook endpoints.

A webhook's signing secret is shown once, in a message after it is created or rotated; afterwards
only its first characters are, so a screen share or a screenshot of the admin never leaks it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gongzhi.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, admin_actor
from gongzhi.notifications.models import DeliveryStatus, Notification, WebhookEndpoint
from gongzhi.notifications.selectors import can_view_failures
from gongzhi.notifications.services import notifications_retry

SECRET_PREFIX_LENGTH = 6


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_prefix(secret: str) -> str:
    return f"{secret[:SECRET_PREFIX_LENGTH]}…" if secret else "—"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "created_at",
        "channel",
        "recipient",
        "event_type",
        "subject",
        "status",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "channel", "event_type")
    search_fields = ("subject", "dedupe_key", "event_type")
    date_hierarchy = "created_at"
    list_select_related = ("user", "webhook")
    actions = ["retry_now"]
    # Every field but the raw phone (shown masked as "recipient").
    fields = (
        "channel",
        "recipient",
        "event_type",
        "subject",
        "body",
        "url",
        "payload",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "read_at",
        "last_error",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"))
    def recipient(self, obj: Notification) -> str:
        if obj.phone:
            return obj.masked_phone
        return str(obj.webhook or obj.user or "—")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The outbox spans every scope (anyone's inbox): superusers and district admins only.
        return can_view_failures(admin_actor(request)) and super().has_view_permission(request, obj)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return can_view_failures(admin_actor(request))

    @admin.action(description=_("Retry now (failed messages)"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.filter(status=DeliveryStatus.DEAD).values_list("pk", flat=True))
        count = notifications_retry(actor=admin_actor(request), notification_ids=ids)
        self.message_user(
            request,
            ngettext("%(count)s message queued again.", "%(count)s messages queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class WebhookEndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    new_secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=100,
        help_text=_("Leave empty to generate one. It is shown once, after saving; copy it to the receiver."),
        widget=forms.PasswordInput(render_value=False),
    )
    rotate_secret = forms.BooleanField(
        label=_("generate a new secret"),
        required=False,
        help_text=_("The old secret stops working at once; the new one is shown once, after saving."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "organization", "events", "is_active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = WebhookEndpointForm
    list_display = ("name", "url", "organization", "is_active", "shown_secret", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("shown_secret", "created_at")

    # An endpoint without an organization hears every matching event of the installation, and one
    # with an organization hears tickets far beyond a community: superusers and district admins only
    # (with the model's permissions), like the outbox.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_failures(admin_actor(request)) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_failures(admin_actor(request)) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_view_failures(admin_actor(request)) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_failures(admin_actor(request)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_failures(admin_actor(request)) and super().has_delete_permission(request, obj)

    @admin.display(description=_("signing secret"))
    def shown_secret(self, obj: WebhookEndpoint) -> str:
        return secret_prefix(obj.secret)

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[Any]:
        common = ["name", "url", "organization", "events", "is_active"]
        if obj is None:
            return [*common, "new_secret"]
        return [*common, "shown_secret", "rotate_secret", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        shown = ""
        if not change:
            obj.secret = form.cleaned_data.get("new_secret") or new_secret()
            shown = obj.secret
        elif form.cleaned_data.get("rotate_secret"):
            obj.secret = shown = new_secret()
        # The audit row lists changed fields with their values: never the secret itself.
        if "new_secret" in form.cleaned_data:
            form.cleaned_data["new_secret"] = "(set)" if form.cleaned_data["new_secret"] else ""
        super().save_model(request, obj, form, change)
        if shown:
            self.message_user(
                request,
                _("Signing secret of %(name)s (shown only now; copy it to the receiver): %(secret)s")
                % {"name": obj.name, "secret": shown},
                messages.WARNING,
            )
