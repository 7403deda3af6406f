"""/api/v1/stats: the rates and series of a node, scoped (404 outside), with their definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.models import RateTarget
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_department, make_world, submit

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        world = make_world()
        ticket = submit(world.tree)
        submit(world.tree)
        handling.ticket_accept(actor=superactor(), ticket_id=ticket.pk)
        rollups_update(settle_seconds=0)
        yield world


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_rates_of_a_grid_with_their_definitions(world: World) -> None:
    client = client_for(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a))
    response = client.get(
        "/api/v1/stats/rates", {"node": world.tree.grid_a.pk, "from": "2026-11-01", "to": "2026-11-30"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["node"]["id"] == world.tree.grid_a.pk
    assert (body["start"], body["end"]) == ("2026-11-01", "2026-11-30")
    assert body["counts"]["received"] == 2
    rates = {rate["id"]: rate for rate in body["rates"]}
    assert rates["response"]["name"] == "Response rate"
    assert (rates["response"]["numerator"], rates["response"]["denominator"]) == (1, 2)
    assert rates["response"]["value"] == "0.5000"
    assert rates["satisfaction"]["value"] is None


def test_series_by_day(world: World) -> None:
    client = client_for(world.community_staff)
    response = client.get(
        "/api/v1/stats/series",
        {"node": world.tree.community.pk, "from": "2026-11-23", "to": "2026-11-25", "by": "day"},
    )
    assert response.status_code == 200, response.content
    assert [point["counts"]["received"] for point in response.json()["points"]] == [0, 2, 0]


def test_children_ranking(world: World) -> None:
    client = client_for(world.community_staff)
    response = client.get(
        "/api/v1/stats/children",
        {"node": world.tree.community.pk, "from": "2026-11-24", "to": "2026-11-24", "rate": "response"},
    )
    assert response.status_code == 200, response.content
    assert [row["node"]["id"] for row in response.json()] == [world.tree.grid_a.pk, world.tree.grid_b.pk]


NODE_PATHS = [
    "/api/v1/stats/rates",
    "/api/v1/stats/series",
    "/api/v1/stats/children",
    "/api/v1/stats/departments",
    "/api/v1/stats/breakdown",
    "/api/v1/stats/durations",
    "/api/v1/stats/open",
    "/api/v1/stats/hot-topics",
]


@pytest.mark.parametrize("path", NODE_PATHS)
def test_a_sibling_grid_answers_404(world: World, path: str) -> None:
    client = client_for(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a))
    response = client.get(path, {"node": world.tree.grid_b.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_backwards_period_answers_422(world: World) -> None:
    client = client_for(world.community_staff)
    response = client.get(
        "/api/v1/stats/rates", {"node": world.tree.community.pk, "from": "2026-11-30", "to": "2026-11-01"}
    )
    assert response.status_code == 422


def test_anonymous_callers_are_refused(world: World) -> None:
    assert Client().get("/api/v1/stats/rates", {"node": world.tree.grid_a.pk}).status_code == 401


def test_departments_summoned(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        ticket = handling.ticket_accept(actor=superactor(), ticket_id=submit(world.tree).pk)
        handling.ticket_whistle(
            actor=superactor(), ticket_id=ticket.pk, department_ids=[world.department.pk], note="到场"
        )
        rollups_update(settle_seconds=0)
    client = client_for(world.community_staff)
    response = client.get(
        "/api/v1/stats/departments", {"node": world.tree.community.pk, "from": "2026-11-24"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "department_id": world.department.pk,
            "name": world.department.name,
            "summoned": 1,
            "reported_in": 0,
            "reported_late": 0,
        }
    ]


@pytest.mark.parametrize("path", NODE_PATHS)
def test_the_own_grid_answers(world: World, path: str) -> None:
    client = client_for(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_a))
    assert client.get(path, {"node": world.tree.grid_a.pk}).status_code == 200


def test_rates_carry_the_target_of_the_level(world: World) -> None:
    RateTarget.objects.create(level="community", rate="response", percent=Decimal("97.5"))
    client = client_for(world.community_staff)
    body = client.get("/api/v1/stats/rates", {"node": world.tree.community.pk, "from": "2026-11-24"}).json()
    targets = {rate["id"]: rate["target"] for rate in body["rates"]}
    assert targets == {
        "response": "97.5",
        "resolution": "90",
        "resolution_on_time": "85",
        "satisfaction": "90",
    }


def test_breakdown_and_durations(world: World) -> None:
    client = client_for(world.community_staff)
    response = client.get("/api/v1/stats/breakdown", {"node": world.tree.community.pk, "from": "2026-11-24"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["received"] == 2
    assert body["channel"] == [
        {"value": "doorplate", "label": "Doorplate QR code", "count": 2, "percent": "100.0"}
    ]
    assert [level["label"] for level in body["level"]] == ["Grid"]
    durations = {duration["id"]: duration for duration in body["durations"]}
    assert durations["respond"]["count"] == 1
    assert durations["respond"]["median_minutes"] == 0.5  # accepted at once: under a minute
    assert durations["resolve"] == {
        "id": "resolve",
        "name": "Time to resolve",
        "definition": durations["resolve"]["definition"],
        "count": 0,
        "median_minutes": None,
        "p90_minutes": None,
    }
    alone = client.get(
        "/api/v1/stats/durations", {"node": world.tree.community.pk, "from": "2026-11-24"}
    ).json()
    assert alone["durations"] == body["durations"]


def test_open_tickets_by_child(world: World) -> None:
    client = client_for(world.community_staff)
    body = client.get("/api/v1/stats/open", {"node": world.tree.community.pk}).json()
    assert (body["awaiting_response"], body["awaiting_resolution"], body["total"]) == (1, 1, 2)
    assert [(child["node"]["id"], child["total"]) for child in body["children"]] == [
        (world.tree.grid_a.pk, 2),
        (world.tree.grid_b.pk, 0),
    ]


def test_hot_topics(world: World) -> None:
    client = client_for(world.community_staff)
    body = client.get("/api/v1/stats/hot-topics", {"node": world.tree.community.pk}).json()
    assert body["week_start"] == "2026-11-23"
    assert {"label": "漏水", "this_week": 2, "last_week": 0} in body["terms"]


def test_a_department_reads_its_own_figures_and_no_other(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        ticket = handling.ticket_accept(actor=superactor(), ticket_id=submit(world.tree).pk)
        handling.ticket_whistle(
            actor=superactor(), ticket_id=ticket.pk, department_ids=[world.department.pk], note="到场"
        )
        rollups_update(settle_seconds=0)
    path = f"/api/v1/stats/departments/{world.department.pk}"
    response = client_for(world.handler).get(path, {"from": "2026-11-24"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["counts"]["received"], body["summoned"], body["reported_in"]) == (
        world.department.name,
        1,
        1,
        0,
    )
    assert body["report_in"]["count"] == 0 and len(body["weeks"]) == 1
    other = make_department("水务局", "dept-sw")
    assert (
        client_for(make_user(role=Role.DEPARTMENT_HANDLER, organization=other)).get(path).status_code == 404
    )
    assert client_for(world.community_staff).get(path).status_code == 404
    assert client_for(world.handler).get("/api/v1/stats/departments/999999").status_code == 404
