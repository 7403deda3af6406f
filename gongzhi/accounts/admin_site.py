"""The back office's site. Its login form checks credentials through `login_check`, like the
staff login and the API token endpoint: the same per-address rate limit, the same lockout after
repeated failures, and every attempt recorded and audited. Without it `/admin/login/` would be a
side door where passwords could be guessed without limit."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse


class GongzhiAdminSite(admin.AdminSite):
    site_header = "共治 Gongzhi"
    site_title = "共治 Gongzhi"

    @property
    def login_form(self) -> type[Any]:  # type: ignore[override]
        # Imported here: this module is loaded while the app registry is being populated.
        from gongzhi.accounts.forms import AdminLoginForm

        return AdminLoginForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refused_status = getattr(form, "refused_status", None)
        if refused_status:  # locked out or rate limited: 429, as the staff login answers
            response.status_code = refused_status
        return response
