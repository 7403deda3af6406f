"""The acting user and their effective scopes, resolved once per request.

A grant is a (role, node path) pair: an active role held on a node gives that node's
subtree; a role held on an organization gives the subtrees of every node it serves.
Selectors filter with `scope_q`; services check with `Actor.ensure_can`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.permissions import ROLE_PERMISSIONS, Perm
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.territory.models import subtree_q


@dataclass(frozen=True)
class Grant:
    role: Role
    path: str
    node_id: int


@dataclass(frozen=True)
class Actor:
    user: User | None
    grants: tuple[Grant, ...] = ()
    is_superuser: bool = False
    # (role, organization id) for roles held on an organization: a department handler acts for
    # its department wherever a ticket summons it, not only inside the nodes it serves.
    organization_roles: tuple[tuple[Role, int], ...] = ()
    _paths_by_perm: dict[Perm, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    def organization_ids(self, role: Role | None = None) -> frozenset[int]:
        return frozenset(org for held, org in self.organization_roles if role is None or held == role)

    def paths_for(self, perm: Perm | None = None) -> tuple[str, ...]:
        """Minimal set of subtree roots where the actor holds `perm` (any role if None)."""
        key = perm or Perm.VIEW_NETWORK
        if perm is None:
            return _minimal_paths(grant.path for grant in self.grants)
        if key not in self._paths_by_perm:
            paths = _minimal_paths(g.path for g in self.grants if perm in ROLE_PERMISSIONS[g.role])
            self._paths_by_perm[key] = paths
        return self._paths_by_perm[key]

    def has_perm_anywhere(self, perm: Perm) -> bool:
        return self.is_superuser or bool(self.paths_for(perm))

    def can(self, perm: Perm, path: str) -> bool:
        return self.is_superuser or any(path.startswith(root) for root in self.paths_for(perm))

    def ensure_can(self, perm: Perm, path: str) -> None:
        """Raise NotFound when the path is outside every scope of the actor (not even visible),
        PermissionDenied when it is visible but the actor lacks `perm` there."""
        if self.can(perm, path):
            return
        if self.can(Perm.VIEW_NETWORK, path):
            raise PermissionDenied()
        raise NotFound()

    def ensure_has_perm(self, perm: Perm) -> None:
        if not self.has_perm_anywhere(perm):
            raise PermissionDenied()


ANONYMOUS = Actor(user=None)


def _minimal_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set (a subtree already covered)."""
    result: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(kept) for kept in result):
            result.append(path)
    return tuple(result)


def resolve_actor(user: User | None, *, day: dt.date | None = None) -> Actor:
    """Load the user's active role assignments (one query) and turn them into grants."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    day = day or clock.today()
    assignments = (
        RoleAssignment.objects.active_on(day)
        .filter(user=user)
        .select_related("node", "organization")
        .prefetch_related("organization__nodes")
    )
    grants: list[Grant] = []
    organization_roles: list[tuple[Role, int]] = []
    for assignment in assignments:
        role = Role(assignment.role)
        if assignment.node is not None:
            grants.append(Grant(role, assignment.node.path, assignment.node.pk))
        elif assignment.organization is not None:
            organization_roles.append((role, assignment.organization.pk))
            grants.extend(Grant(role, node.path, node.pk) for node in assignment.organization.nodes.all())
    return Actor(
        user=user,
        grants=tuple(grants),
        is_superuser=user.is_superuser,
        organization_roles=tuple(organization_roles),
    )


def scope_q(actor: Actor, field_name: str, perm: Perm | None = Perm.VIEW_NETWORK) -> Q:
    """A filter keeping rows whose `field_name` (a materialized path) lies in the actor's scope."""
    if actor.is_superuser:
        return Q()
    paths = actor.paths_for(perm)
    if not paths:
        return Q(**{f"{field_name}__in": []})
    query = Q()
    for path in paths:
        query |= subtree_q(field_name, path)
    return query
