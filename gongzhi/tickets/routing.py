"""Where a ticket goes: the grid of its address, and the nodes above it for each level.

Routing, handlers and the other rarely changing rows the intake reads on every submission
(categories, Open311 keys, addresses) are memoized per process for `MEMO_SECONDS` (30 s) by
`memoized()`. Every entry is also tied to a generation kept in Django's cache: saving or
deleting a node, role assignment, user, category, question, webhook endpoint or Open311 key
starts a new generation (at once and again at commit), so with a shared cache (Redis, the file
cache) every process drops its entries at the next read. Changes no signal reports (queryset
`update()`, tree moves, a role assignment expiring at midnight is covered by keying on the day)
take effect within `MEMO_SECONDS`; so does everything with a per-process cache (locmem).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.signals import node_moved
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


# --- per-process memo ----------------------------------------------------------------------------

MEMO_SECONDS = 30.0
MEMO_MAX_ENTRIES = 20_000
_GENERATION_KEY = "gongzhi:memo-generation"
_memo: dict[Hashable, tuple[float, str, Any]] = {}
T = TypeVar("T")


def memo_generation() -> str:
    """The current generation (one cache read); a cleared cache starts a new one."""
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        generation = secrets.token_hex(8)
        if not cache.add(_GENERATION_KEY, generation, timeout=None):
            generation = cache.get(_GENERATION_KEY) or generation
    return str(generation)


def _bump_generation() -> None:
    _memo.clear()
    cache.set(_GENERATION_KEY, secrets.token_hex(8), timeout=None)


def memo_invalidate(**_kwargs: Any) -> None:
    """Drop every memoized value here and, through the shared generation, in every process.

    Inside a transaction, this process forgets at once (it may read its own changes) and every
    process at commit (once per transaction, however many rows changed); outside, everyone at once.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _bump_generation()
        return
    _memo.clear()
    if not any(func is _bump_generation for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_bump_generation)


def memoized(key: Hashable, load: Callable[[], T], *, seconds: float = MEMO_SECONDS) -> T:
    """`load()`'s value, kept for `seconds` in this process unless the generation changed.
    Values are shared between callers: treat them as read-only."""
    generation = memo_generation()
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and hit[0] > now and hit[1] == generation:
        return hit[2]  # type: ignore[no-any-return]
    value = load()
    if len(_memo) >= MEMO_MAX_ENTRIES:
        _memo.clear()
    _memo[key] = (now + seconds, generation, value)
    return value


def _connect_invalidation() -> None:
    for label in (
        "territory.Node",
        "accounts.RoleAssignment",
        "accounts.User",
        "tickets.Category",
        "tickets.CategoryQuestion",
        "notifications.WebhookEndpoint",
        "open311.Open311Key",
    ):
        for signal in (post_save, post_delete):
            # A lazy sender ("app.Model"): connected once the model is loaded.
            signal.connect(memo_invalidate, sender=label, dispatch_uid=f"memo-invalidate:{label}")


_connect_invalidation()
# A move rewrites paths in bulk (no post_save): routes of the moved subtree change.
node_moved.connect(memo_invalidate, dispatch_uid="memo-invalidate:node-moved")


# --- routing -------------------------------------------------------------------------------------


def ancestors_by_kind(node: Node) -> dict[str, Node]:
    """The node and its ancestors, keyed by kind (nearest wins). One query."""
    paths = [node.path[:end] for end in range(node.steplen, len(node.path) + 1, node.steplen)]
    found: dict[str, Node] = {}
    for ancestor in sorted(Node.objects.filter(path__in=paths), key=lambda n: -len(n.path)):
        found.setdefault(ancestor.kind, ancestor)
    return found


# Kinds a route reads: the grid and the node kind of every level.
ROUTING_KINDS = frozenset({NodeKind.GRID, *LEVEL_NODE_KIND.values()})


def routing_nodes() -> dict[str, Node]:
    """Every grid, community and subdistrict by path (memoized: one query per process and generation)."""
    return memoized(
        ("routing-nodes",), lambda: {n.path: n for n in Node.objects.filter(kind__in=ROUTING_KINDS)}
    )


def route(node: Node) -> tuple[Node, dict[int, Node]]:
    """The grid of an address and the owning node for every level above it.

    Reads the memoized grids, communities and subdistricts (`routing_nodes`), so no query as a
    rule; an address the memo finds no grid for is looked up in the database before it is refused.
    """
    if node.kind not in ADDRESS_KINDS:
        return _route(node)  # raises
    known = routing_nodes()
    by_kind: dict[str, Node] = {}
    for path in reversed(node.ancestor_paths):
        found = known.get(path)
        if found is not None:
            by_kind.setdefault(found.kind, found)
    if NodeKind.GRID not in by_kind:
        return _route(node)
    return _levels(by_kind)


def _levels(by_kind: dict[str, Node]) -> tuple[Node, dict[int, Node]]:
    levels: dict[int, Node] = {
        int(level): by_kind[kind] for level, kind in LEVEL_NODE_KIND.items() if kind in by_kind
    }
    return by_kind[NodeKind.GRID], levels


def _route(node: Node) -> tuple[Node, dict[int, Node]]:
    if node.kind not in ADDRESS_KINDS:
        raise ValidationFailed(
            _("A ticket must be addressed to a grid, compound, building, entrance or household.")
        )
    by_kind = ancestors_by_kind(node)
    if by_kind.get(NodeKind.GRID) is None:
        raise ValidationFailed(_("This address belongs to no grid; ask the community to place it in one."))
    return _levels(by_kind)


def level_owner(levels: dict[int, Node], wanted: int) -> tuple[Level, Node]:
    """The level that owns a ticket meant for `wanted`, and its node, among an address's `levels`.

    A tree may lack a level above a grid (a grid placed straight under its subdistrict, data
    imported without communities): the matter goes to the nearest level above the missing one,
    which does what the missing level would (and an escalation is never stuck below it); with no
    level above, to the highest one below. A `wanted` outside the levels (a category's corrupt
    default) is read the same way. An address with no level at all is a clear refusal.
    """
    if not levels:
        raise ValidationFailed(_("This address belongs to no grid; ask the community to place it in one."))
    above = [level for level in levels if level >= wanted]
    chosen = min(above) if above else max(levels)
    return Level(chosen), levels[chosen]


def owner_for_level(grid: Node, level: int) -> tuple[int, Node]:
    """The node owning a ticket of `grid` at `level` (see `level_owner` for a missing level)."""
    _grid, levels = route(grid)
    return level_owner(levels, level)


def handlers_of(node: Node, roles: tuple[Role, ...]) -> list[User]:
    """Active users holding one of `roles` on exactly this node (memoized; a fresh list each call)."""
    today = clock.today()
    return list(
        memoized(("handlers", node.pk, tuple(roles), today), lambda: _handlers_of(node, roles, today))
    )


def _handlers_of(node: Node, roles: tuple[Role, ...], today: Any) -> list[User]:
    user_ids = (
        RoleAssignment.objects.active_on(today)
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
