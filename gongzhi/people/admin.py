from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.permissions import Perm
from gongzhi.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, ScopedAdminMixin
from gongzhi.people.models import PartyMember, Person, Residency, Tag


@admin.register(Person)
class PersonAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """View only: people are written by their services (encryption, counts, audit). The raw
    phone and the encrypted ID columns are never shown, only their masks."""

    scope_fields = ("home__path",)
    scope_perm = Perm.VIEW_PEOPLE
    list_display = ("name", "masked_phone_display", "home", "gender", "birth_year")
    list_select_related = ("home",)
    search_fields = ("name", "name_initials", "phone_last4")
    list_filter = ("gender", "tags")
    fields = ("name", "masked_phone_display", "masked_id_display", "gender", "birth_year", "home", "tags")
    readonly_fields = ("masked_phone_display", "masked_id_display")
    show_full_result_count = False

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj: Person) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_id_display(self, obj: Person) -> str:
        return obj.masked_id_number


@admin.register(Residency)
class ResidencyAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("household__path",)
    scope_perm = Perm.VIEW_PEOPLE
    list_display = ("person", "household", "relation", "ownership_share")
    list_select_related = ("person", "household")
    list_filter = ("relation",)
    search_fields = ("person__name", "household__door_number")


@admin.register(PartyMember)
class PartyMemberAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("person__home__path",)
    scope_perm = Perm.VIEW_PEOPLE
    list_display = ("person", "organization", "employer", "joined_year")
    list_select_related = ("person", "organization", "employer")
    search_fields = ("person__name", "organization__name")


@admin.register(Tag)
class TagAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name")
    search_fields = ("code", "name")
