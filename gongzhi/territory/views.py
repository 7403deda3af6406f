"""Staff pages of the network: the home tree of the actor's scope and one node's page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.accounts.permissions import Perm
from gongzhi.core.views import request_actor, staff_view
from gongzhi.people.selectors import person_search
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.selectors import households_in, node_ancestors, node_children, node_get, scope_roots

# Levels whose page lists the households below them (a community has too many to list).
HOUSEHOLD_LIST_KINDS = frozenset(
    {NodeKind.GRID, NodeKind.MICRO_GRID, NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE}
)
# How many levels of the tree the home page opens below each scope root.
HOME_TREE_DEPTH = 2


@dataclass
class TreeItem:
    node: Node
    children: list[TreeItem] = field(default_factory=list)


def _subtree(request: HttpRequest, node: Node, levels: int) -> TreeItem:
    item = TreeItem(node)
    if levels > 0 and node.kind != NodeKind.HOUSEHOLD:
        actor = request_actor(request)
        item.children = [
            _subtree(request, child, levels - 1)
            for child in node_children(actor=actor, node=node).exclude(kind=NodeKind.HOUSEHOLD)
        ]
    return item


@staff_view
def home(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    roots = list(scope_roots(actor=actor))
    items = [_subtree(request, root, HOME_TREE_DEPTH) for root in roots]
    return render(request, "territory/home.html", {"items": items})


@staff_view
def node_detail(request: HttpRequest, node_id: int) -> HttpResponse:
    actor = request_actor(request)
    node = node_get(actor=actor, node_id=node_id)
    context: dict[str, object] = {
        "node": node,
        "ancestors": node_ancestors(actor=actor, node=node),
        # Households are listed (paginated) in their own table, not among the children.
        "children": list(node_children(actor=actor, node=node).exclude(kind=NodeKind.HOUSEHOLD)),
        "lists_households": node.kind in HOUSEHOLD_LIST_KINDS,
        "can_manage_roles": actor.can(Perm.MANAGE_ROLES, node.path),
    }
    if node.kind in HOUSEHOLD_LIST_KINDS:
        paginator = Paginator(households_in(actor=actor, node=node), settings.PAGE_SIZE)
        context["page"] = paginator.get_page(request.GET.get("page"))
    if node.kind == NodeKind.HOUSEHOLD:
        context["people"] = list(person_search(actor=actor, node_path=node.path))
    if node.property_manager_id:
        context["property_manager"] = node.property_manager
    return render(request, "territory/node.html", context)
