"""The public board: no login, no personal data, cached, rate limited, linked from 码上查."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.testing import superactor
from gongzhi.doorplates.services import doorplate_for
from gongzhi.insight.board import strip_phone_like
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_world, submit

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


def _resolved_ticket(world: World) -> None:
    ticket = submit(world.tree, reporter_name="王秀英", reporter_phone="13812345678")
    handling.ticket_accept(actor=superactor(), ticket_id=ticket.pk)
    handling.ticket_resolve(
        actor=superactor(), ticket_id=ticket.pk, note="已更换水管，有问题请拨 139-1234-5678 找师傅"
    )
    rollups_update(settle_seconds=0)


def test_it_shows_the_board_without_login_and_no_personal_data(client, world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        _resolved_ticket(world)
        response = _board(client, world)
    assert response.status_code == 200
    text = response.content.decode()
    assert world.tree.community.name in text
    assert "Response rate" in text and "Satisfaction rate" in text
    assert "divided by the tickets received" in text  # the definitions are shown
    assert "100.0%" in text  # resolved 1 of 1
    assert world.category.name in text
    assert "已更换水管" in text
    assert "春都华府 1号楼" in text  # the compound and building only
    for personal in ("王秀英", "13812345678", "1234-5678", "139-1234", "5678", "101", "root"):
        assert personal not in text, personal
    assert world.worker_a.username not in text


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


@given(
    before=st.text(alphabet="修好了水管，请联系 ", max_size=10),
    phone=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    separator=st.sampled_from(["", " ", "-"]),
    after=st.text(alphabet="谢谢。", max_size=5),
)
def test_phone_like_digits_never_survive(before: str, phone: str, separator: str, after: str) -> None:
    spaced = separator.join([phone[:3], phone[3:7], phone[7:]])
    cleaned = strip_phone_like(before + spaced + after)
    assert phone[3:7] not in cleaned
    assert cleaned.startswith(before)


def test_a_cached_board_costs_no_query(client, world: World, django_assert_num_queries) -> None:
    with time_machine.travel(NOW, tick=False):
        _resolved_ticket(world)
        with django_assert_num_queries(5):  # community, figures, tickets, places, projects
            assert _board(client, world).status_code == 200
        with django_assert_num_queries(0):
            assert _board(client, world).status_code == 200
