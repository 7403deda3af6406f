"""Hot topics: this week's most frequent words and categories of a subtree, against last week."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound
from gongzhi.core.testing import make_user
from gongzhi.insight.hot_topics import hot_topics
from gongzhi.tickets.tests.factories import make_category, make_world, submit

MONDAY = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
LAST_WEEK = MONDAY - dt.timedelta(days=5)
TWO_WEEKS_AGO = MONDAY - dt.timedelta(days=10)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    with time_machine.travel(TWO_WEEKS_AGO, tick=False):
        world = make_world()
        make_category("lamp", name="路灯", keywords="路灯")
        submit(world.tree, description="路灯不亮", category="lamp")  # too old to count
    with time_machine.travel(LAST_WEEK, tick=False):
        submit(world.tree, description="楼道路灯坏了，路灯不亮", category="lamp")
    with time_machine.travel(MONDAY, tick=False):
        submit(world.tree, description="卫生间漏水")
        submit(world.tree, description="厨房漏水")
        submit(world.tree, node=world.tree.household_b1, description="路灯坏了", category="lamp")
    return world


def test_it_counts_words_and_categories_this_week_against_last(world) -> None:
    actor = resolve_actor(world.community_staff)
    with time_machine.travel(MONDAY + dt.timedelta(hours=2), tick=False):
        topics = hot_topics(actor=actor, node=world.tree.community)
    assert topics.week_start == dt.date(2026, 11, 23)
    terms = {topic.label: (topic.this_week, topic.last_week) for topic in topics.terms}
    assert terms["漏水"] == (2, 0)
    assert terms["路灯"] == (1, 1)  # counted once per ticket, not per mention
    assert [(t.label, t.this_week, t.last_week) for t in topics.categories] == [
        ("漏水", 2, 0),
        ("路灯", 1, 1),
    ]


def test_a_grid_sees_only_its_own_tickets(world) -> None:
    actor = resolve_actor(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_b))
    with time_machine.travel(MONDAY + dt.timedelta(hours=2), tick=False):
        topics = hot_topics(actor=actor, node=world.tree.grid_b)
        assert [(t.label, t.this_week, t.last_week) for t in topics.categories] == [("路灯", 1, 0)]
        with pytest.raises(NotFound):
            hot_topics(actor=actor, node=world.tree.grid_a)


def test_it_is_cached_for_ten_minutes(world, django_assert_num_queries) -> None:
    actor = resolve_actor(world.community_staff)
    with time_machine.travel(MONDAY + dt.timedelta(hours=2), tick=False):
        first = hot_topics(actor=actor, node=world.tree.community)
        submit(world.tree, description="阳台也漏水了")
        with django_assert_num_queries(0):
            assert hot_topics(actor=actor, node=world.tree.community) == first
    with time_machine.travel(MONDAY + dt.timedelta(hours=2, minutes=11), tick=False):
        again = hot_topics(actor=actor, node=world.tree.community)
    assert {t.label: t.this_week for t in again.categories}["漏水"] == 3
