"""Back office for owners' votes: read-only. Votes change only through the services, and a ballot
edited here would break the published chain, so nothing is writable. A staff user sees the votes
and ballots of the compounds in their scope only (as the votes pages do)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin
from gongzhi.votes.models import Ballot, Vote


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("compound__path",)
    list_display = ("question", "compound", "matter", "threshold", "status", "opens_at", "closes_at")
    list_filter = ("status", "matter")
    search_fields = ("question", "compound__name")
    list_select_related = ("compound",)
    exclude = ("created_by",)


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    scope_fields = ("vote__compound__path",)
    list_display = ("vote", "seq", "part", "choice", "method", "cast_at", "superseded_by")
    list_filter = ("method", "choice")
    list_select_related = ("vote", "part")
    # The voter and who entered it stay out of the list: personal data, shown to no one here.
    exclude = ("voter", "entered_by", "submit_key")
