"""Hot topics: this week's most frequent words and categories of a subtree against the same days of
last week, read from the term and dimension roll-ups (the words are counted by the worker)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.hot_topics import hot_topics, terms_from_day, topic_terms
from gongzhi.insight.models import TermRollup
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import make_category, make_world, submit

WEDNESDAY = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # Wednesday 11:00 in Shanghai
LAST_WEDNESDAY = WEDNESDAY - dt.timedelta(days=7)
LAST_THURSDAY = WEDNESDAY - dt.timedelta(days=6)  # last week, but after today's weekday
TWO_WEEKS_AGO = WEDNESDAY - dt.timedelta(days=12)

pytestmark = pytest.mark.django_db


def _at(moment: dt.datetime, world, **fields):
    with time_machine.travel(moment, tick=False):
        ticket = submit(world.tree, **fields)
        rollups_update(settle_seconds=0)
    return ticket


@pytest.fixture
def world():
    with time_machine.travel(TWO_WEEKS_AGO, tick=False):
        world = make_world()
        make_category("lamp", name="路灯", keywords="路灯")
    _at(TWO_WEEKS_AGO, world, description="路灯不亮", category="lamp")  # too old to count
    _at(LAST_WEDNESDAY, world, description="楼道路灯坏了，路灯不亮", category="lamp")
    _at(LAST_THURSDAY, world, description="楼道路灯又坏了", category="lamp")  # not the same days
    _at(WEDNESDAY - dt.timedelta(days=2), world, description="卫生间漏水")
    _at(WEDNESDAY, world, description="厨房漏水")
    _at(WEDNESDAY, world, node=world.tree.household_b1, description="3号楼路灯坏了", category="lamp")
    return world


def test_it_counts_words_and_categories_this_week_against_the_same_days_of_last_week(world) -> None:
    actor = resolve_actor(world.community_staff)
    with time_machine.travel(WEDNESDAY + dt.timedelta(hours=2), tick=False):
        topics = hot_topics(actor=actor, node=world.tree.community)
    assert (topics.week_start, topics.today) == (dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    terms = {topic.label: (topic.this_week, topic.last_week) for topic in topics.terms}
    assert terms["漏水"] == (2, 0)
    assert terms["路灯"] == (1, 1)  # once per ticket, not per mention; last Thursday not counted
    assert "3号楼" not in terms  # an address part is a place, not a topic
    assert [(t.label, t.this_week, t.last_week) for t in topics.categories] == [
        ("漏水", 2, 0),
        ("路灯", 1, 1),
    ]


def test_a_grid_sees_only_its_own_tickets(world) -> None:
    actor = resolve_actor(make_user(role=Role.GRID_CHIEF, node=world.tree.grid_b))
    with time_machine.travel(WEDNESDAY + dt.timedelta(hours=2), tick=False):
        topics = hot_topics(actor=actor, node=world.tree.grid_b)
        assert [(t.label, t.this_week, t.last_week) for t in topics.categories] == [("路灯", 1, 0)]
        with pytest.raises(NotFound):
            hot_topics(actor=actor, node=world.tree.grid_a)


def test_new_words_count_once_the_worker_has_folded_them(world, django_assert_num_queries) -> None:
    actor = resolve_actor(world.community_staff)
    with time_machine.travel(WEDNESDAY + dt.timedelta(hours=2), tick=False):
        submit(world.tree, description="阳台也漏水了")
        with django_assert_num_queries(3):  # words, categories, category names
            before = hot_topics(actor=actor, node=world.tree.community)
        rollups_update(settle_seconds=0)
        after = hot_topics(actor=actor, node=world.tree.community)
    assert {t.label: t.this_week for t in before.categories}["漏水"] == 2
    assert {t.label: t.this_week for t in after.categories}["漏水"] == 3
    assert {t.label: t.this_week for t in after.terms}["阳台"] == 1


def test_a_merged_ticket_takes_its_words_back(world) -> None:
    actor = resolve_actor(world.community_staff)
    with time_machine.travel(WEDNESDAY + dt.timedelta(hours=2), tick=False):
        duplicate = submit(world.tree, description="厨房水管漏水")
        survivor = submit(world.tree, description="厨房漏水好几天了")
        rollups_update(settle_seconds=0)
        assert {t.label: t.this_week for t in hot_topics(actor=actor, node=world.tree.community).terms}[
            "厨房"
        ] == 3
        handling.ticket_merge(actor=superactor(), ticket_id=duplicate.pk, into_id=survivor.pk)
        rollups_update(settle_seconds=0)
        terms = {t.label: t.this_week for t in hot_topics(actor=actor, node=world.tree.community).terms}
    assert terms["厨房"] == 2
    assert "水管" not in terms


def test_words_older_than_last_week_are_dropped(world) -> None:
    with time_machine.travel(WEDNESDAY + dt.timedelta(days=14), tick=False):
        rollups_update(settle_seconds=0)
        kept_from = terms_from_day(dt.date(2026, 12, 9))
    assert kept_from == dt.date(2026, 11, 30)
    assert not TermRollup.objects.filter(day__lt=kept_from).exists()


def test_topic_terms_are_words_once_each() -> None:
    assert topic_terms("3号楼2单元楼道灯不亮，楼道灯坏了") == ("楼道", "灯", "不亮", "坏了")
