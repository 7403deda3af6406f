"""Possible duplicates: alike text near the same address, recent first, within the caller's scope."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.testing import SmallTree, make_user, superactor
from gongzhi.territory.models import Node, NodeKind
from gongzhi.territory.services import node_create
from gongzhi.tickets.models import Category, Ticket
from gongzhi.tickets.services.handling import ticket_accept, ticket_reject
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.similar import cosine, similar_open_tickets, time_weight

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
LAMP = "3号楼2单元楼道灯不亮"
LAMP_AGAIN = "三号楼二单元楼道的灯坏了"
STALLS = "小区门口占道经营"


@pytest.fixture
def lights(db: None) -> Category:
    Category.objects.create(
        code="facilities",
        name="公共设施",
        keywords="路灯 楼道灯 电梯",
        response_minutes=1440,
        resolution_minutes=10080,
    )
    return Category.objects.create(
        code="lighting", name="照明", keywords="灯 不亮", response_minutes=1440, resolution_minutes=10080
    )


def submit(node: Node, description: str, *, category: str = "lighting", days_ago: float = 0) -> Ticket:
    with time_machine.travel(NOW - dt.timedelta(days=days_ago), tick=False):
        return ticket_submit(
            actor=None,
            data=TicketInput(node_id=node.pk, category_code=category, description=description, channel="web"),
        )


def numbers(found: list) -> list[str]:
    return [item.ticket.number for item in found]


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_cosine_and_time_weight() -> None:
    from collections import Counter

    assert cosine(Counter("ab"), Counter("ab")) == pytest.approx(1.0)
    assert cosine(Counter("ab"), Counter("cd")) == 0.0
    assert cosine(Counter(), Counter("a")) == 0.0
    assert time_weight(dt.timedelta(0)) == 1.0
    assert time_weight(dt.timedelta(days=30)) == 0.5
    assert time_weight(dt.timedelta(days=90)) == 0.5


def test_the_same_lamp_in_other_words_is_found_and_street_stalls_are_not(
    tree: SmallTree, lights: Category
) -> None:
    lamp = submit(tree.household_a2, LAMP, days_ago=1)
    stalls = submit(tree.household_a2, STALLS, category="facilities", days_ago=1)

    found = similar_open_tickets(text=LAMP_AGAIN, node=tree.household_a1)

    assert numbers(found) == [lamp.number]
    assert 0.5 < found[0].score <= 1
    assert any("3号楼" in reason and "楼道" in reason for reason in found[0].reasons)
    assert numbers(similar_open_tickets(text=STALLS, node=tree.household_a1)) == [stalls.number]


def test_a_ticket_finds_its_duplicates_but_not_itself(tree: SmallTree, lights: Category) -> None:
    first = submit(tree.household_a1, LAMP, days_ago=2)
    second = submit(tree.household_a2, LAMP_AGAIN, days_ago=1)

    with translation.override("en"):
        found = similar_open_tickets(ticket=second)

    assert numbers(found) == [first.number]
    assert "Same category" in found[0].reasons


def test_the_same_building_ranks_above_the_same_compound(tree: SmallTree, lights: Category) -> None:
    compound = Node.objects.get(code="KXL-CDHF")
    other_building = node_create(
        actor=superactor(), parent=compound, kind=NodeKind.BUILDING, code="KXL-CDHF-2", name="2号楼"
    )
    across_the_yard = submit(other_building, LAMP_AGAIN, days_ago=1)
    next_door = submit(tree.household_a2, LAMP_AGAIN, days_ago=1)

    found = similar_open_tickets(text=LAMP, node=tree.household_a1)

    assert numbers(found) == [next_door.number, across_the_yard.number]
    assert found[0].score > found[1].score


def test_other_grids_are_not_searched(tree: SmallTree, lights: Category) -> None:
    submit(tree.household_b1, LAMP_AGAIN, days_ago=1)

    assert similar_open_tickets(text=LAMP, node=tree.household_a1) == []


def test_recent_ranks_above_old_and_older_than_30_days_is_left_out(tree: SmallTree, lights: Category) -> None:
    old = submit(tree.household_a2, LAMP_AGAIN, days_ago=25)
    recent = submit(tree.household_a2, LAMP_AGAIN, days_ago=2)
    submit(tree.household_a2, LAMP_AGAIN, days_ago=31)

    found = similar_open_tickets(text=LAMP, node=tree.household_a1)

    assert numbers(found) == [recent.number, old.number]
    assert found[0].score > found[1].score


def test_same_category_adds_a_bonus(tree: SmallTree, lights: Category) -> None:
    submit(tree.household_a2, LAMP_AGAIN, days_ago=1)
    facilities = Category.objects.get(code="facilities")

    same = similar_open_tickets(text=LAMP, node=tree.household_a1, category_id=lights.pk)
    other = similar_open_tickets(text=LAMP, node=tree.household_a1, category_id=facilities.pk)

    assert same[0].score == pytest.approx(min(other[0].score + 0.15, 1.0))


def test_closed_rejected_and_merged_tickets_are_left_out(tree: SmallTree, lights: Category) -> None:
    root = superactor()
    rejected = submit(tree.household_a2, LAMP_AGAIN, days_ago=1)
    ticket_reject(actor=root, ticket_id=rejected.pk, reason="重复")
    accepted = submit(tree.household_a2, LAMP_AGAIN, days_ago=1)
    ticket_accept(actor=root, ticket_id=accepted.pk)

    assert numbers(similar_open_tickets(text=LAMP, node=tree.household_a1)) == [accepted.number]


def test_the_actor_sees_only_tickets_in_scope(tree: SmallTree, lights: Category) -> None:
    lamp = submit(tree.household_a2, LAMP_AGAIN, days_ago=1)
    worker_a = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    worker_b = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_b))

    assert numbers(similar_open_tickets(actor=worker_a, text=LAMP, node=tree.household_a1)) == [lamp.number]
    assert similar_open_tickets(actor=worker_b, text=LAMP, node=tree.household_a1) == []


def test_without_a_place_or_words_there_are_no_duplicates(tree: SmallTree, lights: Category) -> None:
    submit(tree.household_a2, LAMP_AGAIN, days_ago=1)

    assert similar_open_tickets(text=LAMP) == []
    assert similar_open_tickets(text="的了吗", node=tree.household_a1) == []


def test_one_query_for_the_place_and_one_for_the_candidates(
    tree: SmallTree, lights: Category, django_assert_num_queries: object
) -> None:
    for days in range(5):
        submit(tree.household_a2, LAMP_AGAIN, days_ago=days)

    with django_assert_num_queries(2):  # type: ignore[operator]
        found = similar_open_tickets(text=LAMP, node=tree.household_a1, limit=3)

    assert len(found) == 3
