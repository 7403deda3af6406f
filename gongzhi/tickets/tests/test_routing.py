"""Which level owns a new or escalated ticket when the tree lacks a level above the grid.

The territory services keep the tree's shape (district → subdistrict → community → grid …), but
data imported or edited outside them may skip a level. Then a ticket meant for the missing level
goes to the nearest level above it (the subdistrict doing what the community would), or to the
highest below when there is none above; it never crashes the intake and never sticks on escalation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import translation

from gongzhi.core.errors import ValidationFailed
from gongzhi.territory.models import Node, NodeKind, NodeStats
from gongzhi.tickets.models import Category
from gongzhi.tickets.routing import level_owner, route
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.workflow import Level

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def _set_level(category: Category, level: int) -> None:
    """Saved (not a queryset update), so the memoized category is dropped as in the back office."""
    category.default_level = level
    category.save(update_fields=["default_level"])


def _child(parent: Node, kind: str, code: str, name: str) -> Node:
    """A node added below `parent` without the services' shape check: as imported data may be."""
    node = Node.objects.add_child(parent, instance=Node(kind=kind, code=code, name=name))
    NodeStats.objects.create(node=node)
    return node


@pytest.fixture
def world() -> Any:
    with time_machine.travel(NOW, tick=False) as clock:
        world = make_world()
        world.clock = clock  # type: ignore[attr-defined]
        yield world


@pytest.fixture
def lone_building(world: World) -> Node:
    """A grid straight under the subdistrict (no community), with a building."""
    grid = _child(world.tree.subdistrict, NodeKind.GRID, "LONE-G", "街道直管网格")
    return _child(grid, NodeKind.BUILDING, "LONE-B1", "直管1号楼")


def test_a_community_matter_without_a_community_goes_to_the_subdistrict(
    world: World, lone_building: Node
) -> None:
    _set_level(world.category, Level.COMMUNITY)
    ticket = submit(world.tree, node=lone_building)
    assert (ticket.level, ticket.owner_node) == (Level.SUBDISTRICT, world.tree.subdistrict)


def test_a_grid_matter_stays_in_the_grid_and_escalates_past_the_missing_community(
    world: World, lone_building: Node
) -> None:
    ticket = submit(world.tree, node=lone_building)
    assert (ticket.level, ticket.owner_node.code) == (Level.GRID, "LONE-G")
    world.clock.shift(dt.timedelta(hours=1))  # type: ignore[attr-defined]
    assert tickets_sweep().escalated == 1
    ticket.refresh_from_db()
    assert (ticket.level, ticket.owner_node) == (Level.SUBDISTRICT, world.tree.subdistrict)


def test_a_category_s_level_outside_the_known_ones_is_read_sanely(world: World) -> None:
    _set_level(world.category, 7)  # written around the form's choices
    high = submit(world.tree, submit_key="high")
    _set_level(world.category, 0)
    low = submit(world.tree, submit_key="low")
    assert (high.level, high.owner_node) == (Level.SUBDISTRICT, world.tree.subdistrict)
    assert (low.level, low.owner_node) == (Level.GRID, world.tree.grid_a)


def test_without_a_level_above_the_highest_one_below_owns_it(world: World) -> None:
    _grid, levels = route(world.tree.grid_a)
    del levels[Level.SUBDISTRICT]  # a community at the top of its tree
    assert level_owner(levels, Level.SUBDISTRICT) == (Level.COMMUNITY, world.tree.community)


def test_an_address_with_no_level_at_all_is_a_clear_refusal() -> None:
    with translation.override("en"), pytest.raises(ValidationFailed, match="belongs to no grid"):
        level_owner({}, Level.GRID)
