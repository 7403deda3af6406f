"""Reads of owners' votes, scoped by the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core.errors import NotFound
from gongzhi.votes.models import Vote, VoteStatus


def vote_list(*, actor: Actor, status: str = "") -> QuerySet[Vote]:
    votes = Vote.objects.filter(scope_q(actor, "compound__path", Perm.VIEW_NETWORK)).select_related(
        "compound"
    )
    if status:
        votes = votes.filter(status=status)
    return votes.order_by("-closes_at", "-pk")


def vote_get(*, actor: Actor, vote_id: int) -> Vote:
    vote = vote_list(actor=actor).filter(pk=vote_id).first()
    if vote is None:
        raise NotFound()
    return vote


def vote_public_get(*, vote_id: int) -> Vote:
    """A closed vote, for its public record and result page (no login needed)."""
    vote = Vote.objects.select_related("compound").filter(pk=vote_id, status=VoteStatus.CLOSED).first()
    if vote is None:
        raise NotFound()
    return vote
