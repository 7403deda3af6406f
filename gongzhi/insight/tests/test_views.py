"""Insight dashboards: scope (a sibling grid is a 404), the figures shown are the selectors', and the
number of queries does not grow with the tickets."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.models import RateTarget
from gongzhi.insight.selectors import rates_for
from gongzhi.insight.services import rollups_update
from gongzhi.insight.views import percent
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_department, make_world, submit

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in Shanghai
LATER = NOW + dt.timedelta(days=2)  # past the leak's 24-hour resolution deadline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        world = make_world()
        root = superactor()
        accepted = submit(world.tree)  # grid A
        submit(world.tree, node=world.tree.household_b1)  # grid B, left waiting
        handling.ticket_accept(actor=root, ticket_id=accepted.pk)
        handling.ticket_whistle(
            actor=root, ticket_id=accepted.pk, department_ids=[world.department.pk], note="请城管到场"
        )
        rollups_update(settle_seconds=0)
    with time_machine.travel(LATER, tick=False):
        yield world


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def url(node) -> str:
    return f"/insight/nodes/{node.pk}/"


def test_home_redirects_to_the_dashboard_of_the_scope_root(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    chief = make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a)
    assert client_for(secretary).get("/insight/")["Location"] == url(world.tree.community)
    assert client_for(chief).get("/insight/")["Location"] == url(world.tree.grid_a)
    assert client_for(world.handler).get("/insight/")["Location"] == (
        f"/insight/departments/{world.department.pk}/"
    )
    assert client_for(superactor().user).get("/insight/")["Location"] == url(world.tree.district)


@pytest.mark.parametrize(
    ("role", "node_name", "allowed", "denied"),
    [
        (Role.GRID_CHIEF, "grid_a", ["grid_a"], ["grid_b", "community", "subdistrict"]),
        (
            Role.COMMUNITY_SECRETARY,
            "community",
            ["community", "grid_a", "grid_b"],
            ["subdistrict", "district"],
        ),
        (Role.SUBDISTRICT_STAFF, "subdistrict", ["subdistrict", "community", "grid_b"], ["district"]),
    ],
)
def test_a_dashboard_outside_the_scope_is_a_404(world: World, role, node_name, allowed, denied) -> None:
    client = client_for(make_user(role=role, node=getattr(world.tree, node_name)))
    for name in allowed:
        assert client.get(url(getattr(world.tree, name))).status_code == 200, name
    for name in denied:
        assert client.get(url(getattr(world.tree, name))).status_code == 404, name


def test_a_building_has_no_dashboard(world: World) -> None:
    client = client_for(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a))
    assert client.get(url(world.tree.building_a)).status_code == 404


def test_anonymous_is_sent_to_log_in(world: World) -> None:
    response = Client().get(url(world.tree.community))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_rates_shown_are_the_selectors(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    response = client_for(secretary).get(url(world.tree.community))
    assert response.status_code == 200
    html = response.content.decode()
    figures = rates_for(
        actor=resolve_actor(secretary),
        node=world.tree.community,
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 26),
    )
    assert figures.counts.received == 2
    for rate in figures.rates:
        shown = re.search(rf'data-rate="{rate.definition.id}">([^<]*)<', html)
        assert shown is not None
        expected = "—" if rate.value is None else f"{percent(rate.value)}%"
        assert shown.group(1) == expected
    assert 'data-rate="response">50.0%<' in html
    # Every rate carries its definition, as a hover and as a footnote.
    assert "Tickets accepted within their response deadline, divided by the tickets received." in html
    assert 'id="def-satisfaction"' in html


def test_the_dashboard_lists_overdue_tickets_ranking_and_whistles(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    response = client_for(secretary).get(url(world.tree.community))
    html = response.content.decode()
    context = response.context
    numbers = [ticket.number for ticket, _late in context["overdue"]]
    assert len(numbers) == 2
    assert context["overdue_total"] == 2
    # Most overdue first: the waiting ticket's response deadline (1 hour) passed before the
    # accepted one's resolution deadline (24 hours).
    deadlines = [ticket.deadline for ticket, _late in context["overdue"]]
    assert deadlines == sorted(deadlines)
    for number in numbers:
        assert f'href="/tickets/{number}/"' in html
    ranked = [row.node for row, _values in context["ranking"]]
    assert ranked == [world.tree.grid_a, world.tree.grid_b]  # neither resolved: by path
    assert f'href="{url(world.tree.grid_a)}"' in html
    assert [(row.name, row.summoned, row.reported_in) for row in context["departments"]] == [
        (world.department.name, 1, 0)
    ]
    assert f'href="/tickets/map/?node={world.tree.community.pk}"' in html
    assert 'data-chart="trend-data"' in html and 'id="trend-data"' in html
    assert 'data-chart="open-data"' in html and 'id="open-data"' in html


def test_a_chosen_period_is_compared_with_the_one_before(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    response = client_for(secretary).get(
        url(world.tree.community), {"from": "2026-11-20", "to": "2026-11-26"}
    )
    period = response.context["period"]
    assert (period.previous_start, period.previous_end) == (dt.date(2026, 11, 13), dt.date(2026, 11, 19))
    response = client_for(secretary).get(
        url(world.tree.community), {"from": "2026-11-01", "to": "2026-11-26"}
    )
    period = response.context["period"]
    assert (period.previous_start, period.previous_end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def test_a_bad_date_is_refused(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    assert client_for(secretary).get(url(world.tree.community), {"from": "yesterday"}).status_code == 422


# session + user + roles, then: node, two rate sums, the weekly series, the children, their sums,
# the open counts, the grids and two overdue listings (a grid: its compounds and buildings, and its
# open tickets by them, instead of its grids), the category names, the breakdown, last period's durations,
# the targets, two hot-topic reads, the whistles, and the inbox badge of the page head.
QUERIES = {"district": 21, "subdistrict": 21, "community": 21, "grid": 21}


@pytest.mark.parametrize("level", ["district", "subdistrict", "community", "grid"])
def test_the_query_count_does_not_grow_with_tickets(world: World, level, django_assert_num_queries) -> None:
    node = world.tree.grid_a if level == "grid" else getattr(world.tree, level)
    client = client_for(superactor().user)
    client.get(url(node))  # the session
    with django_assert_num_queries(QUERIES[level]):
        assert client.get(url(node)).status_code == 200
    with time_machine.travel(NOW, tick=False):
        for _ in range(25):  # more than the overdue list shows: each listing is counted
            submit(world.tree, description="楼道灯不亮了")
        rollups_update(settle_seconds=0)
    with django_assert_num_queries(QUERIES[level] + 1):
        response = client.get(url(node))
    assert response.context["overdue_total"] == (26 if level == "grid" else 27)
    assert len(response.context["overdue"]) == 20


def test_the_department_dashboard_is_for_its_handlers(world: World) -> None:
    page = f"/insight/departments/{world.department.pk}/"
    response = client_for(world.handler).get(page)
    assert response.status_code == 200
    assert response.context["current"].summoned == 1
    assert response.context["current"].reported_in == 0
    assert len(response.context["waiting"]) == 1
    assert (
        f'href="/tickets/{response.context["waiting"][0].whistle.ticket.number}/"'
        in response.content.decode()
    )
    other = make_department("水务局", "dept-sw")
    other_handler = make_user(role=Role.DEPARTMENT_HANDLER, organization=other)
    assert client_for(other_handler).get(page).status_code == 404
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    assert client_for(secretary).get(page).status_code == 404


def test_targets_come_from_settings(world: World, settings) -> None:
    settings.INSIGHT_TARGETS = {"response": 40}
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    cards = {
        card.definition.id: card
        for card in client_for(secretary).get(url(world.tree.community)).context["cards"]
    }
    assert (cards["response"].target, cards["response"].meets_target) == (40, True)
    assert (cards["resolution"].target, cards["resolution"].meets_target) == (90, False)
    assert cards["satisfaction"].meets_target is None  # nothing rated: no verdict


def test_the_main_navigation_leads_to_insight(world: World) -> None:
    secretary = make_user(role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    html = client_for(secretary).get(url(world.tree.community)).content.decode()
    assert '<a href="/insight/" aria-current="page">Insight</a>' in html


def test_each_level_shows_its_own_targets(world: World) -> None:
    RateTarget.objects.create(level="grid", rate="response", percent=Decimal("99"))
    client = client_for(superactor().user)
    grid = client.get(url(world.tree.grid_a)).content.decode()
    community = client.get(url(world.tree.community)).content.decode()
    assert re.search(r'data-target="response">\s*Target: 99%', grid)
    assert re.search(r'data-target="response">\s*Target: 95%', community)


def test_the_department_dashboard_shows_the_rates_of_its_tickets_and_its_report_in_times(
    world: World,
) -> None:
    response = client_for(world.handler).get(f"/insight/departments/{world.department.pk}/")
    html = response.content.decode()
    assert response.context["current"].counts.received == 1
    assert 'data-rate="response">100.0%<' in html  # the one summoned ticket was accepted at once
    assert 'data-duration="report_in"' in html
    assert 'data-chart="trend-data"' in html
    assert "From the whistle to the department&#x27;s report-in" in html  # its definition


def test_the_dashboard_shows_counts_by_dimension_durations_and_open_tickets(world: World) -> None:
    html = client_for(superactor().user).get(url(world.tree.community)).content.decode()
    for dimension in ("kind", "category", "channel", "level"):
        assert f'data-dimension="{dimension}"' in html
    assert 'data-duration="respond"' in html and 'data-duration="resolve"' in html
    assert f'data-open="{world.tree.grid_a.pk}"' in html
