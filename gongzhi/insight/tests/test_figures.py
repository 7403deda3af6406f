"""The dashboard figures beyond the three rates: counts by dimension, the times to respond and to
resolve, the open tickets by child, the overdue list, a department's figures, the targets, and the
worker's upkeep (rebuilds, a moved grid)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.definitions import (
    MEDIAN,
    P90,
    bucket_minutes,
    duration_bucket,
    quantile_bucket,
)
from gongzhi.insight.models import RateTarget, RollupMark, TicketFacts
from gongzhi.insight.selectors import (
    breakdown,
    department_figures,
    durations_for,
    open_by_child,
    overdue_tickets,
    targets_for,
)
from gongzhi.insight.services import ROLLUP_VERSION, rollups_maintain, rollups_update
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.tickets.models import Summons
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_department, make_world, submit

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Shanghai
TODAY = dt.date(2026, 11, 24)

pytestmark = pytest.mark.django_db


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as moving:
        yield moving


@pytest.fixture
def world(traveller) -> World:
    return make_world()


def roll() -> None:
    rollups_update(settle_seconds=0)


# --- Durations: the histogram and its precision ---------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=60, max_value=60 * 24 * 200), min_size=1, max_size=60))
def test_a_quantile_from_the_histogram_is_within_ten_percent(seconds: list[int]) -> None:
    histogram = Counter(duration_bucket(value) for value in seconds)
    ordered = sorted(seconds)
    for fraction in (MEDIAN, P90):
        exact = ordered[max(1, math.ceil(fraction * len(ordered))) - 1] / 60
        found = bucket_minutes(quantile_bucket(histogram, fraction))  # type: ignore[arg-type]
        assert abs(found - exact) <= exact * 0.1, (fraction, exact, found)


def test_an_empty_histogram_has_no_quantile_and_short_times_are_under_a_minute() -> None:
    assert quantile_bucket({}, MEDIAN) is None
    assert duration_bucket(59) == 0 and duration_bucket(-3) == 0
    assert duration_bucket(60) == 1


def test_times_to_respond_and_to_resolve(world: World, traveller) -> None:
    root = superactor()
    quick, slow, waiting = submit(world.tree), submit(world.tree), submit(world.tree)
    traveller.shift(dt.timedelta(minutes=30))
    handling.ticket_accept(actor=root, ticket_id=quick.pk)
    traveller.shift(dt.timedelta(hours=2))
    handling.ticket_accept(actor=root, ticket_id=slow.pk)
    handling.ticket_resolve(actor=root, ticket_id=quick.pk, note="修好了")
    roll()
    found = durations_for(actor=root, node=world.tree.community, start=TODAY, end=TODAY)
    respond, resolve = found["respond"], found["resolve"]
    assert (respond.count, resolve.count) == (2, 1)  # the waiting ticket is not timed
    assert abs(respond.median - 30) <= 3  # type: ignore[operator]
    assert abs(respond.p90 - 150) <= 15  # type: ignore[operator]
    assert abs(resolve.median - 150) <= 15  # type: ignore[operator]
    grid = durations_for(actor=root, node=world.tree.grid_a, start=TODAY, end=TODAY)  # from the facts
    assert grid["respond"].histogram == respond.histogram
    assert waiting.pk


# --- Counts by dimension --------------------------------------------------------------------------


def test_counts_by_dimension_of_a_community_add_up_its_grids(world: World) -> None:
    root = superactor()
    submit(world.tree, channel="web")
    submit(world.tree, node=world.tree.household_b1)
    merged = submit(world.tree, node=world.tree.household_b1)
    survivor = submit(world.tree, node=world.tree.household_b1, channel="web")
    handling.ticket_merge(actor=root, ticket_id=merged.pk, into_id=survivor.pk)
    roll()
    community = breakdown(actor=root, node=world.tree.community, start=TODAY, end=TODAY)
    assert community.received == 3  # the merged ticket does not count
    channels = {share.value: share.count for share in community.dimensions["channel"]}
    assert channels == {"doorplate": 1, "web": 2}
    assert [(s.label, s.count, s.percent) for s in community.dimensions["category"]] == [
        (world.category.name, 3, Decimal("100.0"))
    ]
    sums: dict[str, Counter[str]] = {}
    for grid in (world.tree.grid_a, world.tree.grid_b):  # grids: read from their own facts
        for dimension, shares in breakdown(actor=root, node=grid, start=TODAY, end=TODAY).dimensions.items():
            sums.setdefault(dimension, Counter()).update({s.value: s.count for s in shares})
    for dimension, shares in community.dimensions.items():
        assert {s.value: s.count for s in shares} == dict(sums[dimension]), dimension


# --- Open now, overdue ----------------------------------------------------------------------------


def test_open_tickets_by_child_on_every_level(world: World) -> None:
    root = superactor()
    accepted = submit(world.tree)
    submit(world.tree)
    submit(world.tree, node=world.tree.household_b1)
    done = submit(world.tree, node=world.tree.household_b1)
    handling.ticket_accept(actor=root, ticket_id=accepted.pk)
    handling.ticket_accept(actor=root, ticket_id=done.pk)
    handling.ticket_resolve(actor=root, ticket_id=done.pk, note="修好了")
    roll()
    community = open_by_child(actor=root, node=world.tree.community)
    assert (community.total.awaiting_response, community.total.awaiting_resolution) == (2, 1)
    assert [(row.node, row.awaiting_response, row.awaiting_resolution) for row in community.children] == [
        (world.tree.grid_a, 1, 1),
        (world.tree.grid_b, 1, 0),
    ]
    district = open_by_child(actor=root, node=world.tree.district)
    assert [(row.node, row.total) for row in district.children] == [(world.tree.subdistrict, 3)]
    grid = open_by_child(actor=root, node=world.tree.grid_a)  # by compound, from the grid's tickets
    assert [(row.node.name, row.awaiting_response, row.awaiting_resolution) for row in grid.children] == [
        ("春都华府", 1, 1)
    ]


def test_the_overdue_list_is_most_overdue_first_and_only_the_subtree(world: World, traveller) -> None:
    root = superactor()
    first = submit(world.tree)
    traveller.shift(dt.timedelta(minutes=10))
    second = submit(world.tree)
    submit(world.tree, node=world.tree.household_b1)  # grid B
    handling.ticket_accept(actor=root, ticket_id=second.pk)
    traveller.shift(dt.timedelta(days=3))
    found = overdue_tickets(actor=root, node=world.tree.grid_a)
    assert [ticket.pk for ticket in found.tickets] == [first.pk, second.pk]  # response due first
    assert found.total == 2
    assert overdue_tickets(actor=root, node=world.tree.community, limit=1).total == 3
    chief = resolve_actor(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_b))
    with pytest.raises(NotFound):
        overdue_tickets(actor=chief, node=world.tree.grid_a)


# --- Departments ----------------------------------------------------------------------------------


def test_a_department_sees_the_rates_of_the_tickets_it_was_summoned_on(world: World, traveller) -> None:
    root = superactor()
    handler = resolve_actor(world.handler)
    summoned = handling.ticket_accept(actor=root, ticket_id=submit(world.tree).pk)
    other = handling.ticket_accept(actor=root, ticket_id=submit(world.tree).pk)
    handling.ticket_whistle(
        actor=root, ticket_id=summoned.pk, department_ids=[world.department.pk], note="到场"
    )
    traveller.shift(dt.timedelta(minutes=40))
    summons = Summons.objects.get(whistle__ticket=summoned)
    handling.summons_report_in(actor=handler, summons_id=summons.pk)
    handling.summons_record_action(actor=handler, summons_id=summons.pk, note="已清理")
    handling.whistle_confirm(actor=root, whistle_id=summons.whistle_id, note="确认办结")
    handling.ticket_resolve(actor=root, ticket_id=other.pk, note="修好了")
    roll()
    found = department_figures(actor=handler, organization=world.department.pk, start=TODAY, end=TODAY)
    assert (found.counts.received, found.counts.resolved, found.summoned, found.reported_in) == (1, 1, 1, 1)
    assert found.rate("resolution").value == Fraction(1)
    assert found.report_in is not None and abs(found.report_in.median - 40) <= 4  # type: ignore[operator]
    stranger = resolve_actor(
        make_user(role=Role.DEPARTMENT_HANDLER, organization=make_department("水务局", "sw"))
    )
    with pytest.raises(NotFound):
        department_figures(actor=stranger, organization=world.department.pk, start=TODAY, end=TODAY)


# --- Targets --------------------------------------------------------------------------------------


def test_targets_per_level_from_defaults_settings_and_the_back_office(world: World, settings) -> None:
    assert targets_for("grid")["response"] == Decimal(95)
    assert targets_for("district")["resolution"] == Decimal(85)
    settings.INSIGHT_TARGETS = {"satisfaction": 80, "district": {"response": 90}}
    RateTarget.objects.create(level="grid", rate="response", percent=Decimal("97.5"))
    assert targets_for("grid")["response"] == Decimal("97.5")
    assert targets_for("grid")["satisfaction"] == Decimal(80)
    assert targets_for("district")["response"] == Decimal(90)
    assert targets_for("community")["response"] == Decimal(95)


# --- Upkeep ---------------------------------------------------------------------------------------


def test_the_worker_rebuilds_roll_ups_of_an_older_shape_once(world: World) -> None:
    submit(world.tree)
    roll()
    RollupMark.objects.filter(pk=1).update(version=ROLLUP_VERSION - 1)
    TicketFacts.objects.all().delete()  # as an older shape would have left them: not these facts
    rollups_maintain()
    mark = RollupMark.objects.get(pk=1)
    assert (mark.version, mark.rebuild_id) == (ROLLUP_VERSION, "")
    assert stored() == recount()


def test_a_rebuild_that_stopped_is_started_again_and_a_running_one_is_left_alone(
    world: World, traveller
) -> None:
    submit(world.tree)
    RollupMark.objects.update_or_create(
        pk=1, defaults={"rebuild_id": "running", "rebuild_heartbeat": NOW, "version": ROLLUP_VERSION}
    )
    assert rollups_maintain().events == 0  # another rebuild is at work: the worker waits
    assert not TicketFacts.objects.exists()
    traveller.shift(dt.timedelta(hours=1))  # its heart stopped beating
    rollups_maintain()
    assert RollupMark.objects.get(pk=1).rebuild_id == ""
    assert stored() == recount()


def test_awkward_values_go_through_the_set_wise_writes_unchanged(world: World) -> None:
    from gongzhi.insight.models import TermRollup
    from gongzhi.insight.upsert import add_deltas

    awkward = ['a"b', "c\\d", "{e}", "f,g", "NULL", "", "水 管"]
    keys = ("node_id", "day", "term")
    add_deltas(TermRollup, keys, ("count",), {(world.tree.grid_a.pk, TODAY, term): [2] for term in awkward})
    add_deltas(TermRollup, keys, ("count",), {(world.tree.grid_a.pk, TODAY, term): [-1] for term in awkward})
    assert dict(TermRollup.objects.values_list("term", "count")) == dict.fromkeys(awkward, 1)
