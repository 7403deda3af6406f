"""Reads about roles: the roles an actor may manage, the places and accounts a role may be given on
and to, and the building leaders counted in NodeStats."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db.models import Q, QuerySet

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core.errors import NotFound
from gongzhi.territory.models import Node


class CountedLeader(NamedTuple):
    assignment_id: int
    node_path: str


def building_leaders_counted_on(
    day: dt.date, assignments: QuerySet[RoleAssignment] | None = None
) -> list[CountedLeader]:
    """The building leaders' assignments that NodeStats.building_leaders counts on `day`: active
    that day, held on a node, one per (user, node) (the oldest), so each person counts once per
    building however their periods were recorded. `assignments` narrows the candidates."""
    candidates = RoleAssignment.objects.all() if assignments is None else assignments
    rows = (
        candidates.active_on(day)  # type: ignore[attr-defined]
        .filter(role=Role.BUILDING_LEADER, node__isnull=False)
        .order_by("pk")
        .values_list("pk", "user_id", "node_id", "node__path")
    )
    seen: set[tuple[int, int]] = set()
    counted = []
    for pk, user_id, node_id, path in rows.iterator(chunk_size=5000):
        if (user_id, node_id) not in seen:
            seen.add((user_id, node_id))
            counted.append(CountedLeader(pk, path))
    return counted


def _managed_q(actor: Actor) -> Q:
    return scope_q(actor, "node__path", Perm.MANAGE_ROLES) | scope_q(
        actor, "organization__nodes__path", Perm.MANAGE_ROLES
    )


def role_list(
    *, actor: Actor, ended: bool = False, query: str = "", day: dt.date
) -> QuerySet[RoleAssignment]:
    """Roles held on places the actor manages roles on: current and future ones (or, with
    `ended`, those that ended before `day`), in the order of the tree."""
    if not actor.has_perm_anywhere(Perm.MANAGE_ROLES):
        raise NotFound()
    roles = RoleAssignment.objects.filter(_managed_q(actor))
    roles = (
        roles.filter(ends_on__lt=day)
        if ended
        else roles.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    )
    query = (query or "").strip()
    if query:
        roles = roles.filter(
            Q(user__username__icontains=query)
            | Q(user__display_name__contains=query)
            | Q(node__name__contains=query)
            | Q(organization__name__contains=query)
        )
    return (
        roles.distinct()
        .select_related("user", "node", "organization")
        .order_by("node__path", "organization__name", "role", "user__username", "pk")
    )


def role_get(*, actor: Actor, assignment_id: int) -> RoleAssignment:
    """One role on a place the actor manages roles on; anything else is NotFound."""
    if not actor.has_perm_anywhere(Perm.MANAGE_ROLES):
        raise NotFound()
    assignment = (
        RoleAssignment.objects.filter(_managed_q(actor), pk=assignment_id)
        .select_related("user", "node", "organization")
        .first()
    )
    if assignment is None:
        raise NotFound()
    return assignment


def role_place_get(*, actor: Actor, node_id: int) -> Node:
    """A node where the actor manages roles, to give one there. Outside the actor's scope, or
    where the actor may see but not manage roles: NotFound, as for `role_get`."""
    if not actor.has_perm_anywhere(Perm.MANAGE_ROLES):
        raise NotFound()
    node = Node.objects.filter(scope_q(actor, "path", Perm.MANAGE_ROLES), pk=node_id).first()
    if node is None:
        raise NotFound()
    return node


def role_holder_find(*, actor: Actor, username: str) -> User | None:
    """The active account named `username` (exactly; else ignoring case, if only one matches), to
    be given a role. Accounts are not scoped: a role is how someone enters the actor's place; only
    those who manage roles somewhere may look."""
    if not actor.has_perm_anywhere(Perm.MANAGE_ROLES):
        raise NotFound()
    username = username.strip()
    if not username:
        return None
    active = User.objects.filter(is_active=True)
    user = active.filter(username=username).first()
    if user is None:
        matches = list(active.filter(username__iexact=username)[:2])
        user = matches[0] if len(matches) == 1 else None
    return user


def role_overlapping(
    *,
    user_id: int,
    role: str,
    node_id: int | None,
    organization_id: int | None,
    starts_on: dt.date,
    ends_on: dt.date | None,
    exclude_id: int | None = None,
) -> RoleAssignment | None:
    """The earliest assignment of the same role, user and place whose period meets this one."""
    place = Q(node_id=node_id) if node_id is not None else Q(organization_id=organization_id)
    same = RoleAssignment.objects.filter(place, user_id=user_id, role=role).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on)
    )
    if ends_on is not None:
        same = same.filter(starts_on__lte=ends_on)
    if exclude_id is not None:
        same = same.exclude(pk=exclude_id)
    return same.select_related("user").order_by("starts_on").first()
