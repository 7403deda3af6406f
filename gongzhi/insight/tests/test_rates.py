"""Hand-computed three rates, the roll-up worker's idempotence, scope and query counts."""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.models import DailyRollup, RollupMark, TicketFacts
from gongzhi.insight.selectors import children_ranking, rates_for, series, whistles_by_department
from gongzhi.insight.services import rollups_update
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.tickets.models import Summons
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.workflow import Level

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Shanghai
TODAY = dt.date(2026, 11, 24)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock) -> World:
    return make_world()


def roll() -> int:
    return rollups_update(settle_seconds=0).events


def rates(world: World, node=None, start=TODAY, end=TODAY):
    return rates_for(actor=superactor(), node=node or world.tree.community, start=start, end=end)


def values(figures) -> dict[str, Fraction | None]:
    return {rate.definition.id: rate.value for rate in figures.rates}


def handle(world: World, ticket, *, resolve: bool = True) -> None:
    root = superactor()
    handling.ticket_accept(actor=root, ticket_id=ticket.pk)
    if resolve:
        handling.ticket_resolve(actor=root, ticket_id=ticket.pk, note="修好了")


def test_an_empty_period_has_no_rates_not_zero(world: World) -> None:
    roll()
    figures = rates(world)
    assert figures.counts.received == 0
    assert values(figures) == {
        "response": None,
        "resolution": None,
        "resolution_on_time": None,
        "satisfaction": None,
    }


def test_hand_computed_rates_of_a_day(world: World, clock) -> None:
    first, second, third = submit(world.tree), submit(world.tree), submit(world.tree)
    submit(world.tree)  # received, never answered
    handle(world, first)
    handle(world, second)
    clock.shift(dt.timedelta(minutes=30))
    handling.ticket_accept(actor=superactor(), ticket_id=third.pk)  # on time, not resolved
    handling.ticket_rate(token=first.follow_token, rating="satisfied")
    handling.ticket_rate(token=second.follow_token, rating="basically_satisfied")
    roll()
    figures = rates(world)
    assert (figures.counts.received, figures.counts.responded_on_time, figures.counts.resolved) == (4, 3, 2)
    assert values(figures) == {
        "response": Fraction(3, 4),
        "resolution": Fraction(1, 2),
        "resolution_on_time": Fraction(1, 2),
        "satisfaction": Fraction(1),
    }


def test_all_overdue(world: World, clock) -> None:
    tickets = [submit(world.tree), submit(world.tree, node=world.tree.household_b1)]
    clock.shift(dt.timedelta(minutes=61))
    tickets_sweep()  # both escalate to the community: the response deadline was missed
    for ticket in tickets:
        handling.ticket_accept(actor=superactor(), ticket_id=ticket.pk)
    clock.shift(dt.timedelta(days=2))
    tickets_sweep()  # and the resolution deadline
    for ticket in tickets:
        handling.ticket_resolve(actor=superactor(), ticket_id=ticket.pk, note="迟了")
    roll()
    figures = rates(world)
    assert (figures.counts.received, figures.counts.responded, figures.counts.escalated) == (2, 2, 2)
    assert values(figures)["response"] == 0
    assert values(figures)["resolution"] == 1
    assert values(figures)["resolution_on_time"] == 0
    assert DailyRollup.objects.get(grid=world.tree.grid_a).level == Level.SUBDISTRICT


def test_a_reopened_ticket_counts_once_with_its_latest_outcome(world: World, clock) -> None:
    ticket = submit(world.tree)
    handle(world, ticket)
    handling.ticket_rate(token=ticket.follow_token, rating="unsatisfied")  # reopened one level up
    roll()
    figures = rates(world)
    assert (figures.counts.received, figures.counts.reopened, figures.counts.resolved) == (1, 1, 0)
    assert values(figures)["satisfaction"] == 0 and values(figures)["response"] == 1
    clock.shift(dt.timedelta(minutes=10))
    handle(world, ticket)
    handling.ticket_rate(token=ticket.follow_token, rating="satisfied")
    roll()
    figures = rates(world)
    assert (figures.counts.received, figures.counts.rated, figures.counts.satisfied) == (1, 1, 1)
    assert values(figures)["resolution"] == 1
    assert TicketFacts.objects.get().level == Level.COMMUNITY


