from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.scope import Actor
from gongzhi.accounts.selectors import role_holder_find
from gongzhi.accounts.services import BadCredentials, LockedOut, login_check, may_give_role
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate
from gongzhi.territory.models import NodeKind

# A building leader (楼栋长) looks after a building or one entrance of it: the staff page offers the
# role only there. `role_assign` checks no kind; every other role may be given on any node.
BUILDING_LEADER_KINDS = frozenset({NodeKind.BUILDING, NodeKind.ENTRANCE})


def roles_offered_on(kind: str, actor: Actor) -> list[tuple[str, str]]:
    """The roles the staff page offers `actor` to give on a node of `kind`, in the order of `Role`."""
    return [
        (role.value, str(role.label))
        for role in Role
        if (role != Role.BUILDING_LEADER or kind in BUILDING_LEADER_KINDS) and may_give_role(actor, role)
    ]


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


class RoleAssignForm(forms.Form):
    """A role to give on one node: to whom (an active account, by username), which, from when to when.
    `account` is the account the username names, once found."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("The login name of an existing account."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter the username of the account.")},
    )
    role = forms.ChoiceField(label=_("Role"), error_messages={"required": _("Choose a role.")})
    starts_on = forms.DateField(
        label=_("First day the role is held"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ends_on = forms.DateField(
        label=_("Last day the role is held"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave it empty for a role without an end date."),
    )

    def __init__(self, *args: Any, actor: Actor, node_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.account: User | None = None
        role_field: forms.ChoiceField = self.fields["role"]  # type: ignore[assignment]
        role_field.choices = [("", _("Choose a role")), *roles_offered_on(node_kind, actor)]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        self.account = role_holder_find(actor=self.actor, username=username)
        if self.account is None:
            raise ValidationError(_("No account with this username."), code="unknown_user")
        return self.account.username

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on is not None and ends_on is not None and ends_on < starts_on:
            self.add_error("ends_on", _("A role cannot end before it starts."))
        return data


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
