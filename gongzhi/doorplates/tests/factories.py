"""A small tree with entrances and grid workers for the doorplate tests."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from gongzhi.accounts.models import Role, User
from gongzhi.core.testing import SmallTree, make_user
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.services import NodeSpec, nodes_bulk_add


@dataclass
class PlateTree:
    tree: SmallTree
    entrance_1: Node  # 春都华府 1号楼 1单元 (grid A)
    entrance_2: Node  # 春都华府 1号楼 2单元 (grid A)
    worker_a: User  # grid worker of grid A, linked to the person 张秀英
    worker_b: User  # grid worker of grid B, no person: the account's display name
    community_staff: User
    compound_a: Node  # 春都华府 (grid A)


@transaction.atomic
def build_plate_tree(tree: SmallTree) -> PlateTree:
    entrance_1, entrance_2 = nodes_bulk_add(
        tree.building_a,
        [
            NodeSpec(NodeKind.ENTRANCE, "KXL-CDHF-1-U1", "1单元"),
            NodeSpec(NodeKind.ENTRANCE, "KXL-CDHF-1-U2", "2单元"),
        ],
    )
    worker_a = make_user("worker-a", role=Role.GRID_WORKER, node=tree.grid_a)
    worker_a.person = tree.resident_a
    worker_a.save(update_fields=["person"])
    worker_b = make_user("worker-b", role=Role.GRID_WORKER, node=tree.grid_b)
    worker_b.display_name = "王网格"
    worker_b.save(update_fields=["display_name"])
    staff = make_user("community-staff", role=Role.COMMUNITY_STAFF, node=tree.community)
    compound_a = Node.objects.get(code="KXL-CDHF")
    return PlateTree(tree, entrance_1, entrance_2, worker_a, worker_b, staff, compound_a)
