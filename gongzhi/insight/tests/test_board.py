"""The public board: no login, no personal data, cached, rate limited, linked from 码上查."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.testing import superactor
from gongzhi.doorplates.services import doorplate_for
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.workflow import TicketState

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world() -> World:
    with time_machine.travel(NOW, tick=False):
        yield make_world()


def _board(client, world: World, **headers):
    return client.get(f"/board/{world.tree.community.code}/", HTTP_ACCEPT_LANGUAGE="en", **headers)


NAME, PHONE, ID_NUMBER, DOOR = "王秀英", "13912345678", "110101199003074514", "3单元502"
PERSONAL_NOTE = f"王师傅到{DOOR}更换水管，住户{NAME}（身份证{ID_NUMBER}）有问题请拨 139-1234-5678"


def _resolved_ticket(world: World, *, public_outcome: str = "") -> Ticket:
    ticket = submit(
        world.tree,
        reporter_name=NAME,
        reporter_phone="13812345678",
        description=f"我是{NAME}，{DOOR}卫生间漏水，电话{PHONE}",
    )
    world.worker_a.display_name = "周丽"
    world.worker_a.save()
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(
        actor=worker, ticket_id=ticket.pk, note=PERSONAL_NOTE, public_outcome=public_outcome
    )
    rollups_update(settle_seconds=0)
    return ticket


def _assert_no_personal_data(text: str, world: World) -> None:
    for personal in (NAME, "王师傅", PHONE, "1234-5678", "13812345678", ID_NUMBER, DOOR, "502", "101"):
        assert personal not in text, personal
    assert "worker_a" not in text and "周丽" not in text  # the grid worker who resolved it
    assert "卫生间漏水" not in text  # the resident's own words are never shown
    assert "更换水管" not in text  # nor the staff's resolution note


def test_it_shows_the_board_without_login_and_no_personal_data(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        _resolved_ticket(world)
        response = _board(client, world)
    assert response.status_code == 200
    assert "csrftoken" not in response.cookies  # the same public page for everyone
    text = response.content.decode()
    assert world.tree.community.name in text
    assert "Response rate" in text and "Satisfaction rate" in text
    assert "divided by the tickets received" in text  # the definitions are shown
    assert "100.0%" in text  # resolved 1 of 1
    assert "Last month: —" in text  # nothing was received last month
    assert world.category.name in text
    assert "春都华府 1号楼" in text  # the compound and building only
    # The note is never published: the board says what happened in a plain sentence instead.
    assert "Resolved by the grid worker in less than an hour." in text
    _assert_no_personal_data(text, world)


def test_the_text_written_for_the_board_is_shown(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        ticket = _resolved_ticket(world, public_outcome="  已更换卫生间上方的水管，\n漏水已止住。 ")
        text = _board(client, world).content.decode()
    assert "What was done:</strong> 已更换卫生间上方的水管， 漏水已止住。" in text
    ticket.refresh_from_db()
    assert ticket.public_outcome == "已更换卫生间上方的水管， 漏水已止住。"
    assert "Resolved by the grid worker" not in text


@pytest.mark.parametrize(
    ("public_outcome", "found"),
    [
        (f"已为{NAME}更换水管", "a person's name"),
        ("王师傅已更换水管", "a person's name"),
        ("网格员周丽已更换水管", "a person's name"),  # the staff's own name
        ("已更换水管，有问题请拨 139 1234 5678", "a phone number"),
        (f"已核实身份证{ID_NUMBER}", "an ID number"),
        (f"已更换{DOOR}的水管", "a door number"),
    ],
)
def test_personal_data_in_the_text_for_the_board_is_refused(
    world: World, public_outcome: str, found: str
) -> None:
    world.worker_a.display_name = "周丽"
    world.worker_a.save()
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        ticket = submit(world.tree, reporter_name=NAME)
        handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
        with pytest.raises(ValidationFailed) as refused:
            handling.ticket_resolve(
                actor=world.actor(world.worker_a),
                ticket_id=ticket.pk,
                note="已修好",
                public_outcome=public_outcome,
            )
    assert found in str(refused.value.message)
    assert refused.value.extra["fields"]["public_outcome"]
    ticket.refresh_from_db()
    assert (ticket.state, ticket.public_outcome, ticket.resolution_note) == (TicketState.ACCEPTED, "", "")


def test_a_text_for_the_board_that_holds_personal_data_is_masked_on_the_board(client, world: World) -> None:
    """Written before the check existed, or straight into the database: masked on the way out too."""
    with time_machine.travel(NOW, tick=False):
        ticket = _resolved_ticket(world)
        Ticket.objects.filter(pk=ticket.pk).update(public_outcome=PERSONAL_NOTE)
        text = _board(client, world).content.decode()
    assert "What was done:</strong> ***师傅到3***更换水管" in text
    for personal in (NAME, "王师傅", "1234-5678", ID_NUMBER, DOOR, "502"):
        assert personal not in text, personal


def test_open_and_rejected_matters_say_who_has_them_by_role(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        root = superactor()
        waiting = submit(world.tree, node=world.tree.household_b1)
        summoned = submit(world.tree)
        handling.ticket_accept(actor=root, ticket_id=summoned.pk)
        handling.ticket_whistle(
            actor=root, ticket_id=summoned.pk, department_ids=[world.department.pk], note="请王师傅到3单元502"
        )
        rejected = submit(world.tree)
        handling.ticket_reject(actor=root, ticket_id=rejected.pk, reason="王秀英家私事，不属于受理范围")
        text = _board(client, world).content.decode()
    assert waiting.state == TicketState.SUBMITTED
    assert "Waiting for the grid worker to accept it." in text
    assert f"Accepted by the grid worker; {world.department.name} summoned to help." in text
    assert "Not taken up; the reason was given to the resident." in text
    for personal in ("王师傅", "3单元502", "王秀英", "私事"):
        assert personal not in text


def test_it_is_not_found_for_an_unknown_code_or_a_grid(client, world: World) -> None:
    assert client.get("/board/no-such-code/").status_code == 404
    assert client.get(f"/board/{world.tree.grid_a.code}/").status_code == 404


def test_it_is_cached_per_community_and_language(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        first = _board(client, world).content.decode()
        assert "No matters have been sent in yet." in first
        submit(world.tree)
        assert "No matters have been sent in yet." in _board(client, world).content.decode()
        chinese = client.get(f"/board/{world.tree.community.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert world.category.name in chinese.content.decode()  # another language: computed afresh
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        assert world.category.name in _board(client, world).content.decode()


@override_settings(RATE_LIMITS={"public_read": "3/minute"})
def test_it_is_rate_limited_per_address(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        statuses = [_board(client, world).status_code for _ in range(4)]
        other = _board(client, world, REMOTE_ADDR="10.0.0.9").status_code
    assert statuses == [200, 200, 200, 429]
    assert other == 200


def test_the_lookup_page_links_to_the_board(client, world: World) -> None:
    plate = doorplate_for(world.tree.building_a)
    response = client.get(f"/d/{plate.token}/mine/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f'href="/board/{world.tree.community.code}/"' in response.content.decode()


def test_a_cached_board_costs_no_query(client, world: World, django_assert_num_queries) -> None:
    with time_machine.travel(NOW, tick=False):
        _resolved_ticket(world)
        # community, figures (this month and last), received (in the window, then all: a quiet
        # community), finished, places, departments, projects
        with django_assert_num_queries(8):
            assert _board(client, world).status_code == 200
        with django_assert_num_queries(0):
            assert _board(client, world).status_code == 200
