"""Shared fixtures: a frozen clock and the small world of tickets' tests with a property manager
serving the community (test modules with their own `clock` or `world` keep theirs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from gongzhi.meetings.tests.test_services import NOW
from gongzhi.territory.models import Organization
from gongzhi.tickets.tests.factories import make_world


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> Any:
    world = make_world()
    world.property_manager = Organization.objects.create(
        code="pm-1", name="春都物业", kind="property_manager"
    )
    world.property_manager.nodes.add(world.tree.community)
    return world
