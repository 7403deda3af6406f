from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gongzhi.accounts.forms import RoleEndForm
from gongzhi.accounts.models import ApiToken, Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.accounts.selectors import role_overlapping
from gongzhi.accounts.services import role_assign, role_end, role_overlap_message
from gongzhi.core import clock
from gongzhi.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin, admin_actor
from gongzhi.core.errors import ApplicationError


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):  # type: ignore[type-arg]
    """A non-superuser sees the users holding a role in their scope (and themselves), and can
    never grant staff, superuser or model permissions: no escalation through the admin."""

    scope_distinct = True
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "last_login")
    raw_id_fields = ("person",)

    def scope_filter(self, actor: Actor) -> Q:
        in_scope = scope_q(actor, "role_assignments__node__path") | scope_q(
            actor, "role_assignments__organization__nodes__path"
        )
        return in_scope | Q(pk=actor.user.pk if actor.user else None)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            fieldsets = (*fieldsets, (None, {"fields": ("person",)}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [
                "is_staff",
                "is_superuser",
                "groups",
                "user_permissions",
                "last_login",
                "date_joined",
            ]
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) and super().has_add_permission(request)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Roles are given through `role_assign` and ended through `role_end` (the action "End the
    selected roles": checks, counts, audit with a reason); nothing else changes a role."""

    scope_fields = ("node__path", "organization__nodes__path")
    scope_distinct = True
    list_display = ("user", "role", "node", "organization", "starts_on", "ends_on")
    list_filter = ("role",)
    list_select_related = ("user", "node", "organization")
    search_fields = ("user__username", "node__name", "organization__name")
    raw_id_fields = ("user",)
    fields = ("user", "role", "node", "organization", "starts_on", "ends_on")
    actions = ("end_roles",)

    def has_end_permission(self, request: HttpRequest) -> bool:
        """Ending is a change: Django's change permission, and managing roles somewhere."""
        return bool(request.user.has_perm("accounts.change_roleassignment")) and admin_actor(
            request
        ).has_perm_anywhere(Perm.MANAGE_ROLES)

    @admin.action(description=_("End the selected roles"), permissions=["end"])
    def end_roles(self, request: HttpRequest, queryset: QuerySet[RoleAssignment]) -> TemplateResponse | None:
        """Ask for the last day and a reason, then end each role through `role_end`."""
        form = RoleEndForm(
            request.POST if "apply" in request.POST else None, initial={"ends_on": clock.today()}
        )
        if form.is_valid():
            ended = 0
            for assignment in queryset.select_related("user", "node", "organization"):
                try:
                    role_end(
                        actor=admin_actor(request),
                        assignment_id=assignment.pk,
                        ends_on=form.cleaned_data["ends_on"],
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as error:  # each role on its own: the others still end
                    self.message_user(request, f"{assignment}: {error.message}", messages.ERROR)
                else:
                    ended += 1
            if ended:
                self.message_user(
                    request,
                    ngettext("%(count)d role ended.", "%(count)d roles ended.", ended) % {"count": ended},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("End the selected roles"),
            "opts": self.model._meta,
            "roles": queryset.select_related("user", "node", "organization"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/roleassignment/end_roles.html", context)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = admin_actor(request)

        class RoleAssignmentForm(form_class):  # type: ignore[misc,valid-type]
            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                node, organization = data.get("node"), data.get("organization")
                if (node is None) == (organization is None):
                    raise ValidationError(_("A role is held on a node or on an organization, not both."))
                if node is not None:
                    paths = [node.path]
                else:
                    assert organization is not None
                    paths = list(organization.nodes.values_list("path", flat=True))
                if not all(actor.can(Perm.MANAGE_ROLES, path) for path in paths):
                    raise ValidationError(_("You may not give roles there."))
                user, starts_on = data.get("user"), data.get("starts_on") or clock.today()
                if user is not None and data.get("role"):
                    clash = role_overlapping(
                        user_id=user.pk,
                        role=data["role"],
                        node_id=node.pk if node is not None else None,
                        organization_id=organization.pk if organization is not None else None,
                        starts_on=starts_on,
                        ends_on=data.get("ends_on"),
                    )
                    if clash is not None:
                        raise ValidationError(role_overlap_message(clash))
                return data

        return RoleAssignmentForm

    def save_model(
        self, request: HttpRequest, obj: RoleAssignment, form: ModelForm[Any], change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            created = role_assign(
                actor=admin_actor(request),
                user_id=data["user"].pk,
                role=Role(data["role"]),
                node_id=data["node"].pk if data.get("node") else None,
                organization_id=data["organization"].pk if data.get("organization") else None,
                starts_on=data.get("starts_on"),
                ends_on=data.get("ends_on"),
            )
        except ApplicationError as error:  # checked in the form; a race may still refuse it
            raise ValidationError(str(error.message)) from error
        obj.pk = created.pk


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "prefix", "expires_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "prefix")
    exclude = ("key_hash",)

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)
