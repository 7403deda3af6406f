from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from gongzhi.accounts.permissions import Perm
from gongzhi.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, ScopedAdminMixin, admin_actor
from gongzhi.core.errors import ApplicationError
from gongzhi.territory.models import MatterCategory, Node, NodeStats, Organization
from gongzhi.territory.services import NODE_ATTRIBUTES, node_update


@admin.register(Node)
class NodeAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Nodes are added by imports and services (they keep the tree and the counts right);
    here a node's name, code and attributes can be corrected, through `node_update`."""

    list_display = ("name", "kind", "code", "depth", "path")
    list_filter = ("kind",)
    search_fields = ("name", "code", "door_number")
    ordering = ("path",)
    readonly_fields = ("kind", "path", "depth")
    fields = ("kind", "path", "depth", "name", "code", *NODE_ATTRIBUTES)
    list_select_related = False
    show_full_result_count = False  # a city-size tree: no second COUNT(*) per page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or admin_actor(request).can(Perm.EDIT_NETWORK, obj.path)

    def save_model(self, request: HttpRequest, obj: Node, form: ModelForm[Any], change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return
        try:
            with transaction.atomic():
                node_update(actor=admin_actor(request), node_id=obj.pk, **changes)
        except ApplicationError as error:
            self.message_user(request, str(error.message), messages.ERROR)


@admin.register(NodeStats)
class NodeStatsAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("node__path",)
    list_display = ("node", "households", "residents", "party_members", "building_leaders")
    list_select_related = ("node",)
    search_fields = ("node__name", "node__code")
    ordering = ("node__path",)
    show_full_result_count = False


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("nodes__path",)
    scope_distinct = True
    list_display = ("name", "kind", "party_level", "code", "parent")
    list_filter = ("kind", "party_level")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent",)
    filter_horizontal = ("categories",)
    raw_id_fields = ("nodes",)

    def audit_node_path(self, obj: models.Model) -> str:
        assert isinstance(obj, Organization)
        first = obj.nodes.order_by("path").first()
        return first.path if first else ""


@admin.register(MatterCategory)
class MatterCategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name")
    search_fields = ("code", "name")
