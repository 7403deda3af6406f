from __future__ import annotations

from django.contrib import admin

from gongzhi.accounts.permissions import Perm
from gongzhi.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin
from gongzhi.doorplates.models import Doorplate, PrintJob


@admin.register(Doorplate)
class DoorplateAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """View only: codes are issued and reissued by their services (audited)."""

    scope_fields = ("node__path",)
    scope_perm = Perm.VIEW_NETWORK
    list_display = ("node", "version", "issued_at", "issued_by")
    list_select_related = ("node", "issued_by")
    search_fields = ("node__name", "node__code")
    exclude = ("token",)
    show_full_result_count = False


@admin.register(PrintJob)
class PrintJobAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("node__path",)
    scope_perm = Perm.VIEW_NETWORK
    list_display = ("node", "layout", "reissue", "status", "done", "total", "requested_by", "created_at")
    list_select_related = ("node", "requested_by")
    list_filter = ("status", "layout", "reissue")
    search_fields = ("node__name", "node__code")
    show_full_result_count = False
