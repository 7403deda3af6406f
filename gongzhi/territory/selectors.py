"""Reads of the network, always through the actor's scope (outside it: NotFound → 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import NotFound
from gongzhi.territory.models import Node, NodeKind, subtree_q


def node_get(*, actor: Actor, node_id: int) -> Node:
    node = Node.objects.visible_to(actor).select_related("stats").filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    return node


def node_children(*, actor: Actor, node: Node) -> QuerySet[Node]:
    """Children of a visible node, with their counts (one query)."""
    # The narrow range first: SQLite walks the path index by the first range it meets.
    return (
        Node.objects.filter(subtree_q("path", node.path), depth=node.depth + 1)
        .visible_to(actor)
        .select_related("stats")
        .order_by("path")
    )


def scope_roots(*, actor: Actor) -> QuerySet[Node]:
    """The top nodes of the actor's scope (the roots of the trees they may see)."""
    if actor.is_superuser:
        return Node.objects.filter(depth=1).select_related("stats")
    return (
        Node.objects.filter(path__in=actor.paths_for(Perm.VIEW_NETWORK))
        .select_related("stats")
        .order_by("path")
    )


def node_ancestors(*, actor: Actor, node: Node) -> list[Node]:
    """Breadcrumb: the node's ancestors that the actor may see, root first."""
    return list(Node.objects.visible_to(actor).filter(path__in=node.ancestor_paths[:-1]).order_by("depth"))


def households_in(*, actor: Actor, node: Node) -> QuerySet[Node]:
    # The node's own (narrow) path range must come before the scope's (wide) one: SQLite
    # walks the index by the first range it is given; otherwise the time to list a grid grows
    # with its position in the district (bench/tree.py).
    return (
        Node.objects.filter(subtree_q("path", node.path), kind=NodeKind.HOUSEHOLD)
        .visible_to(actor)
        .select_related("stats")
        .order_by("path")
    )