def test_a_merged_ticket_counts_once_as_its_survivor(world: World) -> None:
    survivor, duplicate = submit(world.tree), submit(world.tree, node=world.tree.household_a2)
    roll()
    assert rates(world).counts.received == 2
    handling.ticket_merge(actor=superactor(), ticket_id=duplicate.pk, into_id=survivor.pk)
    handle(world, survivor)
    roll()
    figures = rates(world)
    assert (figures.counts.received, figures.counts.resolved) == (1, 1)
    assert values(figures)["resolution"] == 1


def test_tickets_count_on_their_local_submission_day(world: World, clock) -> None:
    clock.move_to(dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC))  # 01:30 on the 25th in Shanghai
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(days=3))
    handle(world, ticket)  # later events count on the submission day
    roll()
    assert rates(world, start=TODAY, end=TODAY).counts.received == 0
    day = dt.date(2026, 11, 25)
    assert rates(world, start=day, end=day).counts.resolved == 1
    assert rates(world, start=dt.date(2026, 11, 26), end=dt.date(2026, 11, 30)).counts.received == 0


def test_running_the_worker_again_changes_nothing_and_rebuild_agrees(world: World, clock) -> None:
    ticket = submit(world.tree)
    handle(world, ticket)
    assert roll() > 0
    before = stored()
    assert roll() == 0
    assert stored() == before == recount()
    handling.ticket_rate(token=ticket.follow_token, rating="unsatisfied")
    roll()
    incremental = stored()
    out = io.StringIO()
    with translation.override("en"):
        call_command("rebuild_insight", stdout=out)
    assert "ticket events" in out.getvalue()
    assert stored() == incremental == recount()
    assert RollupMark.objects.get().last_event_id == ticket.events.order_by("-pk").first().pk


def test_young_events_wait_for_the_next_run(world: World, clock) -> None:
    submit(world.tree)
    assert rollups_update(settle_seconds=10).events == 0
    clock.shift(dt.timedelta(seconds=10))
    assert rollups_update(settle_seconds=10).events == 1


def test_series_has_every_bucket_and_weeks_start_on_monday(world: World, clock) -> None:
    submit(world.tree)
    clock.shift(dt.timedelta(days=7))
    submit(world.tree)
    roll()
    found = series(
        actor=superactor(), node=world.tree.grid_a, start=TODAY, end=TODAY + dt.timedelta(days=8), by="week"
    )
    assert [(p.start, p.end, p.counts.received) for p in found.points] == [
        (dt.date(2026, 11, 24), dt.date(2026, 11, 29), 1),
        (dt.date(2026, 11, 30), dt.date(2026, 12, 2), 1),
    ]
    daily = series(
        actor=superactor(), node=world.tree.grid_a, start=TODAY, end=TODAY + dt.timedelta(days=7), by="day"
    )
    assert [p.counts.received for p in daily.points] == [1, 0, 0, 0, 0, 0, 0, 1]
    assert daily.points[1].rates[0].value is None


def test_children_ranking_puts_the_lagging_grid_first(world: World) -> None:
    handle(world, submit(world.tree))
    submit(world.tree, node=world.tree.household_b1)
    roll()
    ranking = children_ranking(actor=superactor(), node=world.tree.community, start=TODAY, end=TODAY)
    assert [(f.node, f.rate("resolution").value) for f in ranking] == [
        (world.tree.grid_b, 0),
        (world.tree.grid_a, 1),
    ]


