"""Where a ticket goes: the grid of its address, and the nodes above it for each level."""

from __future__ import annotations

from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.workflow import LEVEL_NODE_KIND, Level

# Kinds of node a ticket may be addressed to (a resident's entrance, home, building, compound …).
ADDRESS_KINDS = frozenset(
    {
        NodeKind.GRID,
        NodeKind.MICRO_GRID,
        NodeKind.COMPOUND,
        NodeKind.BUILDING,
        NodeKind.ENTRANCE,
        NodeKind.HOUSEHOLD,
    }
)

# The roles that handle a ticket at each level, and who supervises them.
LEVEL_HANDLERS: dict[int, tuple[Role, ...]] = {
    Level.GRID: (Role.GRID_WORKER, Role.GRID_CHIEF),
    Level.COMMUNITY: (Role.COMMUNITY_STAFF, Role.COMMUNITY_SECRETARY),
    Level.SUBDISTRICT: (Role.SUBDISTRICT_STAFF,),
}
LEVEL_SUPERVISORS: dict[int, tuple[Role, ...]] = {
    Level.GRID: (Role.GRID_CHIEF,),
    Level.COMMUNITY: (Role.COMMUNITY_SECRETARY,),
    Level.SUBDISTRICT: (Role.SUBDISTRICT_STAFF,),
}


def ancestors_by_kind(node: Node) -> dict[str, Node]:
    """The node and its ancestors, keyed by kind (nearest wins). One query."""
    paths = [node.path[:end] for end in range(node.steplen, len(node.path) + 1, node.steplen)]
    found: dict[str, Node] = {}
    for ancestor in sorted(Node.objects.filter(path__in=paths), key=lambda n: -len(n.path)):
        found.setdefault(ancestor.kind, ancestor)
    return found


def route(node: Node) -> tuple[Node, dict[int, Node]]:
    """The grid of an address and the owning node for every level above it."""
    if node.kind not in ADDRESS_KINDS:
        raise ValidationFailed(
            _("A ticket must be addressed to a grid, compound, building, entrance or household.")
        )
    by_kind = ancestors_by_kind(node)
    grid = by_kind.get(NodeKind.GRID)
    if grid is None:
        raise ValidationFailed(_("This address belongs to no grid; ask the community to place it in one."))
    levels: dict[int, Node] = {
        int(level): by_kind[kind] for level, kind in LEVEL_NODE_KIND.items() if kind in by_kind
    }
    return grid, levels


def owner_for_level(grid: Node, level: int) -> tuple[int, Node]:
    """The node owning a ticket at `level`, falling back to the highest level that exists."""
    _grid, levels = route(grid)
    for candidate in range(level, 0, -1):
        if candidate in levels:
            return candidate, levels[candidate]
    return Level.GRID, grid


def handlers_of(node: Node, roles: tuple[Role, ...]) -> list[User]:
    """Active users holding one of `roles` on exactly this node."""
    user_ids = (
        RoleAssignment.objects.active_on(clock.today())
        .filter(node=node, role__in=roles, user__is_active=True)
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=user_ids))


def department_handlers(organization_ids: list[int]) -> list[User]:
    user_ids = (
        RoleAssignment.objects.active_on(clock.today())
        .filter(organization_id__in=organization_ids, role=Role.DEPARTMENT_HANDLER, user__is_active=True)
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=user_ids))
