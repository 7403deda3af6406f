"""A compound for owners' votes: households with floor areas and their owners."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from gongzhi.accounts.models import Role, User
from gongzhi.core.testing import build_small_tree, make_user, superactor
from gongzhi.people.models import Person, Residency
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add
from gongzhi.votes.models import Vote
from gongzhi.votes.services import vote_create, vote_open

OPENS = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2026, 3, 16, 0, 0, tzinfo=dt.UTC)


@dataclass
class Compound:
    compound: Node
    households: list[Node]
    owners: dict[str, Person]
    staff: User
    outsider_staff: User


@transaction.atomic
def make_compound(areas: list[str], owners: list[str | None], unsold: set[int] = frozenset()) -> Compound:
    """Households 1..n with `areas`; `owners[i]` names the owner of household i (None: no owner registered)."""
    tree = build_small_tree()
    root = superactor()
    compound = node_create(
        actor=root, parent=tree.grid_a, kind=NodeKind.COMPOUND, code="GLHY", name="鼓楼花园"
    )
    building = node_create(actor=root, parent=compound, kind=NodeKind.BUILDING, code="GLHY-1", name="1号楼")
    households = nodes_bulk_add(
        building,
        [
            NodeSpec(
                NodeKind.HOUSEHOLD,
                f"GLHY-1-{i + 1:03d}",
                f"{i + 1:03d}",
                {
                    "door_number": f"{i + 1:03d}",
                    "floor_area": Decimal(area),
                    "is_developer_unsold": i in unsold,
                },
            )
            for i, area in enumerate(areas)
        ],
    )
    people: dict[str, Person] = {}
    for household, name in zip(households, owners, strict=True):
        if name is None:
            continue
        if name not in people:
            people[name] = Person.objects.create(name=name, phone=f"139{len(people):08d}", home=household)
        Residency.objects.create(
            person=people[name], household=household, relation="owner", ownership_share=1
        )
    staff = make_user("community-staff", role=Role.COMMUNITY_STAFF, node=tree.community)
    outsider = make_user("other-grid", role=Role.GRID_WORKER, node=tree.grid_b)
    return Compound(compound, list(households), people, staff, outsider)


def open_vote(
    world: Compound, *, matter: str = "rebuild", question: str = "是否同意鼓楼花园集中供暖改造"
) -> Vote:
    from gongzhi.accounts.scope import resolve_actor

    actor = resolve_actor(world.staff)
    vote = vote_create(
        actor=actor,
        compound_id=world.compound.pk,
        question=question,
        matter=matter,
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    return vote_open(actor=actor, vote_id=vote.pk)