def test_a_grid_chief_cannot_read_a_sibling_grid(world: World) -> None:
    submit(world.tree, node=world.tree.household_b1)
    roll()
    chief = resolve_actor(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a))
    assert rates_for(actor=chief, node=world.tree.grid_a.pk, start=TODAY, end=TODAY).counts.received == 0
    for read in (rates_for, series, children_ranking):
        with pytest.raises(NotFound):
            read(actor=chief, node=world.tree.grid_b.pk, start=TODAY, end=TODAY)
        with pytest.raises(NotFound):
            read(actor=chief, node=world.tree.community.pk, start=TODAY, end=TODAY)
    with pytest.raises(NotFound):
        rates_for(actor=chief, node=10**9, start=TODAY, end=TODAY)


def test_a_backwards_period_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed):
        rates(world, start=TODAY, end=TODAY - dt.timedelta(days=1))


def test_rates_for_costs_two_queries_whatever_the_history(world: World, django_assert_num_queries) -> None:
    for _ in range(3):
        handle(world, submit(world.tree))
    roll()
    actor = resolve_actor(world.community_staff)
    with django_assert_num_queries(2):
        rates_for(actor=actor, node=world.tree.community.pk, start=TODAY, end=TODAY)
    with django_assert_num_queries(2):
        series(actor=actor, node=world.tree.community.pk, start=TODAY, end=TODAY, by="day")
    with django_assert_num_queries(3):
        children_ranking(actor=actor, node=world.tree.community.pk, start=TODAY, end=TODAY)


def test_whistles_count_by_department_with_late_report_ins(world: World, clock) -> None:
    root, handler = superactor(), resolve_actor(world.handler)
    first, second = submit(world.tree), submit(world.tree, node=world.tree.household_b1)
    for ticket in (first, second):
        handling.ticket_accept(actor=root, ticket_id=ticket.pk)
        handling.ticket_whistle(
            actor=root, ticket_id=ticket.pk, department_ids=[world.department.pk], note="到场"
        )
    summonses = list(Summons.objects.order_by("pk"))
    handling.summons_report_in(actor=handler, summons_id=summonses[0].pk)
    clock.shift(dt.timedelta(hours=3))  # past the report-in deadline
    handling.summons_report_in(actor=handler, summons_id=summonses[1].pk)
    roll()
    (community,) = whistles_by_department(actor=root, node=world.tree.community, start=TODAY, end=TODAY)
    assert (community.name, community.summoned, community.reported_in, community.reported_late) == (
        world.department.name,
        2,
        2,
        1,
    )
    (grid_b,) = whistles_by_department(actor=root, node=world.tree.grid_b, start=TODAY, end=TODAY)
    assert (grid_b.summoned, grid_b.reported_late, grid_b.reported_on_time) == (1, 1, 0)


def test_a_grid_has_no_children_to_rank(world: World) -> None:
    assert children_ranking(actor=superactor(), node=world.tree.grid_a, start=TODAY, end=TODAY) == []


def test_the_periodic_task_folds_new_events(world: World, clock) -> None:
    from gongzhi.insight.tasks import update_rollups

    submit(world.tree)
    clock.shift(dt.timedelta(minutes=1))
    update_rollups()
    assert rates(world).counts.received == 1


def test_replaying_events_from_an_earlier_mark_changes_nothing(world: World, clock) -> None:
    root, handler = superactor(), resolve_actor(world.handler)
    ticket = submit(world.tree)
    handling.ticket_accept(actor=root, ticket_id=ticket.pk)
    handling.ticket_whistle(
        actor=root, ticket_id=ticket.pk, department_ids=[world.department.pk], note="到场"
    )
    handling.summons_report_in(actor=handler, summons_id=Summons.objects.get().pk)
    roll()
    handling.ticket_merge(actor=root, ticket_id=submit(world.tree).pk, into_id=ticket.pk)
    roll()
    counted = stored()
    events = list(ticket.events.order_by("pk").values_list("pk", flat=True))
    for mark in (0, events[1], events[-2]):
        RollupMark.objects.filter(pk=1).update(last_event_id=mark)
        assert roll() > 0
        assert stored() == counted == recount()
