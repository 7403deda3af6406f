"""Test helpers shared by every app: a small tree and users holding roles on it.

Builds data through the real services (as Zulip's tests do), so fixtures obey the same
invariants as production data: roll-up counts, audit rows, encrypted ID numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.core import personal
from gongzhi.people.models import Person
from gongzhi.people.services import PersonData, person_create
from gongzhi.territory.models import CHILD_KINDS, ROOT_KINDS, Node, NodeKind
from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def superactor() -> Actor:
    user = User.objects.filter(username="root").first() or User.objects.create_superuser(
        "root", "root@example.org", PASSWORD
    )
    return resolve_actor(user)


def make_user(
    username: str | None = None,
    *,
    role: Role | None = None,
    node: Node | None = None,
    organization: object | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> User:
    user = User.objects.create_user(username or f"user{next(_counter)}", password=PASSWORD)
    if role is not None:
        RoleAssignment.objects.create(
            user=user,
            role=role,
            node=node,
            organization=organization,  # type: ignore[misc]
            starts_on=starts_on or dt.date(2020, 1, 1),
            ends_on=ends_on,
        )
    return user


def make_id_number(serial: int, born: str = "19560312") -> str:
    """A valid ID number (right check digit) for tests: region 370882 (兖州区)."""
    first17 = f"370882{born}{serial % 1000:03d}"
    return first17 + personal.id_check_digit(first17)


@dataclass
class SmallTree:
    """兖州区 › 鼓楼街道 › 奎星楼社区 › grid A (春都华府 › 1号楼 › 101, 102) and grid B (东苑 › 3号楼 › 201)."""

    district: Node
    subdistrict: Node
    community: Node
    grid_a: Node
    grid_b: Node
    building_a: Node
    building_b: Node
    household_a1: Node
    household_a2: Node
    household_b1: Node
    resident_a: Person
    resident_b: Person


@transaction.atomic
def build_small_tree() -> SmallTree:
    root = superactor()
    district = node_create(actor=root, parent=None, kind=NodeKind.DISTRICT, code="370812", name="兖州区")
    sub = node_create(
        actor=root, parent=district, kind=NodeKind.SUBDISTRICT, code="370812-01", name="鼓楼街道"
    )
    community = node_create(
        actor=root, parent=sub, kind=NodeKind.COMMUNITY, code="370812-01-01", name="奎星楼社区"
    )
    grid_a = node_create(actor=root, parent=community, kind=NodeKind.GRID, code="KXL-G01", name="第一网格")
    grid_b = node_create(actor=root, parent=community, kind=NodeKind.GRID, code="KXL-G02", name="第二网格")
    compound_a = node_create(
        actor=root, parent=grid_a, kind=NodeKind.COMPOUND, code="KXL-CDHF", name="春都华府", year_built=2008
    )
    compound_b = node_create(
        actor=root, parent=grid_b, kind=NodeKind.COMPOUND, code="KXL-DY", name="东苑小区", year_built=1996
    )
    building_a = node_create(
        actor=root, parent=compound_a, kind=NodeKind.BUILDING, code="KXL-CDHF-1", name="1号楼", floors=6
    )
    building_b = node_create(
        actor=root, parent=compound_b, kind=NodeKind.BUILDING, code="KXL-DY-3", name="3号楼", floors=5
    )
    a1, a2 = nodes_bulk_add(
        building_a,
        [
            NodeSpec(
                NodeKind.HOUSEHOLD,
                "KXL-CDHF-1-101",
                "101",
                {"door_number": "101", "floor_area": Decimal("89.50")},
            ),
            NodeSpec(
                NodeKind.HOUSEHOLD,
                "KXL-CDHF-1-102",
                "102",
                {"door_number": "102", "floor_area": Decimal("120.00")},
            ),
        ],
    )
    (b1,) = nodes_bulk_add(
        building_b,
        [
            NodeSpec(
                NodeKind.HOUSEHOLD,
                "KXL-DY-3-201",
                "201",
                {"door_number": "201", "floor_area": Decimal("65.30")},
            ),
        ],
    )
    resident_a = person_create(
        actor=root,
        home_id=a1.pk,
        relation="owner",
        data=PersonData(
            name="张秀英",
            phone="13812341234",
            id_number=make_id_number(1),
            gender="female",
            birth_year=1956,
            tags=("elderly_alone",),
        ),
    )
    resident_b = person_create(
        actor=root,
        home_id=b1.pk,
        relation="owner",
        data=PersonData(
            name="李建国",
            phone="13998765678",
            id_number=make_id_number(2, "19620101"),
            gender="male",
            birth_year=1962,
        ),
    )
    return SmallTree(
        district, sub, community, grid_a, grid_b, building_a, building_b, a1, a2, b1, resident_a, resident_b
    )


def assert_tree_is_valid() -> None:
    """What treebeard's find_problems() checks, in memory (it costs two queries per node),
    plus the shape: every kind sits under an allowed parent kind."""
    rows = list(Node.objects.values_list("path", "depth", "numchild", "kind"))
    kinds = {path: kind for path, _, _, kind in rows}
    children = Counter(path[: -Node.steplen] for path in kinds)
    for path, depth, numchild, kind in rows:
        parent = path[: -Node.steplen]
        assert set(path) <= set(Node.alphabet)
        assert len(path) == depth * Node.steplen
        assert numchild == children[path]
        assert kind in ROOT_KINDS if not parent else kind in CHILD_KINDS[kinds[parent]]


def run_together(*jobs: Callable[[], object]) -> None:
    """Run the jobs at the same moment, each on its own thread and database connection (the
    concurrency tests, PostgreSQL); raise the first error any of them met."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as error:  # reported by the calling thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
