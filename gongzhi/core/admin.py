"""Admin plumbing: scope every back-office list to the staff user's subtree, audit writes.

A non-superuser staff user (is_staff, with Django model permissions) sees and changes only
rows inside their scope; foreign-key choices are scoped the same way. Superusers see all.
Changes made here are written to the audit log like any other write.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor, scope_q
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record


def admin_actor(request: HttpRequest) -> Actor:
    actor = getattr(request, "actor", None)
    if actor is None:
        actor = resolve_actor(request.user)  # type: ignore[arg-type]
        request.actor = actor  # type: ignore[attr-defined]
    return actor  # type: ignore[no-any-return]


class ScopedAdminMixin:
    """Filter the changelist, the change pages and the node choices to the actor's scope.

    Set `scope_fields` to the path lookups of the row (any of them in scope keeps the row),
    and `scope_perm` to the permission that defines the scope (people need VIEW_PEOPLE).
    """

    scope_fields: tuple[str, ...] = ("path",)
    scope_perm: Perm = Perm.VIEW_NETWORK
    scope_distinct: bool = False

    def scope_filter(self, actor: Actor) -> Q:
        condition = Q(pk__in=[])
        for field_name in self.scope_fields:
            condition |= scope_q(actor, field_name, self.scope_perm)
        return condition

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        actor = admin_actor(request)
        if actor.is_superuser:
            return queryset
        queryset = queryset.filter(self.scope_filter(actor))
        return queryset.distinct() if self.scope_distinct else queryset

    def _scoped_choices(
        self, db_field: models.Field[Any, Any], request: HttpRequest, kwargs: dict[str, Any]
    ) -> None:
        from gongzhi.territory.models import Node, Organization

        actor = admin_actor(request)
        if actor.is_superuser:
            return
        related = db_field.related_model
        if related is Node:
            kwargs["queryset"] = Node.objects.visible_to(actor)
        elif related is Organization:
            kwargs["queryset"] = Organization.objects.visible_to(actor)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class AuditedAdminMixin:
    """Write an audit row for every add, change and delete made in the admin."""

    def audit_node_path(self, obj: models.Model) -> str:
        return ""

    def save_model(self, request: HttpRequest, obj: models.Model, form: ModelForm[Any], change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        audit_record(
            actor=admin_actor(request),
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            target=obj,
            node_path=self.audit_node_path(obj),
            changes=changes,
            ip_address=request.META.get("REMOTE_ADDR"),
        )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        audit_record(
            actor=admin_actor(request),
            action=AuditAction.DELETE,
            target=obj,
            node_path=self.audit_node_path(obj),
            ip_address=request.META.get("REMOTE_ADDR"),
        )
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdminMixin:
    """View only: no add, change or delete from the admin (the data has its own services)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
