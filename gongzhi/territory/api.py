"""GET /api/v1/nodes/{id} and /nodes/{id}/children: the one network with its counts, scoped."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import SCOPED_ERRORS, PageParams, paginate
from gongzhi.territory.models import Heating, Node, NodeKind, NodeStats
from gongzhi.territory.selectors import node_children, node_get

router = Router(tags=["network"])


class PointOut(Schema):
    lat: float
    lng: float


class CountsOut(Schema):
    """Maintained roll-up counts of the node's whole subtree."""

    households: int
    residents: int
    party_members: int
    building_leaders: int


class NodeOut(Schema):
    id: int
    code: str
    name: str
    kind: NodeKind
    kind_label: str
    parent_id: int | None
    depth: int
    point: PointOut | None
    boundary: dict[str, Any] | None
    # Attributes of one kind; null (or empty) on the others.
    year_built: int | None
    heating: Heating | None
    property_manager_id: int | None
    floors: int | None
    door_number: str
    floor_area: str | None
    is_party_member_household: bool
    counts: CountsOut


class NodePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[NodeOut]


_NO_STATS = NodeStats(households=0, residents=0, party_members=0, building_leaders=0)


def _stats(node: Node) -> NodeStats:
    try:
        return node.stats
    except NodeStats.DoesNotExist:  # a node added outside the services: no roll-up row yet
        return _NO_STATS


def node_out(node: Node, *, parent_id: int | None) -> dict[str, Any]:
    stats = _stats(node)
    has_point = node.latitude is not None and node.longitude is not None
    return {
        "id": node.pk,
        "code": node.code,
        "name": node.name,
        "kind": node.kind,
        "kind_label": str(NodeKind(node.kind).label),
        "parent_id": parent_id,
        "depth": node.depth,
        "point": {"lat": float(node.latitude), "lng": float(node.longitude)} if has_point else None,  # type: ignore[arg-type]
        "boundary": node.boundary,
        "year_built": node.year_built,
        "heating": node.heating or None,
        "property_manager_id": node.property_manager_id,
        "floors": node.floors,
        "door_number": node.door_number,
        "floor_area": str(node.floor_area) if node.floor_area is not None else None,
        "is_party_member_household": node.is_party_member_household,
        "counts": {
            "households": stats.households,
            "residents": stats.residents,
            "party_members": stats.party_members,
            "building_leaders": stats.building_leaders,
        },
    }


@router.get("/nodes/{node_id}", response={200: NodeOut, **SCOPED_ERRORS}, summary="A node with its counts")
def node_detail(request: HttpRequest, node_id: int) -> dict[str, Any]:
    """A node of the one network. Outside the caller's scope it does not exist (404)."""
    node = node_get(actor=actor_of(request), node_id=node_id)
    parent = Node.objects.get_parent(node) if node.depth > 1 else None
    return node_out(node, parent_id=parent.pk if parent else None)


@router.get(
    "/nodes/{node_id}/children",
    response={200: NodePageOut, **SCOPED_ERRORS},
    summary="The children of a node, with their counts",
)
def node_children_list(request: HttpRequest, node_id: int, paging: Query[PageParams]) -> dict[str, Any]:
    actor = actor_of(request)
    node = node_get(actor=actor, node_id=node_id)
    page = paginate(node_children(actor=actor, node=node), paging)
    return {
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
        "items": [node_out(child, parent_id=node.pk) for child in page.items],
    }
