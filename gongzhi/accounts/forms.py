from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.services import BadCredentials, LockedOut, login_check
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RoleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Person or place"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}),
    )
    ended = forms.BooleanField(label=_("Show ended roles"), required=False)


class RoleEndForm(forms.Form):
    """The end of a role: its last day (inclusive) and why. Used by the staff page and the admin."""

    ends_on = forms.DateField(
        label=_("Last day the role is held"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Yesterday's date ends the role at once. A day before the role starts withdraws it."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=2,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": _("Give a reason for ending the role."),
            "min_length": _("Give a reason for ending the role."),
        },
    )


class AdminLoginForm(AdminAuthenticationForm):
    """The back office's login through `login_check`: the staff login's rate limit (one counter
    per address for both forms), lockout and audit. `refused_status` is 429 when refused for
    either; the admin site answers with it."""

    refused_status: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                address = client_ip(self.request) if self.request is not None else None
                ensure_within_rate(name="login", key=address or "unknown")
                self.user_cache = login_check(
                    username=username, password=password, request=self.request, admin=True
                )
            except (LockedOut, RateLimited) as refused:
                self.refused_status = 429
                raise ValidationError(str(refused.message), code=refused.code) from refused
            except BadCredentials:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
